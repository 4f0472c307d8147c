#!/usr/bin/env python3
"""vanish.py — fault (a): participants disappear without a word.

Real WebRTC participants (floorbridge-load: s00000 on the floor, d00001,
d00002 listening, and the load tool's own chair) against a bridge with its
default consent timeout (30 s), while three other participants (fb-fault-
client keep01 speaking, keep02, keep03) carry on, and a chair watches:

  A. kill -9 of the load tool: the kernel closes its sockets, so the bridge
     sees the WebSockets end: the three must be gone at once (a few s): off
     the floor, out of the media path.
  B. the load tool is frozen (SIGSTOP: a suspended laptop, a hung browser),
     then killed with SIGKILL while frozen: its TCP connections stay open (the
     kernel keeps them), its ICE consent checks stop. Within the consent
     timeout (+5 s) each of the three must be removed, the chair told
     (participant_lost naming them) and the removal audited (actor auto).
  Throughout: the others keep their audio (no gap over 200 ms, no reconnect),
  keep01 keeps the floor, /healthz stays 200.

(test_security covers a client that never completes ICE; this is the same
promise with real clients that had audio.) Runs on loopback; ~50 s.
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
VICTIMS = ["s00000", "d00001", "d00002"]
KEEP = ["keep01", "keep02", "keep03"]


def media_participants(br):
    m = br.metrics() or {}
    return int(sum(v for k, v in m.items() if k.startswith("floorbridge_media_participants")))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--consent-s", type=int, default=30, help="[webrtc] consent_timeout_s (default 30)")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    rep = fbtest.Report("vanish")
    work = tempfile.mkdtemp(prefix="fbfault-vanish.")
    br = fbtest.Bridge(fbtest.tool(REPO, "floorbridge"), work, REPO, meeting="faults",
                       extra={"webrtc.consent_timeout_s": a.consent_s})
    secret = os.path.join(work, "secret")
    with open(secret, "w") as f:
        f.write(br.secret)
    procs = []
    health = []

    def victims():
        p = subprocess.Popen([fbtest.tool(REPO, "floorbridge-load"), "--url",
                              f"ws://127.0.0.1:{br.port}/ws", "--secret-file", secret, "--meeting",
                              "faults", "-n", "3", "-s", "1", "--pool", "1", "--rotate-s", "0",
                              "--floor", "chair", "--duration-s", "300", "--join-timeout-s", "10"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(p)
        return p

    def victims_in(c):
        return all((c.roster.get(d) or {}).get("connected") for d in VICTIMS) and \
            c.state("s00000")[0] == "live"

    def victims_gone(c):
        return all(not (c.roster.get(d) or {}).get("connected") and c.state(d)[0] not in ("live", "muted")
                   for d in VICTIMS)

    try:
        br.start()
        print(f"vanish: bridge on 127.0.0.1:{br.port}, consent timeout {a.consent_s} s", flush=True)
        chair = fbtest.Chair(br)
        events = os.path.join(work, "keep.jsonl")
        keep = subprocess.Popen([fbtest.tool(REPO, "fb-fault-client"), "--port", str(br.port),
                                 "--secret-file", secret, "--meeting", "faults", "-n", "3",
                                 "--prefix", "keep", "--speakers", "1", "--duration-s", "600",
                                 "--gap-ms", "200", "--out", events])
        procs.append(keep)
        ok = chair.until(lambda c: all((c.roster.get(d) or {}).get("connected") for d in KEEP), 10)
        chair.send("grant", delegate="keep01")
        ok = ok and chair.until(lambda c: c.state("keep01")[0] == "live", 5)
        rep.check("the others joined, keep01 on the floor", ok, {d: chair.state(d)[:2] for d in KEEP})
        m_base = media_participants(br)

        # ---- A: kill -9, the sockets close
        p = victims()
        ok = chair.until(victims_in, 15)
        chair.pump(2.0)
        m_in = media_participants(br)
        rep.check("A: three load-tool participants in, s00000 on the floor", ok and m_in == m_base + 3,
                  f"{ {d: chair.state(d)[:2] for d in VICTIMS} }, media participants {m_base} -> {m_in}")
        t0 = time.monotonic()
        p.send_signal(signal.SIGKILL)
        p.wait()
        ok = chair.until(victims_gone, 10)
        dt = time.monotonic() - t0
        t1 = time.monotonic() + 5
        while media_participants(br) != m_base and time.monotonic() < t1:
            time.sleep(0.1)
        m_after = media_participants(br)
        rep.check("A: kill -9: all three gone from the floor and the roster within 5 s", ok and dt <= 5,
                  f"{dt:.2f} s")
        rep.check("A: kill -9: out of the media path", m_after == m_base, f"media participants {m_after}")
        lost_a = [e for e in chair.events if e.get("event") == "participant_lost" and e["t"] >= t0]
        rep.info("A: participant_lost events (none needed: the sockets closed)", len(lost_a))

        # ---- B: frozen, then SIGKILL while frozen: consent is what notices
        p = victims()
        ok = chair.until(victims_in, 15)
        chair.pump(2.0)
        rep.check("B: three load-tool participants in again, s00000 on the floor", ok,
                  {d: chair.state(d)[:2] for d in VICTIMS})
        audit0 = len(fbtest.audit_rows(br.db, "faults"))
        t0 = time.monotonic()
        p.send_signal(signal.SIGSTOP)
        limit = a.consent_s + 5
        told = {}
        end = t0 + limit + 5
        while time.monotonic() < end and len(told) < 3:
            chair.pump(0.5)
            for e in chair.events:
                if e.get("event") == "participant_lost" and e["t"] >= t0:
                    for d in VICTIMS:
                        if f"({d})" in e.get("detail", "") and d not in told:
                            told[d] = e["t"] - t0
            st, _ = br.get("/healthz")
            health.append(st)
        p.send_signal(signal.SIGKILL)
        p.send_signal(signal.SIGCONT)
        p.wait()
        rep.check(f"B: the chair told for each (participant_lost) within the consent timeout + 5 s "
                  f"({limit} s)", len(told) == 3 and max(told.values()) <= limit,
                  ", ".join(f"{d} {t:.1f} s" for d, t in sorted(told.items())) or "none")
        ok = chair.until(victims_gone, 3)
        rep.check("B: all three off the floor and shown away", ok,
                  {d: chair.state(d)[:2] for d in VICTIMS})
        t1 = time.monotonic() + 5
        while media_participants(br) != m_base and time.monotonic() < t1:
            time.sleep(0.1)
        rep.check("B: out of the media path", media_participants(br) == m_base,
                  f"media participants {media_participants(br)} (the others: {m_base})")
        chair.pump(1.0)
        rows = fbtest.audit_rows(br.db, "faults")[audit0:]
        lost_rows = {r[3] for r in rows if r[1] == "auto" and r[2] in ("consent_lost", "dtls_failed")}
        rep.check("B: each removal audited (actor auto, consent_lost)", set(VICTIMS) <= lost_rows,
                  sorted(lost_rows))
        ev = [e for e in chair.events if e.get("event") == "participant_lost" and e["t"] >= t0]
        if ev:
            rep.info("B: what the chair read", ev[0].get("detail"))

        # ---- the others
        chair.pump(0.5)
        rep.check("keep01 kept the floor", chair.state("keep01")[0] == "live", chair.state("keep01")[:2])
        keep.terminate()
        keep.wait()
        kev = fbtest.read_events(events)
        ends = {e["client"]: e for e in kev if e["ev"] == "end"}
        retries = [e for e in kev if e["ev"] == "retry"]
        worst = max((e.get("max_gap_ms", 0) for e in ends.values()), default=None)
        rep.check("the others never lost their connection", len(ends) == 3 and not retries,
                  f"{len(retries)} reconnects; {len(ends)} clients reported")
        rep.check("the others' audio: no gap over 200 ms", worst is not None and worst <= 200
                  and all(e.get("audio") == 1 for e in ends.values()),
                  f"max gap {worst} ms")
        rep.check("/healthz 200 throughout B", health and all(s == 200 for s in health),
                  f"{sum(1 for s in health if s == 200)}/{len(health)}")
        m = br.metrics() or {}
        rep.info("missed ticks (whole run)", m.get("floorbridge_mixer_missed_ticks_total"))
    except Exception as e:
        rep.check("the test ran to the end", False, repr(e))
    finally:
        rc = fbtest.end_run("vanish", rep, br, work, a.keep, procs)
    return rc


if __name__ == "__main__":
    sys.exit(main())
