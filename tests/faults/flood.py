#!/usr/bin/env python3
"""flood.py — fault (d): junk and connection floods while a meeting goes on.

A meeting of real WebRTC participants (floorbridge-load: 5 delegates, one
speaking, its chair) from 127.0.0.1, and a chair, while for --attack-s
seconds (20):
  - fb-junk-flood throws junk UDP at the media port from 127.0.0.2: random
    bytes, fake RTP, STUN Binding requests with bogus integrity, DTLS
    ClientHello records, RTCP — --pps (20000) datagrams a second over 16
    source ports;
  - 300 WebSocket upgrades from 127.0.0.2 (left open);
  - 300 slowloris connections from 127.0.0.3: an HTTP request line and a
    header, then one more byte every 2 s, never finished.
Checks:
  - the mixer: no missed tick and tick p99 <= 20 ms over the attack;
  - the real participants: every join, no downlink gap over 200 ms, markers
    heard (floorbridge-load --assert), and at the bridge (fb-flowgap, kernel
    timestamps, when run as root) no gap over 200 ms in their streams;
  - per-IP limit: exactly [signalling] max_connections_per_ip (50) of the 300
    upgrades accepted, the rest refused;
  - the junk: counted and dropped, nothing sent back to its sources;
  - during the attack a new delegate joins in < 2 s, the chair's ping is
    answered in < 500 ms, /healthz is 200; the bridge closes the slowloris
    connections by itself (reported: after how long).
Runs on loopback (127.0.0.2/.3 are loopback addresses too); ~45 s.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def ws_flood(port, n, src, out):
    """n WebSocket upgrades from src, kept open; out: accepted, refused, socks."""
    for _ in range(n):
        try:
            w = fbtest.WS("127.0.0.1", port, timeout=3, source=src)
            out["socks"].append(w)
            out["accepted"] += 1
        except fbtest.Closed:
            out["refused"] += 1
        except OSError as e:
            out["errors"] += 1
            out["why"] = str(e)


def slowloris(port, n, src, seconds, out):
    socks = []
    for _ in range(n):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=2, source_address=(src, 0))
            s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            s.setblocking(False)
            socks.append([s, time.monotonic(), None])
        except OSError as e:
            out["errors"] += 1
            out["why"] = str(e)
    out["opened"] = len(socks)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for rec in socks:
            s, t0, closed = rec
            if closed is not None:
                continue
            try:
                if s.recv(4096) == b"":
                    rec[2] = time.monotonic() - t0
                    continue
            except BlockingIOError:
                pass
            except OSError:
                rec[2] = time.monotonic() - t0
                continue
            try:
                s.send(b"a")
            except OSError:
                rec[2] = time.monotonic() - t0
        time.sleep(2)
    closed = [r[2] for r in socks if r[2] is not None]
    out["closed_by_bridge"] = len(closed)
    out["closed_after_s"] = (round(min(closed), 1), round(max(closed), 1)) if closed else None
    for s, _, _ in socks:
        s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--attack-s", type=float, default=20)
    ap.add_argument("--pps", type=float, default=20000)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    rep = fbtest.Report("flood")
    work = tempfile.mkdtemp(prefix="fbfault-flood.")
    media = fbtest.free_port(socket.SOCK_DGRAM)
    br = fbtest.Bridge(fbtest.tool(REPO, "floorbridge"), work, REPO, meeting="faults",
                       media_port=media)
    secret = os.path.join(work, "secret")
    with open(secret, "w") as f:
        f.write(br.secret)
    procs = []
    try:
        br.start()
        print(f"flood: bridge on 127.0.0.1:{br.port}, media {media}", flush=True)
        root = os.geteuid() == 0
        gap = None
        if root:
            gap = subprocess.Popen([fbtest.tool(REPO, "fb-flowgap"), "--if", "lo", "--src-port",
                                    str(media), "--gap-ms", "200", "--out",
                                    os.path.join(work, "flowgap.json"), "--max-s", "300"])
            procs.append(gap)
        chair = fbtest.Chair(br)
        total = a.attack_s + 20
        load_json = os.path.join(work, "load.json")
        load = subprocess.Popen([fbtest.tool(REPO, "floorbridge-load"), "--url",
                                 f"ws://127.0.0.1:{br.port}/ws", "--secret-file", secret,
                                 "--meeting", "faults", "-n", "5", "-s", "1", "--pool", "1",
                                 "--rotate-s", "0", "--floor", "chair", "--decode-pct", "100",
                                 "--duration-s", str(total), "--settle-s", "1", "--assert",
                                 "--assert-gap-ms", "200", "--bridge-pid", str(br.pid),
                                 "--control", br.ctl, "--json", load_json],
                                stdout=open(os.path.join(work, "load.out"), "w"),
                                stderr=subprocess.STDOUT)
        procs.append(load)
        ok = chair.until(lambda c: c.state("s00000")[0] == "live" and sum(
            1 for p in c.roster.values() if p.get("connected") and p.get("role") == "delegate") >= 5, 20)
        rep.check("the meeting: 5 real participants in, s00000 on the floor", ok,
                  f"{sum(1 for p in chair.roster.values() if p.get('connected'))} connected")
        time.sleep(3)  # the load tool's window opens after its joins and settle
        m0 = br.metrics() or {}
        t0 = time.monotonic()

        junk = subprocess.Popen([fbtest.tool(REPO, "fb-junk-flood"), "--target", f"127.0.0.1:{media}",
                                 "--bind", "127.0.0.2", "--seconds", str(a.attack_s), "--pps",
                                 str(a.pps), "--sockets", "16"], stdout=subprocess.PIPE, text=True)
        procs.append(junk)
        wsf = {"accepted": 0, "refused": 0, "errors": 0, "socks": []}
        slow = {"errors": 0}
        th = [threading.Thread(target=ws_flood, args=(br.port, 300, "127.0.0.2", wsf)),
              threading.Thread(target=slowloris, args=(br.port, 300, "127.0.0.3", a.attack_s + 5, slow))]
        for t in th:
            t.start()
        # while it lasts: a newcomer joins, the chair's pings, /healthz
        pings, health, join_ms = [], [], None
        time.sleep(min(5, a.attack_s / 3))
        try:
            t = time.monotonic()
            w, _ = br.join("newcomer", timeout=5)
            join_ms = (time.monotonic() - t) * 1000
            w.close()
        except (fbtest.Closed, RuntimeError, OSError) as e:
            join_ms = None
            rep.info("newcomer join failed", repr(e))
        while time.monotonic() < t0 + a.attack_s:
            pings.append(chair.ping_ms(3))
            health.append(br.get("/healthz", timeout=2)[0])
            time.sleep(0.5)
        out, _ = junk.communicate(timeout=30)
        jr = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
        th[0].join(60)
        m1 = br.metrics() or {}
        t1 = time.monotonic()

        missed = m1.get("floorbridge_mixer_missed_ticks_total", 0) - m0.get("floorbridge_mixer_missed_ticks_total", 0)
        p99 = fbtest.tick_quantile(m0, m1, 0.99)
        rep.check("mixer: no missed tick during the attack", missed == 0,
                  f"{missed:.0f} missed in {m1.get('floorbridge_mixer_ticks_total', 0) - m0.get('floorbridge_mixer_ticks_total', 0):.0f} ticks")
        rep.check("mixer: tick p99 during the attack", p99 is not None and p99 <= 0.020,
                  f"<= {p99 * 1000:g} ms" if p99 is not None else "n/a")
        rep.check("per-IP limit: 50 upgrades from one address accepted, the rest refused",
                  wsf["accepted"] == 50 and wsf["refused"] == 250,
                  f"{wsf['accepted']} accepted, {wsf['refused']} refused, {wsf['errors']} errors")
        dropped = sum(m1.get(k, 0) - m0.get(k, 0) for k in m1 if k.startswith("floorbridge_datagrams_dropped_total"))
        rx = m1.get("floorbridge_datagrams_received_total", 0) - m0.get("floorbridge_datagrams_received_total", 0)
        rep.check("junk: nothing sent back to its sources", jr.get("replies") == 0 and jr.get("sent", 0) > 0,
                  f"{jr.get('sent')} sent at {jr.get('pps')}/s ({jr.get('by_kind')}), {jr.get('replies')} replies")
        rep.info("junk: datagrams the bridge received / counted dropped meanwhile",
                 f"{rx:.0f} / {dropped:.0f} (unknown source or malformed; the rest is the meeting's own media)")
        good = [p for p in pings if p is not None]
        rep.check("during the attack: the chair's ping answered in < 500 ms",
                  good and len(good) == len(pings) and max(good) < 500,
                  f"{len(good)}/{len(pings)} answered, max {max(good):.0f} ms" if good else "none")
        rep.check("during the attack: a new delegate joins in < 2 s", join_ms is not None and join_ms < 2000,
                  f"{join_ms:.0f} ms" if join_ms is not None else "failed")
        rep.check("during the attack: /healthz 200", health and all(h == 200 for h in health),
                  f"{sum(1 for h in health if h == 200)}/{len(health)}")
        th[1].join(a.attack_s + 30)
        rep.info("slowloris: connections opened / closed by the bridge (after s, first..last)",
                 f"{slow.get('opened')} / {slow.get('closed_by_bridge')} ({slow.get('closed_after_s')})")
        for w in wsf["socks"]:
            w.close()

        load.wait(timeout=total + 60)
        lj = json.load(open(load_json)) if os.path.exists(load_json) else {}
        d = lj.get("downlink", {})
        rep.check("real participants: floorbridge-load --assert (joins, no gap > 200 ms, markers heard)",
                  load.returncode == 0,
                  f"exit {load.returncode}; {lj.get('joins', {}).get('ok')} joined, gaps > 60 ms: {d.get('gaps')}, "
                  f"max gap {d.get('max_gap_ms')} ms, markers {lj.get('latency', {}).get('markers')}")
        if gap:
            gap.send_signal(signal.SIGTERM)
            gap.wait(10)
            g = json.load(open(os.path.join(work, "flowgap.json")))
            rep.check("at the bridge: no gap over 200 ms in any participant's stream (kernel timestamps)",
                      g.get("gaps") == 0 and g.get("capture_drops") == 0 and g.get("rtp_packets", 0) > 0,
                      f"{g.get('gaps')} gaps, max {g.get('max_gap_ms')} ms over {g.get('streams')} streams, "
                      f"intervals {g.get('histogram_ms')}")
        rep.check("the bridge survived", br.alive() and br.get("/healthz")[0] == 200, "alive, healthz 200")
        rep.info("attack window", f"{t1 - t0:.1f} s")
    except Exception as e:
        rep.check("the test ran to the end", False, repr(e))
    finally:
        rc = fbtest.end_run("flood", rep, br, work, a.keep, procs, tail=20)
    return rc


if __name__ == "__main__":
    sys.exit(main())
