#!/usr/bin/env python3
"""report.py — the soak's verdict: reads what scripts/soak left in its work
directory and writes a Markdown table (--md) and the same as JSON (--json).
Prints the table; exit 1 if any check failed. What each check means is in the
header of scripts/soak.
"""
import argparse
import collections
import json
import os
import sqlite3
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "faults"))
import fbtest  # noqa: E402


def load(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


lines = fbtest.read_events  # one JSON object per line, bad lines skipped


def fmt(x, nd=1):
    if x is None:
        return "n/a"
    if isinstance(x, float):
        return f"{x:.{nd}f}"
    return str(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--md", required=True)
    ap.add_argument("--json", required=True)
    a = ap.parse_args()
    d = a.dir
    tl = load(os.path.join(d, "timeline.json"), {})
    mon = lines(os.path.join(d, "monitor.jsonl"))
    lj = load(os.path.join(d, "load.json"), {})
    pj = load(os.path.join(d, "probe.json"), {})
    cj = load(os.path.join(d, "chair.json"), {})
    imp = load(os.path.join(d, "impair.json"), {})
    fg = load(os.path.join(d, "flowgap.json"), {})
    acts = lines(os.path.join(d, "actions.jsonl"))
    checks, info = [], []

    # Timing checks (the tick's schedule as the machine allowed it) are judged
    # in full runs; in the 2-minute CI run they are printed as "warn" and do
    # not fail it: CI machines are shared, and a test must not fail because a
    # neighbour took the CPU. The gap check stays judged everywhere: it is
    # what a listener would hear, and one missed tick (a 40 ms gap) passes it.
    ci_run = bool(tl.get("ci"))

    def check(name, ok, value, limit, timing=False):
        warn = timing and ci_run and not ok
        checks.append({"check": name, "ok": bool(ok) or warn, "warn": warn, "value": value,
                       "limit": limit})

    def note(name, value):
        info.append({"what": name, "value": value})

    secs = tl.get("minutes", 0) * 60
    t_load, t_load_end = tl.get("t_load", 0), tl.get("t_load_end", 0)

    # ---- survival
    health = [m for m in mon if m["kind"] == "health"]
    bad_h = [m for m in health if m["status"] != 200]
    dead = [m for m in mon if m["kind"] == "dead"]
    alive = tl.get("bridge_alive_at_end") == 1 and not dead
    check("bridge alive for the whole run", alive, "yes" if alive else
          f"no (died at +{dead[0]['t'] - t_load:.0f} s)" if dead else "no", "yes")
    check("/healthz 200 at every poll (every 5 s)", health and not bad_h,
          f"{len(health) - len(bad_h)}/{len(health)}" + (f"; first failure at +{bad_h[0]['t'] - t_load:.0f} s: "
                                                          f"{bad_h[0]['status']}" if bad_h else ""),
          "all", timing=True)
    hms = sorted(m["ms"] for m in health if m["status"] == 200)
    if hms:
        note("/healthz answer time p50 / max (ms)", f"{hms[len(hms) // 2]} / {hms[-1]}")
    if tl.get("cut_short_at_s"):
        note("clean shutdown after the run", "not tried: the run was cut short from outside")
    else:
        check("clean shutdown after the run (SIGINT -> exit 0)", tl.get("bridge_exit") == 0,
              tl.get("bridge_exit"), "0")

    # ---- memory
    samples = [m for m in mon if m["kind"] == "sample" and m.get("rss_kb")]
    during = [s for s in samples if s["t"] <= t_load_end] or samples
    warm_s = tl.get("rss_warmup_s") or max(0.2 * secs, 30)
    rss_limit = tl.get("rss_limit_pct", 5)
    warm = next((s for s in during if s["t"] >= t_load + warm_s), None)
    last = during[-1] if during else None
    growth = None
    if warm and last and warm is not last:
        growth = 100.0 * (last["rss_kb"] - warm["rss_kb"]) / warm["rss_kb"]
    check(f"RSS growth after warm-up ({warm_s:.0f} s)", growth is not None and growth < rss_limit,
          f"{warm['rss_kb'] / 1024:.1f} -> {last['rss_kb'] / 1024:.1f} MiB ({growth:+.2f} %)"
          if growth is not None else "n/a", f"< {rss_limit} %")
    if samples:
        peak = max(s["rss_kb"] for s in samples)
        note("RSS at start / peak (MiB)", f"{samples[0]['rss_kb'] / 1024:.1f} / {peak / 1024:.1f}")
        # linear trend after warm-up, MiB per hour
        pts = [(s["t"], s["rss_kb"]) for s in during if warm and s["t"] >= warm["t"]]
        if len(pts) >= 3:
            n = len(pts)
            mt = sum(p[0] for p in pts) / n
            mr = sum(p[1] for p in pts) / n
            var = sum((p[0] - mt) ** 2 for p in pts)
            slope = sum((p[0] - mt) * (p[1] - mr) for p in pts) / var if var else 0
            note("RSS trend after warm-up (least squares)", f"{slope * 3600 / 1024:+.2f} MiB/h")

    # ---- the mixer
    ms = [s for s in samples if s.get("metrics")]
    m_first = next((s["metrics"] for s in ms if s["t"] >= t_load), ms[0]["metrics"] if ms else {})
    m_last = next((s["metrics"] for s in reversed(ms) if s["t"] <= t_load_end), ms[-1]["metrics"] if ms else {})
    m_final = ms[-1]["metrics"] if ms else {}
    missed = m_final.get("floorbridge_mixer_missed_ticks_total")
    ticks = m_final.get("floorbridge_mixer_ticks_total")
    check("mixer missed ticks (whole run)", missed == 0, fmt(missed, 0) + f" of {fmt(ticks, 0)}", "0",
          timing=True)
    p99 = fbtest.tick_quantile(m_first, m_last, 0.99) if m_first and m_last else None
    p50 = fbtest.tick_quantile(m_first, m_last, 0.5) if m_first and m_last else None
    check("mixer tick p99 (bucket bound, while the participants were in)", p99 is not None and p99 <= 0.020,
          f"<= {p99 * 1000:g} ms (p50 <= {p50 * 1000:g} ms)" if p99 is not None else "n/a", "<= 20 ms",
          timing=True)
    se = m_final.get("floorbridge_send_errors_total")
    check("media send errors", se == 0, fmt(se, 0), "0")
    alerts = m_final.get("floorbridge_floor_alerts_total")
    check("floor alerts (floor source failures)", alerts == 0, fmt(alerts, 0), "0")
    sent = (m_last.get("floorbridge_packets_sent_total", 0) - m_first.get("floorbridge_packets_sent_total", 0))
    if ms:
        note("packets sent by the bridge under load", f"{sent:.0f}")
        lat = m_final.get('floorbridge_bridge_latency_seconds{quantile="0.99"}')
        if lat is not None:
            note("bridge's own latency p99 (uplink arrival -> downlink send)", f"{lat * 1000:.1f} ms")
        drops = {k.split('"')[1]: v for k, v in m_final.items() if k.startswith("floorbridge_datagrams_dropped_total")}
        note("datagrams dropped by the bridge (by reason)", drops)

    # ---- the machine: who had the CPU (other processes make a bridge late too)
    hz = os.sysconf("SC_CLK_TCK")
    cs = [x for x in ms if x.get("cpu")]
    noisy = False
    if len(cs) >= 2:
        def pct(a0, a1, key):
            return 100.0 * (a1["cpu"][key] - a0["cpu"][key]) / hz / max(1e-9, a1["t"] - a0["t"])
        span = [x for x in cs if t_load <= x["t"] <= t_load_end] or cs
        first, lastc = span[0], span[-1]
        mach, ours, brc = pct(first, lastc, "machine"), pct(first, lastc, "ours"), pct(first, lastc, "bridge")
        others = mach - ours
        noisy = others > 25
        note("CPU while the participants were in (% of one core; 2 cores)",
             f"machine {mach:.0f}, the soak's processes {ours:.0f} (bridge {brc:.0f}), other processes "
             f"{others:.0f}" + ("  <-- NOISY: a shared machine; timing results suspect" if noisy else ""))
        late = []
        for a0, a1 in zip(cs, cs[1:]):
            dm = a1["metrics"].get("floorbridge_mixer_missed_ticks_total", 0) - \
                a0["metrics"].get("floorbridge_mixer_missed_ticks_total", 0)
            if dm > 0:
                mo = pct(a0, a1, "machine")
                late.append((round(a0["t"] - t_load), int(dm), round(mo), round(mo - pct(a0, a1, "ours"))))
        if late:
            note("10 s intervals with missed ticks (start s, missed, machine %, other processes %)",
                 late[:8] + (["..."] if len(late) > 8 else []))

    # ---- participants and the floor audio
    lj_j, lj_d = lj.get("joins", {}), lj.get("downlink", {})
    started, okj, failed = lj_j.get("started", 0), lj_j.get("ok", 0), lj_j.get("failed", 0)
    check("participants' joins through the bad path", started > 0 and failed <= max(1, 0.01 * started),
          f"{okj} ok, {failed} failed of {started}" + (f" (first: {lj_j.get('first_failure')})" if failed else ""),
          "failed <= 1 %")
    note("join time p50 / p95 / max (WebSocket open -> first audio)",
         f"{fmt(lj_j.get('p50_ms'))} / {fmt(lj_j.get('p95_ms'))} / {fmt(lj_j.get('max_ms'))} ms")
    churn = lj.get("churn", {})
    note("churn", f"{churn.get('leaves', 'n/a')} leaves and rejoins at {fmt(churn.get('per_s'))}/s "
                  f"in a {fmt(lj.get('window_s'), 0)} s window")
    note("bridge dropped joined sessions (WebSocket closed by the bridge)", lj_j.get("dropped"))
    # the bridge's own streams, at its interfaces (kernel timestamps, before any impairment)
    check("at the bridge: gaps > 60 ms in any outgoing RTP stream (kernel timestamps)",
          fg.get("rtp_packets", 0) > 0 and fg.get("gaps") == 0 and fg.get("capture_drops") == 0,
          f"{fg.get('gaps')} gaps in {fg.get('streams')} streams, max gap {fmt(fg.get('max_gap_ms'))} ms, "
          f"{fg.get('rtp_packets')} packets, capture drops {fg.get('capture_drops')}", "0")
    if fg.get("gap_list"):
        note("at the bridge: first gaps (Unix time, ms, stream)",
             [(round(g["t"] - t_load, 1), g["ms"], g["stream"]) for g in fg["gap_list"][:5]])
    note("at the bridge: inter-packet intervals (ms: count)", fg.get("histogram_ms"))
    check("at the bridge: sequence numbers skipped (numbered but never sent)",
          fg.get("seq_skipped") == 0, f"{fg.get('seq_skipped')} in {fg.get('streams_skipping')} streams", "0")
    bridge_sent = m_final.get("floorbridge_packets_sent_total")
    on_wire = fg.get("rtp_packets")
    # floorbridge_packets_sent_total also counts packets fan-out stamped for
    # WebRTC peers that had no keys, address or consent yet (webrtc_tx.c skips
    # them after fanout.c counted them), so it is above what left the bridge;
    # a packet skipped inside a stream shows as a skipped sequence number above.
    note("RTP packets on the wire / floorbridge_packets_sent_total (which also counts packets for peers "
         "not yet keyed)", f"{fmt(on_wire, 0)} / {fmt(bridge_sent, 0)}")
    pj_d, pj_j = pj.get("downlink", {}), pj.get("joins", {})
    check("probe (clean path): packets lost", pj_j.get("ok", 0) >= 4 and pj_d.get("lost") == 0
          and pj_d.get("packets", 0) > 0, f"{pj_d.get('lost')} of {pj_d.get('packets')} on "
          f"{pj_j.get('ok')} listeners", "0")
    note("probe (clean path), load tool's gap counter: gaps > 60 ms / max gap (client scheduling, not judged)",
         f"{pj_d.get('gaps')} on {pj_d.get('listeners')} listeners / {fmt(pj_d.get('max_gap_ms'), 0)} ms")
    down = imp.get("a_to_b") or {}  # fb-impair: a = the bridge's namespace, b = the participants'
    imp_loss = tl.get("impair", {}).get("loss_pct", 5)
    expect = 100.0 * (down.get("rtp_lost", 0) + down.get("rtp_late", 0)) / down["rtp_in"] \
        if down.get("rtp_in") else None
    got = lj_d.get("loss_pct")
    # What the bridge could add is loss on top of the path's, so the check is
    # one-sided: at least what the path dropped (the counting works), at most
    # drops + out-of-order + 1 point. The load tool takes some out-of-order
    # packets in time, so it measures less than drops + out-of-order; a
    # two-sided "within 1 point" failed a clean hour on 12.68 vs 11.66.
    dropped = 100.0 * down.get("rtp_lost", 0) / down["rtp_in"] if down.get("rtp_in") else None
    check("impaired path: loss the participants measured = what the path did to their RTP",
          got is not None and expect is not None and dropped is not None
          and dropped - 0.5 <= got <= expect + 1.0,
          f"{fmt(got, 2)} % measured; path: {fmt(100.0 * down.get('rtp_lost', 0) / max(1, down.get('rtp_in', 1)), 2)} % "
          f"dropped + {fmt(100.0 * down.get('rtp_late', 0) / max(1, down.get('rtp_in', 1)), 2)} % delivered out of "
          f"order = {fmt(expect, 2)} %", "dropped - 0.5 .. dropped + out of order + 1")
    note("impaired path, load tool's gap counter: gaps > 60 ms / max gap (network holes, not judged)",
         f"{lj_d.get('gaps')} on {lj_d.get('listeners_with_gaps')} of {lj_d.get('listeners')} "
         f"listener sessions / {fmt(lj_d.get('max_gap_ms'), 0)} ms")
    if down:
        up = imp.get("b_to_a", {})
        note("fb-impair bridge->participants", f"{down.get('rx', 0)} packets ({down.get('rtp_in')} RTP), "
             f"{down.get('lost')} dropped, {down.get('reordered')} sent early, queue max {down.get('max_queued')}")
        note("fb-impair participants->bridge", f"{up.get('rx', 0)} packets ({up.get('rtp_in')} RTP), "
             f"{up.get('lost')} dropped, {up.get('reordered')} sent early")
    lat = lj.get("latency", {})
    note("speakers heard by decoded listeners (markers heard / expected)",
         f"{lat.get('markers')} / {lat.get('markers_expected')} on {lat.get('decoded_listeners')} sessions; "
         f"latency p50 {fmt(lat.get('p50_ms'))} p95 {fmt(lat.get('p95_ms'))} ms")
    br = lj.get("bridge", {})
    note("bridge CPU (% of one core) / load tool CPU / machine busy (% of one core, 2 cores)",
         f"{fmt(br.get('cpu_pct'))} / {fmt(lj.get('tool', {}).get('cpu_pct'))} / "
         f"{fmt(lj.get('machine', {}).get('busy_pct'))}")

    # ---- chairs
    ch = lj.get("chair", {})
    check("the load tool's chair (rotation, behind the bad path) not dropped by the bridge",
          int(ch.get("dropped") or 0) == 0,
          f"dropped {int(ch.get('dropped') or 0)} times; received {ch.get('rx_bytes', 0) / 1e6:.1f} MB in "
          f"{ch.get('rx_messages')} messages", "0")
    check("the scripted chair not dropped by the bridge", cj.get("drops") == 0,
          f"drops {cj.get('drops')}; received {cj.get('rx_bytes', 0) / 1e6:.1f} MB"
          + (f" ({cj['rx_bytes'] / cj['seconds'] / 1e6:.2f} MB/s)" if cj.get("seconds") else "")
          + f", {cj.get('roster_messages')} rosters ({cj.get('roster_deltas')} deltas)", "0")
    note("rotation (load tool's chair)", f"{ch.get('grants')} grants, {ch.get('end_turns')} end_turns, "
         f"{ch.get('refused')} refused (first: {ch.get('first_refusal') or '-'})")
    note("scripted chair actions", f"{cj.get('sent')} sent {cj.get('by_action')}, {cj.get('refused')} refused, "
         f"{cj.get('skipped')} steps skipped, {cj.get('floor_keeper_grants')} grants to keep speakers on the floor")
    check("every scripted chair change visible to the chair (roster / mode)",
          cj.get("sent", 0) > 0 and cj.get("unconfirmed") == 0,
          f"{cj.get('confirmed')} seen, {cj.get('unconfirmed')} not seen within 5 s", "all")

    # ---- audit
    db = os.path.join(d, "soak.db")
    audit = {}
    if os.path.exists(db):
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        rows = con.execute("SELECT actor, action, target FROM audit WHERE meeting = 'soak'").fetchall()
        con.close()
        by_actor = collections.Counter(r[0] for r in rows)
        note("audit rows by actor", dict(by_actor))
        # the scripted chair: one row per action sent, the action or refused:<action>
        want, unsure = collections.Counter(), collections.Counter()
        for x in acts:
            if x.get("kind") == "action":
                want[(x["action"], x["target"])] += 1
            elif x.get("kind") == "uncertain":  # sent just before the bridge dropped the chair
                unsure[(x["action"], x["target"])] += 1
        want -= unsure
        got = collections.Counter()
        for actor, action, target in rows:
            if actor == "soakchair":
                got[(action.replace("refused:", "", 1), target)] += 1
        # a refused unmute is audited as "refused:unmute"
        missing = want - got
        extra = got - want - unsure
        check("audit: a row for every scripted chair action", sum(want.values()) > 0 and not missing
              and not extra,
              f"{sum(want.values())} actions, {sum(got.values())} rows"
              + (f" ({sum(unsure.values())} more sent just before a drop: row or not)" if unsure else "")
              + (f"; missing {sum(missing.values())}: {list(missing.items())[:3]}" if missing else "")
              + (f"; extra {sum(extra.values())}" if extra else ""), "all")
        ra = collections.Counter(action for actor, action, _ in rows if actor == "chair")
        g_rows, e_rows = ra["grant"] + ra["refused:grant"], ra["end_turn"] + ra["refused:end_turn"]
        g_sent, e_sent = ch.get("grants", -1), ch.get("end_turns", -1) + 1  # + the floor-control probe
        drops = int(ch.get("dropped") or 0)  # a count in newer floorbridge-load, a flag before
        if drops:  # what it sent just before the bridge dropped it was never read: no row
            ok_rot = g_rows <= g_sent and e_rows <= e_sent
        else:
            ok_rot = g_rows == g_sent and e_rows == e_sent
        check("audit: a row for every grant / end_turn of the load tool's chair", ok_rot,
              f"grants {g_sent} sent, {ra['grant']} + {ra['refused:grant']} refused rows; end_turns "
              f"{e_sent} sent (with the probe), {ra['end_turn']} + {ra['refused:end_turn']} refused rows"
              + (f"; {g_sent - g_rows + e_sent - e_rows} went down with the {drops} dropped connections"
                 if drops else ""),
              "equal" + (" (rows <= sent: the bridge dropped the chair)" if drops else ""))
        lost_rows = sum(1 for actor, action, _ in rows if actor == "auto" and action in ("consent_lost", "dtls_failed"))
        told = cj.get("participant_lost", -1)
        check("audit: a row for every participant_lost the chair was told",
              lost_rows == told if cj.get("drops") == 0 else lost_rows >= told,
              f"{told} events, {lost_rows} rows" + (" (the chair was dropped meanwhile: rows >= events)"
                                                      if cj.get("drops") else ""),
              "equal" if cj.get("drops") == 0 else ">=")
        audit = {"rows": len(rows), "by_actor": dict(by_actor), "scripted_actions": sum(want.values()),
                 "scripted_rows": sum(got.values()), "missing": sum(missing.values()),
                 "participant_lost_rows": lost_rows}
    else:
        check("audit: the SQLite store exists", False, "missing", "present")

    ok = all(c["ok"] for c in checks)
    res = {"ok": ok, "noisy_machine": noisy, "rt_mixer": bool(tl.get("rt_mixer")), "minutes": tl.get("minutes"), "participants": tl.get("participants"),
           "speakers": tl.get("speakers"), "pool": tl.get("pool"), "churn_per_s": tl.get("churn_per_s"),
           "impairment": tl.get("impair"), "checks": checks, "info": info, "audit": audit,
           "rss_kb": {"warmup": warm["rss_kb"] if warm else None, "end": last["rss_kb"] if last else None,
                      "growth_pct": growth},
           "missed_ticks": missed, "tick_p99_ms_bucket": p99 * 1000 if p99 is not None else None,
           "load": lj, "probe": pj, "chair": cj, "impair": imp}
    with open(a.json, "w") as f:
        json.dump(res, f, indent=2)
    cut = tl.get("cut_short_at_s")
    md = [f"# Soak: {tl.get('minutes')} min, {tl.get('participants')} participants churning"
          + (f" (cut short at {cut / 60:.0f} min)" if cut else ""),
          "",
          *([f"The run was stopped from outside after {cut / 60:.1f} minutes (the session ended the "
             f"script; every process had been running normally, see the bridge log). The numbers are "
             f"for those {cut / 60:.0f} minutes.", ""] if cut else []),
          f"`scripts/soak --minutes {tl.get('minutes')} --participants {tl.get('participants')}` — "
          f"{tl.get('speakers')} live speakers rotated from a pool of {tl.get('pool')} every 5 s, churn "
          f"{tl.get('churn_per_s')}/s, a scripted chair (mute, cut, webcast switch every 10 s), the "
          f"participants behind fb-impair (each way: {imp_loss} % loss, 40 ± 15 ms delay, 2 % reordered), "
          f"4 probe listeners on a clean path"
          + (", the mixer thread SCHED_FIFO 20 ([mixer] tick_priority)" if tl.get("rt_mixer") else "")
          + f". Verdict: **{'PASS' if ok else 'FAIL'}**"
          + (" (other processes used the machine meanwhile: see CPU below)." if noisy else "."),
          "", "| check | value | limit | |", "|---|---|---|---|"]
    for c in checks:
        md.append(f"| {c['check']} | {c['value']} | {c['limit']} | "
                  f"{'warn (timing, CI run)' if c.get('warn') else 'ok' if c['ok'] else '**FAIL**'} |")
    md += ["", "| also measured | |", "|---|---|"]
    for i in info:
        md.append(f"| {i['what']} | {i['value']} |")
    md.append("")
    with open(a.md, "w") as f:
        f.write("\n".join(md))
    w = max(len(c["check"]) for c in checks) if checks else 10
    print(f"\nsoak: {tl.get('minutes')} min, {tl.get('participants')} participants")
    for c in checks:
        tag = "warn" if c.get("warn") else "ok  " if c["ok"] else "FAIL"
        print(f"  {tag} {c['check']:<{w}}  {c['value']}  (limit {c['limit']})")
    for i in info:
        print(f"  ..   {i['what']}: {i['value']}")
    print(f"soak: {'PASS' if ok else 'FAIL'}  ({a.md})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
