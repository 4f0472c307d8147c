#!/usr/bin/env python3
"""restart.py — fault (b): the bridge is killed (SIGKILL, no shutdown at all)
and restarted on the same ports with the same SQLite store.

  1. A meeting in the second session: rc01 live (speaking), rc02 live and
     chair-muted, rc03 and rc04 queued and rc04 moved first by the chair, rc05 cut ("barred")
     with a reason, rc06 listening. The clients are fb-fault-client: real
     WebRTC participants that reconnect like the delegate page (1, 2, 4 … s
     with ±25 % jitter, same token, new offer).
  2. SIGKILL, then the same command again at once (what a supervisor does).
  3. A new chair connection must find the state as it was: session, mode,
     rc05 barred with its reason, rc02 chair-muted, rc01 holding the floor,
     the queue in the same order — before the clients are back, and again after.
     Every client must hear audio again within 5 s of the restart (from the
     new process's start to the client's first downlink packet).
  4. Again in webcast mode: the mode survives, the bar survives, clients back.
  5. The audit log has every chair action from before the kills.

Runs on loopback (ctest runs it in a private network namespace: tests/e2e/
netns.sh); about 30 s. Exit 0 only if every check passed.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BACK_S = 5.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    rep = fbtest.Report("restart")
    work = tempfile.mkdtemp(prefix="fbfault-restart.")
    sig, media = fbtest.free_port(), fbtest.free_port(fbtest.socket.SOCK_DGRAM)
    br = fbtest.Bridge(fbtest.tool(REPO, "floorbridge"), work, REPO, meeting="faults",
                       sig_port=sig, media_port=media)
    secret = os.path.join(work, "secret")
    with open(secret, "w") as f:
        f.write(br.secret)
    events = os.path.join(work, "clients.jsonl")
    clients = None
    try:
        br.start()
        print(f"restart: bridge on 127.0.0.1:{sig} (media {media}), store {br.db}", flush=True)
        chair = fbtest.Chair(br)
        chair.send("set_session", index=1)
        chair.until(lambda c: c.session == 1, 5)
        clients = subprocess.Popen([fbtest.tool(REPO, "fb-fault-client"), "--port", str(sig),
                                    "--secret-file", secret, "--meeting", "faults", "-n", "6",
                                    "--prefix", "rc", "--speakers", "2", "--request", "2",
                                    "--duration-s", "120", "--out", events])
        ids = [f"rc{i:02d}" for i in range(1, 7)]
        ok = chair.until(lambda c: all((c.roster.get(d) or {}).get("connected") for d in ids)
                         and sorted(c.queue) == ["rc03", "rc04"], 15)
        rep.check("6 clients joined, rc03 and rc04 queued", ok, f"queue {chair.queue}")
        chair.send("queue_move", delegate="rc04", position=1)  # the two asked at the same moment
        queue = ["rc04", "rc03"]
        chair.send("grant", delegate="rc01")
        chair.send("grant", delegate="rc02")
        chair.until(lambda c: c.state("rc02")[0] == "live", 5)
        chair.send("mute", delegate="rc02", on=True)
        chair.send("cut", delegate="rc05", reason="restart test: poor audio")
        want = {"rc01": ("live", False, ""), "rc02": ("muted", True, ""),
                "rc05": ("barred", False, "restart test: poor audio")}

        def as_wanted(c, connected=None):
            for d, (st, muted, reason) in want.items():
                s, conn, cm, br_ = c.state(d)
                if s != st or bool(cm) != muted or (br_ or "") != reason:
                    return False
                if connected is not None and bool(conn) != connected:
                    return False
            return c.queue == queue and c.session == 1
        ok = chair.until(as_wanted, 5)
        rep.check("state set before the kill", ok, {d: chair.state(d) for d in want})
        fa = [e for e in fbtest.read_events(events) if e["ev"] == "first_audio"]
        t_wait = time.monotonic() + 10
        while len({e["client"] for e in fa}) < 6 and time.monotonic() < t_wait:
            time.sleep(0.2)
            fa = [e for e in fbtest.read_events(events) if e["ev"] == "first_audio"]
        rep.check("every client hears audio before the kill", len({e["client"] for e in fa}) == 6,
                  f"{len({e['client'] for e in fa})} of 6")
        chair.pump(1.0)  # let the store catch up with the last changes
        audit_before = fbtest.audit_rows(br.db, "faults")

        for cycle, mode in ((1, "interactive"), (2, "webcast")):
            if mode == "webcast":
                chair.send("set_mode", mode="webcast")
                rep.check("cycle 2: switched to webcast", chair.until(lambda c: c.mode == "webcast", 5),
                          chair.mode)
                want = {"rc05": ("barred", False, "restart test: poor audio")}
                chair.pump(1.0)
            chair.close()
            t_kill = time.monotonic()
            br.kill(signal.SIGKILL)
            t_restart = time.monotonic()
            br.start()
            print(f"restart: cycle {cycle}: killed, restarted (ready in "
                  f"{(br.t_ready - t_restart) * 1000:.0f} ms)", flush=True)
            chair = fbtest.Chair(br)
            t_chair = time.monotonic()

            def restored(c):
                if c.mode != mode or c.session != 1:
                    return False
                for d, (st, muted, reason) in want.items():
                    s, conn, cm, br_ = c.state(d)
                    if s != st or bool(cm) != muted or (br_ or "") != reason:
                        return False
                return mode == "webcast" or c.queue == queue
            ok = chair.until(restored, 3)
            rep.check(f"cycle {cycle}: state restored at once ({mode})", ok,
                      f"session {chair.session} {chair.mode}, queue {chair.queue}, "
                      + ", ".join(f"{d} {chair.state(d)[0]}{' chair-muted' if chair.state(d)[2] else ''}"
                                  for d in want) + f" ({(time.monotonic() - t_chair) * 1000:.0f} ms)")
            # clients back: first audio after the restart
            deadline = t_restart + BACK_S + 10
            back = {}
            while time.monotonic() < deadline and len(back) < 6:
                for e in fbtest.read_events(events):
                    if e["ev"] == "first_audio" and e["t"] > t_restart and e["client"] not in back:
                        back[e["client"]] = e["t"] - t_restart
                time.sleep(0.1)
            worst = max(back.values()) if back else None
            rep.check(f"cycle {cycle}: every client hears audio again within {BACK_S:.0f} s of the restart",
                      len(back) == 6 and worst <= BACK_S,
                      f"{len(back)} of 6 back; " + ", ".join(f"{d} {t:.2f} s" for d, t in sorted(back.items())))
            ok = chair.until(lambda c: restored(c) and all((c.roster.get(d) or {}).get("connected")
                                                           for d in ids), 5)
            rep.check(f"cycle {cycle}: state still right with everyone back", ok,
                      ", ".join(f"{d} {chair.state(d)[0]}{'' if chair.state(d)[1] else ' (away)'}"
                                for d in ids) + f"; queue {chair.queue}")
            lost = [e for e in fbtest.read_events(events) if e["ev"] == "lost" and e["t"] > t_kill]
            if lost:
                rep.info(f"cycle {cycle}: clients noticed the kill after (ms)",
                         sorted(round((e["t"] - t_kill) * 1000) for e in lost
                                if e["t"] < t_restart + BACK_S)[:6])

        rows = fbtest.audit_rows(br.db, "faults")
        acts = {(r[1], r[2], r[3]) for r in rows}
        need = [("fchair", "set_session", ""), ("fchair", "queue_move", "rc04"),
                ("fchair", "grant", "rc01"), ("fchair", "grant", "rc02"),
                ("fchair", "mute", "rc02"), ("fchair", "cut", "rc05"), ("fchair", "set_mode", "")]
        missing = [n for n in need if n not in acts]
        rep.check("audit: every chair action before the kills is in the log", not missing
                  and len(rows) >= len(audit_before),
                  f"{len(rows)} rows ({len(audit_before)} before the first kill)"
                  + (f"; missing {missing}" if missing else ""))
        rep.check("the bridge is healthy at the end", br.get("/healthz")[0] == 200, "healthz")
    except Exception as e:  # a broken run is a failed run, with the reason
        rep.check("the test ran to the end", False, repr(e))
    finally:
        if clients:
            clients.terminate()  # gracefully: each writes its "end" line
            clients.wait()
        rc = fbtest.end_run("restart", rep, br, work, a.keep)
    return rc


if __name__ == "__main__":
    sys.exit(main())
