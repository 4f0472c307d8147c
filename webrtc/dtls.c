/*
 * dtls.c — the bridge's DTLS 1.2 server per participant, on the DTLS core
 * (dtls_core.c, shared with the client): this file adds only where the
 * server's datagrams go. See dtls.h for the authentication and cookie
 * rationale.
 *
 * I/O is the datagram BIO of dtls_common.h (why not memory BIOs: there).
 * Here every datagram SSL writes goes into a small ring that the net thread
 * drains (fb_dtls_next_outgoing); OpenSSL's DTLS code already packs records
 * into MTU-sized writes and flushes at datagram boundaries. If the ring is
 * full (the caller did not drain it) further writes are dropped, which DTLS
 * treats like loss on the wire (retransmission). Queued datagrams are
 * allocated at their size and freed when drained: the caller drains after
 * every feed, so the ring is empty almost always, and sixteen MTU-sized
 * slots per participant (19 KiB) were pure overhead. The read side hands SSL
 * the datagram being fed straight from the caller's buffer, once.
 */
#include "webrtc/dtls.h"
#include "webrtc/dtls_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FB_DTLS_QUEUE 16 /* outgoing datagrams held between drains */

_Static_assert(FB_DTLS_CONTINUE == FB_DTLS_CORE_CONTINUE &&
                   FB_DTLS_CONNECTED == FB_DTLS_CORE_CONNECTED &&
                   FB_DTLS_CLOSED == FB_DTLS_CORE_CLOSED && FB_DTLS_FAILED == FB_DTLS_CORE_FAILED,
               "dtls.h and the DTLS core agree on the states");
_Static_assert(FB_DTLS_FINGERPRINT_MAX >= FB_DTLS_FP_TEXT_MAX, "room for our fingerprint");

struct fb_dtls_ctx {
  fb_dtls_identity id;
};

typedef struct {
  uint16_t len;
  uint8_t data[]; /* len bytes */
} fb_dgram;

struct fb_dtls {
  fb_dtls_assoc a;
  /* outgoing datagrams (write side of the BIO), a ring of allocated ones */
  fb_dgram *q[FB_DTLS_QUEUE];
  int q_head, q_count;
  uint64_t q_dropped;
};

static uint64_t mono_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The BIO's write side: one datagram into the ring. */
static void queue_datagram(void *owner, const uint8_t *buf, size_t len) {
  fb_dtls *d = owner;
  fb_dgram *g = len > FB_DTLS_MTU || d->q_count == FB_DTLS_QUEUE ? NULL : malloc(sizeof *g + len);
  if (!g) {
    d->q_dropped++; /* like loss on the wire */
    return;
  }
  memcpy(g->data, buf, len);
  g->len = (uint16_t)len;
  d->q[(d->q_head + d->q_count) % FB_DTLS_QUEUE] = g;
  d->q_count++;
}

fb_dtls_ctx *fb_dtls_ctx_new(char *err, int errlen) {
  fb_dtls_ctx *c = calloc(1, sizeof *c);
  if (!c) {
    if (err && errlen > 0) snprintf(err, (size_t)errlen, "out of memory");
    return NULL;
  }
  if (fb_dtls_identity_init(&c->id, 1, "floorbridge", FB_DTLS_MTU, err, errlen) != 0) {
    free(c);
    return NULL;
  }
  return c;
}

const char *fb_dtls_ctx_fingerprint(const fb_dtls_ctx *ctx) {
  return ctx ? ctx->id.fingerprint : "";
}

void fb_dtls_ctx_free(fb_dtls_ctx *ctx) {
  if (!ctx) return;
  fb_dtls_identity_free(&ctx->id);
  free(ctx);
}

fb_dtls *fb_dtls_new(fb_dtls_ctx *ctx, const char *expected_remote_fingerprint) {
  if (!ctx) return NULL;
  fb_dtls *d = calloc(1, sizeof *d);
  if (!d) return NULL;
  if (fb_dtls_assoc_init(&d->a, &ctx->id, expected_remote_fingerprint, queue_datagram, d,
                         FB_DTLS_MTU, "remote certificate does not match the SDP fingerprint",
                         "peer sent close_notify") != 0) {
    free(d);
    return NULL;
  }
  return d;
}

void fb_dtls_free(fb_dtls *d) {
  if (!d) return;
  fb_dtls_assoc_free(&d->a);
  for (int i = 0; i < d->q_count; i++) free(d->q[(d->q_head + i) % FB_DTLS_QUEUE]);
  free(d);
}

int fb_dtls_feed(fb_dtls *d, const uint8_t *in, size_t len) {
  if (!d) return FB_DTLS_FAILED;
  return fb_dtls_assoc_feed(&d->a, in, len, mono_now_ns());
}

int fb_dtls_next_outgoing(fb_dtls *d, uint8_t *out, size_t cap) {
  if (!d || d->q_count == 0) return 0;
  fb_dgram *g = d->q[d->q_head];
  if (cap < g->len) return -1;
  int len = g->len;
  memcpy(out, g->data, g->len);
  free(g);
  d->q[d->q_head] = NULL;
  d->q_head = (d->q_head + 1) % FB_DTLS_QUEUE;
  d->q_count--;
  return len;
}

uint64_t fb_dtls_next_timeout_ns(const fb_dtls *d) { return d ? d->a.deadline_ns : UINT64_MAX; }

int fb_dtls_handle_timeout(fb_dtls *d, uint64_t now_ns) {
  if (!d) return FB_DTLS_FAILED;
  return fb_dtls_assoc_handle_timeout(&d->a, now_ns);
}

int fb_dtls_state(const fb_dtls *d) { return d ? d->a.state : FB_DTLS_FAILED; }

const char *fb_dtls_error(const fb_dtls *d) { return d ? d->a.err : "no association"; }

int fb_dtls_srtp_keys(fb_dtls *d, fb_srtp_keys *out) {
  if (!d || !out || d->a.state != FB_DTLS_CONNECTED) return -1;
  return fb_dtls_export_srtp_keys(d->a.ssl, 1, out, NULL);
}

void fb_dtls_close(fb_dtls *d) {
  if (d) fb_dtls_assoc_close(&d->a);
}
