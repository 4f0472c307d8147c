/*
 * schedule.c — the run's schedule on the signalling thread (see ws.c for
 * the sessions): a 10 ms lws_sul tick (100 ms in the measured window, since
 * lws polls every connection on each wake-up) drives the phases
 *
 *   chair   the chair joins and probes floor control (chair.c), up to 5 s
 *   ramp    listeners, then the speaker pool, connect at --ramp-per-s
 *           (all at once for storm)
 *   settle  until every join has ended (audio or failure), then --settle-s;
 *           webcast: the chair switches to webcast-only here
 *   window  --duration-s measured, bridge probes at both edges; churn runs
 *   leave   media sessions finish first (leaving is not a gap), then every
 *           connection sends leave and closes; at most 3 s
 *   done
 *
 * Join timeouts are checked every 250 ms. SIGINT/SIGTERM jump to leave
 * (closing the window early if it was open).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "load/ws_int.h"

volatile sig_atomic_t ld_interrupted;

void ld_ws_interrupt(void) {
  ld_interrupted = 1;
  if (W.ctx) lws_cancel_service(W.ctx);
}

static void open_window(uint64_t now) {
  ld_run *r = W.r;
  W.phase = PH_WINDOW;
  W.phase_t = now;
  r->t_window0 = now;
  ld_probe_take(&r->o, &W.pw->a);
  W.pw->ta = fb_now_ns();
  atomic_store(&r->window_open, 1);
  if (!r->o.verbose) return;
  fprintf(stderr, "floorbridge-load: window open: %d joined, %d failed\n",
          atomic_load(&r->joins_ok), atomic_load(&r->joins_failed));
}

static void close_window(uint64_t now) {
  ld_run *r = W.r;
  atomic_store(&r->window_open, 0);
  r->t_window1 = now;
  ld_probe_take(&r->o, &W.pw->b);
  W.pw->tb = fb_now_ns();
}

static void start_leave(uint64_t now) {
  ld_run *r = W.r;
  W.phase = PH_LEAVE;
  W.phase_t = now;
  for (size_t i = 0; i < W.nall; i++)
    if (W.all[i]->part->role != LD_CHAIR) ld_ws_leave(W.all[i]);
  ld_ws_leave(r->chair.sess);
}

static int all_closed(void) {
  for (size_t i = 0; i < W.nall; i++)
    if (W.all[i]->wsi) return 0;
  return 1;
}

/* Joins that ended (audio or failure) among the participants' first sessions. */
static int first_joins_done(void) {
  ld_run *r = W.r;
  int done = 0;
  for (int i = 0; i < r->o.n; i++) {
    ld_sess *s = r->parts[i].sess;
    if (s && atomic_load(&s->outcome)) done++;
  }
  return done;
}

static void churn(uint64_t now) {
  ld_run *r = W.r;
  W.churn_credit += r->o.churn_per_s * (double)(now - W.last_churn) / 1e9;
  W.last_churn = now;
  for (int tries = 0; W.churn_credit >= 1 && tries < 64; tries++) {
    ld_part *p = &r->parts[ld_ws_rnd() % (uint32_t)r->o.n];
    ld_sess *s = p->sess;
    if (p->role != LD_LISTENER || !s || s->state != SS_MEDIA || atomic_load(&s->outcome) != 1)
      continue;
    ld_ws_leave(s);
    atomic_fetch_add(&r->leaves, 1);
    p->rejoin_at = now + (uint64_t)(r->o.rejoin_ms * 1e6);
    W.churn_credit -= 1;
  }
  for (int i = 0; i < r->o.n; i++) {
    ld_part *p = &r->parts[i];
    ld_sess *s = p->sess;
    /* A session that failed, or that the bridge dropped, comes back like the
     * delegate page does: after a backoff that grows with each failure in a
     * row (1, 2, 3 ... 6 x rejoin_ms). Without this a stall of the bridge or
     * the network shrinks a churn run's meeting for good. */
    if (s && !p->rejoin_at && (s->state == SS_FAILED || s->state == SS_CLOSED)) {
      int k = p->fails < 5 ? p->fails : 5;
      p->rejoin_at = now + (uint64_t)(r->o.rejoin_ms * (1 + k) * 1e6);
      p->fails++;
    } else if (s && atomic_load(&s->outcome) == 1 && s->state == SS_MEDIA) {
      p->fails = 0;
    }
    if (p->rejoin_at && now >= p->rejoin_at && (!p->sess || !p->sess->wsi)) {
      p->rejoin_at = 0;
      ld_ws_connect(p);
    }
  }
}

static void timeouts(uint64_t now) {
  ld_run *r = W.r;
  uint64_t limit = (uint64_t)(r->o.join_timeout_s * 1e9);
  for (size_t i = 0; i < W.nall; i++) {
    ld_sess *s = W.all[i];
    if (s->part->role == LD_CHAIR || atomic_load(&s->outcome) || s->state == SS_FAILED ||
        s->state == SS_CLOSING || s->state == SS_CLOSED || now < s->t_connect + limit)
      continue;
    static const char *what[] = {"idle", "connect", "joined", "answer", "first audio"};
    char why[120];
    snprintf(why, sizeof why, "no %s within %.0f s", what[s->state <= SS_MEDIA ? s->state : 0],
             r->o.join_timeout_s);
    ld_ws_fail(s, why);
  }
}

static void tick(lws_sorted_usec_list_t *sul) {
  ld_run *r = W.r;
  uint64_t now = fb_now_ns();
  if (ld_interrupted && W.phase < PH_LEAVE) {
    if (W.phase == PH_WINDOW) close_window(now);
    start_leave(now);
  }
  switch (W.phase) {
  case PH_CHAIR:
    if (r->chair_ready || now - W.phase_t > 5 * LD_S) {
      if (!r->chair_ready) {
        r->chair_protocol = 0;
        snprintf(r->floor_note, sizeof r->floor_note,
                 "the chair did not join in 5 s: speakers use tokens with speak=true");
      }
      W.phase = PH_RAMP;
      W.phase_t = now;
    }
    break;
  case PH_RAMP: {
    int want = r->o.n;
    if (r->o.ramp_per_s > 0) {
      double due = 1 + r->o.ramp_per_s * (double)(now - W.phase_t) / 1e9;
      if (due < want) want = (int)due;
    }
    /* listeners first, the speaker pool last: a speaker's uplink then starts
     * after the ramp, so the bridge's jitter buffers do not keep the delay
     * the tool's own join work (DTLS handshakes) put on early packets */
    int listeners = r->o.n - r->o.pool;
    for (; W.started < want; W.started++)
      ld_ws_connect(
          &r->parts[W.started < listeners ? r->o.pool + W.started : W.started - listeners]);
    if (W.started == r->o.n) {
      W.phase = PH_SETTLE;
      W.phase_t = now;
    }
    break;
  }
  case PH_SETTLE:
    if (first_joins_done() < r->o.n)
      W.phase_t = now; /* settle counts from the last join */
    else if (!r->settle_started) {
      r->settle_started = 1;
      r->t_joins_done = now;
      if (r->o.scenario == LD_WEBCAST) ld_chair_webcast(r);
      if (r->o.verbose) fprintf(stderr, "floorbridge-load: joins done\n");
    }
    if (r->settle_started && now - W.phase_t >= (uint64_t)(r->o.settle_s * 1e9)) {
      open_window(now);
      W.last_churn = now;
    }
    break;
  case PH_WINDOW:
    if (r->o.scenario == LD_CHURN && r->o.churn_per_s > 0) churn(now);
    if (now - W.phase_t >= (uint64_t)(r->o.duration_s * 1e9)) {
      close_window(now);
      start_leave(now);
    }
    break;
  case PH_LEAVE:
    if (all_closed() || now - W.phase_t > 3 * LD_S) W.phase = PH_DONE;
    break;
  default: break;
  }
  if (W.chair_rejoin_at && now >= W.chair_rejoin_at && W.phase < PH_LEAVE) {
    W.chair_rejoin_at = 0;
    ld_ws_connect(&r->chair);
  }
  if (W.phase >= PH_RAMP && W.phase < PH_LEAVE) {
    if (now - W.last_timeout_scan > 250 * LD_MS) {
      W.last_timeout_scan = now;
      timeouts(now);
    }
    ld_chair_tick(r, now);
  }
  /* lws polls every connection on each wake-up: tick fast only while
   * joins are paced, slowly in the steady state */
  if (W.phase != PH_DONE)
    lws_sul_schedule(W.ctx, 0, sul, tick, W.phase == PH_WINDOW ? LD_SLOW_TICK_US : LD_TICK_US);
  else
    lws_cancel_service(W.ctx); /* lws would otherwise poll until its next own timer */
}

int ld_ws_run(ld_run *r, ld_probe_window *pw, char *err, size_t errlen) {
  memset(&W, 0, sizeof W);
  W.r = r;
  W.pw = pw;
  W.rng = (r->o.seed ? r->o.seed : 777) * 2654435761u;
  const char *ll = getenv("FBLOAD_LWS_LOG"); /* lws log bitmask, for debugging */
  lws_set_log_level(ll                 ? atoi(ll)
                    : r->o.verbose > 1 ? LLL_ERR | LLL_WARN | LLL_NOTICE
                                       : LLL_ERR,
                    NULL);
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = ld_protocols;
  info.options = r->o.tls ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0;
  info.timeout_secs = (unsigned)(r->o.join_timeout_s > 1 ? r->o.join_timeout_s : 1);
  /* lws reads at most this much per readable socket and wake-up: the
   * default 4 KiB cannot keep up with a chair's roster broadcasts */
  info.pt_serv_buf_size = 256 * 1024;
  W.ctx = lws_create_context(&info);
  if (!W.ctx) return snprintf(err, errlen, "cannot create the libwebsockets context"), -1;
  r->lws_ctx = W.ctx;
  W.phase_t = fb_now_ns();
  if (r->o.floor == LD_FLOOR_TOKEN) {
    W.phase = PH_RAMP;
    r->chair_protocol = 0;
    snprintf(r->floor_note, sizeof r->floor_note, "--floor token: speakers use speak=true");
  } else {
    W.phase = PH_CHAIR;
    ld_ws_connect(&r->chair);
  }
  lws_sul_schedule(W.ctx, 0, &W.sul, tick, 1);
  while (W.phase != PH_DONE)
    if (lws_service(W.ctx, 0) < 0) break;
  lws_sul_cancel(&W.sul);
  lws_context_destroy(W.ctx); /* closes what is left */
  W.ctx = NULL;
  r->lws_ctx = NULL;
  return 0;
}
