/*
 * chair.c — the load tool's chair (signalling thread): it rotates the
 * speaker pool through the floor with grant / end_turn, and switches the
 * meeting to webcast-only for the webcast scenario (PROTOCOL.md, floor.h).
 *
 * Floor control is probed, not assumed: once joined, the chair sends
 * end_turn for a delegate that does not exist. "unknown_type" means the
 * bridge does not speak floor control yet, and the speakers' tokens carry
 * "speak": true instead (auto-granted, no rotation); any other answer means
 * it does. --floor chair / --floor token skip the probe.
 *
 * Rotation: keep --speakers of the pool live; every --rotate-s the speaker
 * live the longest gets end_turn and the next joined pool speaker (round
 * robin) a grant. The bridge acknowledges neither (state arrives as
 * broadcasts, which the tool does not parse), so the chair counts what it
 * sent and the errors that come back.
 */
#include <stdio.h>
#include <string.h>

#include "util/clock.h"
#include "load/load.h"

static struct {
  int probing;
  uint64_t last_rotate;
  int next; /* round-robin position in the pool */
  char first_error[80];
} C;

static void send_cmd(ld_run *r, const char *type, const char *delegate) {
  char msg[256];
  snprintf(msg, sizeof msg, "{\"v\":1,\"type\":\"%s\",\"delegate\":\"%s\"}", type, delegate);
  ld_ws_send(r->chair.sess, msg);
}

void ld_chair_on_joined(ld_run *r) {
  if (r->chair_ready) { /* a reconnect: the floor kept its state; grant again */
    for (int i = 0; i < r->o.pool; i++) r->parts[i].live = 0;
    return;
  }
  if (r->o.floor == LD_FLOOR_CHAIR) {
    r->chair_protocol = 1;
    r->chair_ready = 1;
    snprintf(r->floor_note, sizeof r->floor_note, "--floor chair: grant/end_turn rotation");
    return;
  }
  C.probing = 1;
  send_cmd(r, "end_turn", "fbload-no-such-delegate");
}

void ld_chair_on_reply(ld_run *r, const char *type, const char *code, const char *request) {
  (void)type;
  code = code ? code : "?";
  request = request ? request : "?";
  if (C.probing && (!strcmp(request, "end_turn") || !strcmp(code, "unknown_type"))) {
    C.probing = 0;
    r->chair_protocol = strcmp(code, "unknown_type") != 0;
    r->chair_ready = 1;
    snprintf(r->floor_note, sizeof r->floor_note, "%s",
             r->chair_protocol ? "floor control found: chair rotates speakers with grant/end_turn"
                               : "no floor control in the bridge: speakers use speak=true tokens");
    return;
  }
  if (!strcmp(request, "grant"))
    r->grant_errors++;
  else if (!strcmp(request, "end_turn"))
    r->end_turn_errors++;
  if (!C.first_error[0]) {
    snprintf(C.first_error, sizeof C.first_error, "%s: %s", request, code);
    snprintf(r->chair_error, sizeof r->chair_error, "%s", C.first_error);
  }
  if (r->o.verbose) fprintf(stderr, "floorbridge-load: chair: %s refused: %s\n", request, code);
}

void ld_chair_speaker_joined(ld_run *r, ld_part *p) {
  (void)r;
  p->live = 0;
}

void ld_chair_speaker_left(ld_run *r, ld_part *p) {
  (void)r;
  p->live = 0;
}

static int eligible(const ld_part *p) {
  const ld_sess *s = p->sess;
  return s && s->wsi && s->state >= SS_JOINED && s->state <= SS_MEDIA;
}

/* Grant the next eligible pool speaker that is not live; 0 when none. */
static int grant_next(ld_run *r, uint64_t now) {
  for (int k = 0; k < r->o.pool; k++) {
    ld_part *p = &r->parts[(C.next + k) % r->o.pool];
    if (p->live || !eligible(p)) continue;
    C.next = (p->index + 1) % r->o.pool;
    send_cmd(r, "grant", p->delegate);
    p->live = 1;
    p->live_since = now;
    r->grants++;
    return 1;
  }
  return 0;
}

void ld_chair_tick(ld_run *r, uint64_t now) {
  if (!r->chair_protocol || !r->chair.sess || !r->chair.sess->wsi ||
      r->chair.sess->state != SS_JOINED || r->o.pool <= 0)
    return;
  if (atomic_load(&r->webcast_on)) return;
  int live = 0;
  for (int i = 0; i < r->o.pool; i++) {
    ld_part *p = &r->parts[i];
    if (p->live && !eligible(p)) p->live = 0; /* it left */
    live += p->live;
  }
  while (live < r->o.speakers && grant_next(r, now)) live++;
  if (r->o.rotate_s <= 0 || live < r->o.speakers || r->o.pool <= r->o.speakers) return;
  if (!C.last_rotate) C.last_rotate = now;
  if (now - C.last_rotate < (uint64_t)(r->o.rotate_s * 1e9)) return;
  C.last_rotate = now;
  ld_part *oldest = NULL;
  for (int i = 0; i < r->o.pool; i++) {
    ld_part *p = &r->parts[i];
    if (p->live && (!oldest || p->live_since < oldest->live_since)) oldest = p;
  }
  if (!oldest) return;
  send_cmd(r, "end_turn", oldest->delegate);
  oldest->live = 0;
  r->end_turns++;
  grant_next(r, now);
}

void ld_chair_webcast(ld_run *r) {
  if (!r->chair_protocol) {
    snprintf(r->floor_note, sizeof r->floor_note,
             "webcast: the bridge has no floor control; ran as all-listen load only");
    return;
  }
  ld_ws_send(r->chair.sess, "{\"v\":1,\"type\":\"set_mode\",\"mode\":\"webcast\"}");
  r->mode_switches++;
  atomic_store(&r->webcast_since, fb_now_ns());
  atomic_store(&r->webcast_on, 1);
}
