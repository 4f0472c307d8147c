#!/usr/bin/env python3
"""monitor.py — watches a running bridge for the soak, from inside its network
namespace: GET /healthz every --health-s (5 s), and every --sample-s (10 s)
the bridge's VmRSS (/proc/PID/status) and /metrics. One JSON line per
observation in --out:

  {"kind": "health", "t": epoch_s, "status": 200, "ms": 3.1}
  {"kind": "sample", "t": epoch_s, "rss_kb": 61234, "metrics": {...},
   "cpu": {"machine": jiffies busy, "bridge": jiffies, "ours": jiffies}}

"ours" is every process whose command line mentions --tag (the soak's work
directory): the bridge, the load tools, fb-impair, fb-flowgap, the chair and
this monitor. machine - ours is what other processes took: on a shared test
machine that is the first thing to look at when ticks were missed.
  {"kind": "dead",   "t": epoch_s}          the process is gone

Runs until SIGTERM/SIGINT, --duration-s, or the bridge's death.
"""
import argparse
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "faults"))
import fbtest  # noqa: E402

KEEP = ("floorbridge_mixer_", "floorbridge_packets_sent_total", "floorbridge_encodes_total",
        "floorbridge_datagrams_", "floorbridge_send_errors_total", "floorbridge_floor_",
        "floorbridge_media_participants", "floorbridge_bridge_latency_seconds",
        "floorbridge_connections", "floorbridge_queue_length", "floorbridge_webcast_only",
        "floorbridge_protocol_errors_total", "floorbridge_uplink_")


rss_kb = fbtest.rss_kb


def jiffies(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return int(rest[11]) + int(rest[12])
    except (OSError, IndexError, ValueError):
        return 0


def cpu(bridge_pid, tag):
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    busy = sum(v) - v[3] - (v[4] if len(v) > 4 else 0)  # all but idle and iowait
    ours = 0
    if tag:
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open(f"/proc/{d}/cmdline", "rb") as f:
                        if tag.encode() in f.read():
                            ours += jiffies(d)
                except OSError:
                    pass
    return {"machine": busy, "bridge": jiffies(bridge_pid), "ours": ours}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--health-s", type=float, default=5)
    ap.add_argument("--sample-s", type=float, default=10)
    ap.add_argument("--duration-s", type=float, default=7 * 24 * 3600)
    ap.add_argument("--tag", default="", help="count the CPU of processes whose command line has this")
    a = ap.parse_args()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    out = open(a.out, "a")

    def emit(rec):
        out.write(json.dumps(rec) + "\n")
        out.flush()

    t0 = time.monotonic()
    next_h = next_s = t0
    while not stop and time.monotonic() - t0 < a.duration_s:
        now = time.monotonic()
        if rss_kb(a.pid) is None:
            emit({"kind": "dead", "t": time.time()})
            return
        if now >= next_h:
            next_h += a.health_s
            t1 = time.monotonic()
            st, body = fbtest.http_get(a.host, a.port, "/healthz", a.tls, timeout=3)
            emit({"kind": "health", "t": time.time(), "status": st,
                  "ms": round((time.monotonic() - t1) * 1000, 1),
                  **({} if st == 200 else {"body": body[:200]})})
        if now >= next_s:
            next_s += a.sample_s
            st, body = fbtest.http_get(a.host, a.port, "/metrics", a.tls, timeout=3)
            m = fbtest.metrics(body) if st == 200 else {}
            emit({"kind": "sample", "t": time.time(), "rss_kb": rss_kb(a.pid),
                  "metrics_status": st, "cpu": cpu(a.pid, a.tag),
                  "metrics": {k: v for k, v in m.items() if k.startswith(KEEP)}})
        time.sleep(max(0.05, min(next_h, next_s) - time.monotonic()))
    # a last sample on the way out
    st, body = fbtest.http_get(a.host, a.port, "/metrics", a.tls, timeout=3)
    m = fbtest.metrics(body) if st == 200 else {}
    emit({"kind": "sample", "t": time.time(), "rss_kb": rss_kb(a.pid), "metrics_status": st,
          "cpu": cpu(a.pid, a.tag), "metrics": {k: v for k, v in m.items() if k.startswith(KEEP)}, "final": True})


if __name__ == "__main__":
    main()
