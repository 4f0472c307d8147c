#!/usr/bin/env python3
"""chair_driver.py — the soak's scripted chair (a second chair beside the load
tool's, which only rotates speakers with grant/end_turn).

Every --period-s it takes the next step of a cycle and undoes it a little later:

  mute       chair-mute a live speaker            -> unmute after 3 s
  cut_live   cut (bar) a live speaker              -> allow after 5 s
  webcast    set_mode webcast (floor emptied)      -> set_mode interactive after 5 s
  cut_idle   cut a listening delegate              -> allow after 5 s

Floor keeping: the load tool's chair keeps --speakers of its pool (delegates
s00000...) live. If fewer are live for 3 s in interactive mode (that chair was
dropped, or a cut or webcast switch left the floor empty and its rotation has
not noticed yet), this chair grants the next pool speakers itself, so the
soak keeps speakers on the floor whatever happens to the other chair.

It follows the meeting through the chair's messages (full roster, mode) to
pick targets and to confirm that each change became visible (the roster shows
chair_muted / barred, the mode message the new mode). Each action sent is
logged to --actions (JSON lines: epoch ms, action as the audit log names it,
target); refusals that come back (error with request = the action) are
logged too. participant_lost events (media lost: consent expired, DTLS
failed) are counted, since each must have an audit row as well. If the
chair's WebSocket drops, it rejoins and counts the drop.

At the end (--duration-s, or SIGTERM) it undoes what is pending, so the
meeting is left interactive with nobody cut or muted by it, and writes
--summary (JSON).
"""
import argparse
import json
import os
import random
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "faults"))
import fbtest  # noqa: E402

STEPS = ["mute", "cut_live", "webcast", "cut_idle"]
HOLD = {"mute": 3.0, "cut_live": 5.0, "webcast": 5.0, "cut_idle": 5.0}


class Driver:
    def __init__(self, a):
        self.a = a
        self.rng = random.Random(a.seed)
        self.roster = {}
        self.mode = None
        self.ws = None
        self.sent = 0
        self.by_action = {}
        self.refused = []
        self.confirmed = 0
        self.unconfirmed = []
        self.expect = []           # (deadline, kind, target, value, action record)
        self.undo = []             # (due, action, target)
        self.lost_events = []
        self.drops = 0
        self.roster_msgs = 0
        self.roster_deltas = 0
        self.rx_bytes = 0
        self.skipped = 0
        self.pending_req = []      # actions awaiting a possible error, in order
        self.log = open(a.actions, "a")
        self.stop = False
        self.short_since = None
        self.keeper_grants = 0
        self.rr = 0
        self.uncertain = 0
        self.rx_before = 0

    # -- connection
    def connect(self):
        token = fbtest.mint_token(self.a.secret, self.a.meeting, self.a.delegate,
                                  name="Soak chair", role="chair")
        for attempt in range(60):
            try:
                self.ws, _ = fbtest.join(self.a.host, self.a.port, token, tls=self.a.tls,
                                         timeout=10)
                return
            except (fbtest.Closed, OSError, RuntimeError) as e:
                print(f"chair_driver: join failed ({e}); retrying", file=sys.stderr, flush=True)
                time.sleep(1)
        raise SystemExit("chair_driver: cannot join")

    # -- messages
    def on_text(self, text):
        self.on_message(json.loads(text))

    def on_message(self, m):
        t = m.get("type")
        if t == "roster" and "participants" in m:
            # the full list once after joining, then only what changed
            self.roster_msgs += 1
            if m.get("full") is False:
                self.roster_deltas += 1
                self.roster.update({p["delegate"]: p for p in m["participants"]})
            else:
                self.roster = {p["delegate"]: p for p in m["participants"]}
        elif t == "mode":
            self.mode = m.get("mode")
        elif t == "event" and m.get("event") == "participant_lost":
            self.lost_events.append({"t": int(time.time() * 1000), "detail": m.get("detail", "")})
        elif t == "error":
            req = m.get("request", "")
            rec = None
            for i, p in enumerate(self.pending_req):
                if p["request"] == req:
                    rec = self.pending_req.pop(i)
                    break
            entry = {"t": int(time.time() * 1000), "request": req, "code": m.get("code"),
                     "target": rec["target"] if rec else None}
            self.refused.append(entry)
            self.log.write(json.dumps(dict(entry, kind="refused")) + "\n")
            self.log.flush()
            if rec:  # no visible change is expected from a refusal
                self.expect = [e for e in self.expect if e[4] is not rec]
        self.check_expect()

    def check_expect(self):
        if not self.expect:
            return
        now = time.monotonic()
        keep = []
        for e in self.expect:
            deadline, kind, target, value, rec = e
            if self.visible(kind, target, value):
                self.confirmed += 1
                rec["confirmed_ms"] = round((now - rec["mono"]) * 1000)
            elif now > deadline:
                self.unconfirmed.append({k: rec[k] for k in ("action", "target", "t")})
            else:
                keep.append(e)
        self.expect = keep

    def visible(self, kind, target, value):
        if kind == "mode":
            return self.mode == value
        p = self.roster.get(target)
        if p is None:
            return False
        if kind == "chair_muted":
            # a muted speaker may also have been taken off the floor meanwhile
            return p.get("chair_muted") == value or (value and p.get("state") != "muted" and
                                                      p.get("state") != "live")
        if kind == "barred":
            return (p.get("state") == "barred") == value
        return False

    # -- actions
    def send(self, action, target="", **fields):
        msg = {"type": {"unmute": "mute"}.get(action, action)}
        if target:
            msg["delegate"] = target
        msg.update(fields)
        rec = {"t": int(time.time() * 1000), "mono": time.monotonic(), "action": action,
               "target": target, "request": msg["type"]}
        try:
            self.ws.send(msg)
        except fbtest.Closed:
            return None
        self.sent += 1
        self.by_action[action] = self.by_action.get(action, 0) + 1
        self.pending_req.append(rec)
        self.pending_req = self.pending_req[-20:]
        self.log.write(json.dumps({"kind": "action", "t": rec["t"], "action": action,
                                   "target": target}) + "\n")
        self.log.flush()
        return rec

    def mark_uncertain(self):
        """The bridge closed us: what we sent in the last 10 s may never have
        been read. Those actions are logged as uncertain (the audit check
        neither requires nor forbids their rows) and no longer expected."""
        cutoff = time.monotonic() - 10
        for e in self.expect:
            rec = e[4]
            if rec["mono"] >= cutoff:
                self.uncertain += 1
                self.log.write(json.dumps({"kind": "uncertain", "t": rec["t"], "action": rec["action"],
                                           "target": rec["target"]}) + "\n")
        self.log.flush()
        self.expect = [e for e in self.expect if e[4]["mono"] < cutoff]
        self.pending_req = []

    def expect_change(self, rec, kind, target, value):
        if rec:
            self.expect.append((time.monotonic() + self.a.confirm_s, kind, target, value, rec))

    def live(self):
        return [d for d, p in self.roster.items()
                if p.get("state") == "live" and p.get("connected") and p.get("role") != "chair"]

    def idle(self):
        return [d for d, p in self.roster.items()
                if p.get("state") == "listening" and p.get("connected") and p.get("role") == "delegate"]

    def step(self, k):
        kind = STEPS[k % len(STEPS)]
        now = time.monotonic()
        if kind == "webcast":
            if self.mode == "webcast":
                self.skipped += 1
                return
            rec = self.send("set_mode", mode="webcast")
            self.expect_change(rec, "mode", "", "webcast")
            self.undo.append((now + HOLD[kind], "set_mode", "interactive"))
            return
        pool = self.idle() if kind == "cut_idle" else self.live()
        if not pool and kind != "cut_idle":
            kind, pool = "cut_idle", self.idle()
        if not pool:
            self.skipped += 1
            return
        target = self.rng.choice(sorted(pool))
        if kind == "mute":
            rec = self.send("mute", target, on=True)
            self.expect_change(rec, "chair_muted", target, True)
            self.undo.append((now + HOLD[kind], "unmute", target))
        else:
            rec = self.send("cut", target, reason="soak: poor audio (scripted)")
            self.expect_change(rec, "barred", target, True)
            self.undo.append((now + HOLD[kind], "allow", target))

    def do_undo(self, action, target):
        if action == "set_mode":
            rec = self.send("set_mode", mode=target)
            self.expect_change(rec, "mode", "", target)
        elif action == "unmute":
            rec = self.send("unmute", target, on=False)
            self.expect_change(rec, "chair_muted", target, False)
        elif action == "allow":
            rec = self.send("allow", target)
            self.expect_change(rec, "barred", target, False)

    # -- main loop
    def pump(self, until):
        while True:
            left = until - time.monotonic()
            if left <= 0 or self.stop:
                return
            try:
                text = self.ws.recv(min(left, 0.5))
            except fbtest.Closed as e:
                self.drops += 1
                print(f"chair_driver: the chair's WebSocket dropped ({e}); rejoining",
                      file=sys.stderr, flush=True)
                self.mark_uncertain()
                self.rx_before += self.ws.rx_bytes
                self.connect()
                continue
            if text is not None:
                self.on_text(text)
            self.check_expect()
            while self.undo and self.undo[0][0] <= time.monotonic():
                _, action, target = self.undo.pop(0)
                self.do_undo(action, target)
            self.keep_floor()

    def keep_floor(self):
        if self.a.speakers <= 0 or self.mode != "interactive":
            self.short_since = None
            return
        pool = sorted(d for d, p in self.roster.items() if d.startswith(self.a.pool_prefix)
                      and p.get("role") == "delegate")
        live = [d for d in pool if self.roster[d].get("state") in ("live", "muted")]
        now = time.monotonic()
        if len(live) >= self.a.speakers:
            self.short_since = None
            return
        if self.short_since is None:
            self.short_since = now
            return
        if now - self.short_since < 3:
            return
        free = [d for d in pool if self.roster[d].get("connected") and
                self.roster[d].get("state") in ("listening", "queued")]
        if not free:
            return
        target = free[self.rr % len(free)]
        self.rr += 1
        self.send("grant", target)
        self.keeper_grants += 1
        self.short_since = now  # give the grant time to show before the next one

    def run(self):
        signal.signal(signal.SIGTERM, lambda *_: setattr(self, "stop", True))
        self.connect()
        t0 = self.t_run0 = time.monotonic()
        end = t0 + self.a.duration_s
        self.pump(min(end, t0 + self.a.start_after_s))
        k = 0
        while not self.stop and time.monotonic() < end:
            self.step(k)
            k += 1
            self.pump(min(end, time.monotonic() + self.a.period_s))
        self.stop = False
        for _, action, target in self.undo:  # leave the meeting as we found it
            self.do_undo(action, target)
        self.undo = []
        self.pump(time.monotonic() + self.a.confirm_s + 0.5)
        for e in self.expect:
            self.unconfirmed.append({k: e[4][k] for k in ("action", "target", "t")})
        self.ws.close()
        summary = {
            "delegate": self.a.delegate, "sent": self.sent, "by_action": self.by_action,
            "refused": len(self.refused), "refusals": self.refused[-50:],
            "confirmed": self.confirmed, "unconfirmed": len(self.unconfirmed),
            "unconfirmed_list": self.unconfirmed[-50:], "skipped": self.skipped,
            "participant_lost": len(self.lost_events), "lost_events": self.lost_events[-50:],
            "drops": self.drops, "roster_messages": self.roster_msgs, "roster_deltas": self.roster_deltas,
            "floor_keeper_grants": self.keeper_grants, "uncertain": self.uncertain,
            "rx_bytes": self.rx_before + self.ws.rx_bytes,
            "seconds": round(time.monotonic() - self.t_run0, 1),
        }
        with open(self.a.summary, "w") as f:
            json.dump(summary, f, indent=2)
        print(f"chair_driver: {self.sent} actions, {self.confirmed} seen, "
              f"{len(self.unconfirmed)} not seen, {len(self.refused)} refused, "
              f"{len(self.lost_events)} participant_lost, {self.drops} drops", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--secret-file", required=True)
    ap.add_argument("--meeting", required=True)
    ap.add_argument("--delegate", default="soakchair")
    ap.add_argument("--duration-s", type=float, required=True)
    ap.add_argument("--start-after-s", type=float, default=15)
    ap.add_argument("--period-s", type=float, default=10)
    ap.add_argument("--confirm-s", type=float, default=5)
    ap.add_argument("--actions", required=True)
    ap.add_argument("--summary", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--speakers", type=int, default=0,
                    help="keep this many of the pool live if nobody else does (0: off)")
    ap.add_argument("--pool-prefix", default="s")
    a = ap.parse_args()
    with open(a.secret_file) as f:
        a.secret = f.read().strip()
    Driver(a).run()


if __name__ == "__main__":
    main()
