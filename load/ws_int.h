/*
 * ws_int.h — shared between ws.c (the WebSocket sessions) and schedule.c
 * (the run's phases), both on the signalling thread: the state they share
 * and the calls between them. Not for the rest of the tool.
 */
#ifndef FB_LOAD_WS_INT_H
#define FB_LOAD_WS_INT_H

#include <libwebsockets.h>
#include <signal.h>

#include "load/load.h"
#include "load/probe.h"

#define LD_TICK_US 10000       /* schedule tick while joining and leaving */
#define LD_SLOW_TICK_US 100000 /* ... in the measured window */

enum { PH_CHAIR, PH_RAMP, PH_SETTLE, PH_WINDOW, PH_LEAVE, PH_DONE };

typedef struct {
  ld_run *r;
  struct lws_context *ctx;
  lws_sorted_usec_list_t sul;
  int phase;
  uint64_t phase_t, last_timeout_scan, last_churn;
  int started;
  double churn_credit;
  ld_sess **all; /* every session ever made (freed at the end) */
  size_t nall, capall;
  ld_probe_window *pw;
  uint32_t rng;
  uint64_t chair_rejoin_at; /* the bridge dropped the chair: reconnect then */
} ld_ws_state;

extern ld_ws_state W;
extern volatile sig_atomic_t ld_interrupted;
extern const struct lws_protocols ld_protocols[];

uint32_t ld_ws_rnd(void);
/* Start a new session for p (connect its WebSocket). */
ld_sess *ld_ws_connect(ld_part *p);
/* Leave: finish the media, send leave, close. */
void ld_ws_leave(ld_sess *s);
/* A failed join: count it, close. */
void ld_ws_fail(ld_sess *s, const char *why);

#endif
