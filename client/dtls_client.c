/*
 * dtls_client.c — the client library's DTLS: the shared context (our
 * identity: key, self-signed certificate, DTLS 1.2 client SSL_CTX with
 * use_srtp) and one DTLS client association per fb_rtc_client.
 *
 * Both are the DTLS core of webrtc/dtls_common.h, the bridge's own: this
 * file adds only where the client's datagrams go. A client owns its socket,
 * so every datagram SSL writes is handed straight to the owner's send
 * callback (the bridge queues instead, for its DTLS thread).
 *
 * The bridge's certificate is self-signed; it is authenticated by its digest,
 * compared with the answer's a=fingerprint in the verify callback (a mismatch
 * aborts the handshake with bad_certificate) and again once connected.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/rtc_client_int.h"
#include "webrtc/dtls_common.h"

_Static_assert(FB_RTC_DTLS_CONTINUE == FB_DTLS_CORE_CONTINUE &&
                   FB_RTC_DTLS_CONNECTED == FB_DTLS_CORE_CONNECTED &&
                   FB_RTC_DTLS_CLOSED == FB_DTLS_CORE_CLOSED &&
                   FB_RTC_DTLS_FAILED == FB_DTLS_CORE_FAILED,
               "the client and the DTLS core agree on the states");
_Static_assert(FB_RTC_FINGERPRINT_MAX >= FB_DTLS_FP_TEXT_MAX, "room for our fingerprint");

struct fb_rtc_client_ctx {
  fb_dtls_identity id;
};

struct fb_rtc_dtls {
  fb_dtls_assoc a;
  fb_rtc_dtls_send_fn send;
  void *ud;
};

/* The BIO's write side: straight to the socket. */
static void send_datagram(void *owner, const uint8_t *buf, size_t len) {
  fb_rtc_dtls *d = owner;
  if (d->send) d->send(d->ud, buf, len);
}

fb_rtc_client_ctx *fb_rtc_client_ctx_new(char *err, int errlen) {
  if (err && errlen > 0) err[0] = 0;
  fb_rtc_client_ctx *c = calloc(1, sizeof *c);
  if (!c) {
    if (err && errlen > 0) snprintf(err, (size_t)errlen, "out of memory");
    return NULL;
  }
  if (fb_srtp_global_init() != 0) {
    if (err && errlen > 0) snprintf(err, (size_t)errlen, "SRTP initialisation failed");
    free(c);
    return NULL;
  }
  if (fb_dtls_identity_init(&c->id, 0, "fbclient", FB_RTC_DTLS_MTU, err, errlen) != 0) {
    free(c);
    return NULL;
  }
  return c;
}

const char *fb_rtc_client_ctx_fingerprint(const fb_rtc_client_ctx *ctx) {
  return ctx ? ctx->id.fingerprint : "";
}

void fb_rtc_client_ctx_free(fb_rtc_client_ctx *ctx) {
  if (!ctx) return;
  fb_dtls_identity_free(&ctx->id);
  free(ctx);
}

fb_rtc_dtls *fb_rtc_dtls_new(fb_rtc_client_ctx *ctx, const char *expected_fp,
                             fb_rtc_dtls_send_fn send, void *ud) {
  if (!ctx || !expected_fp) return NULL;
  fb_rtc_dtls *d = calloc(1, sizeof *d);
  if (!d) return NULL;
  d->send = send;
  d->ud = ud;
  if (fb_dtls_assoc_init(&d->a, &ctx->id, expected_fp, send_datagram, d, FB_RTC_DTLS_MTU,
                         "the bridge's certificate does not match the answer's fingerprint",
                         "the bridge sent close_notify") != 0) {
    free(d);
    return NULL;
  }
  return d;
}

void fb_rtc_dtls_free(fb_rtc_dtls *d) {
  if (!d) return;
  fb_dtls_assoc_free(&d->a);
  free(d);
}

int fb_rtc_dtls_start(fb_rtc_dtls *d, uint64_t now_ns) {
  return d ? fb_dtls_assoc_start(&d->a, now_ns) : FB_RTC_DTLS_FAILED;
}

int fb_rtc_dtls_feed(fb_rtc_dtls *d, const uint8_t *buf, size_t len, uint64_t now_ns) {
  return d ? fb_dtls_assoc_feed(&d->a, buf, len, now_ns) : FB_RTC_DTLS_FAILED;
}

uint64_t fb_rtc_dtls_deadline(const fb_rtc_dtls *d) { return d ? d->a.deadline_ns : UINT64_MAX; }

int fb_rtc_dtls_handle_timeout(fb_rtc_dtls *d, uint64_t now_ns) {
  return d ? fb_dtls_assoc_handle_timeout(&d->a, now_ns) : FB_RTC_DTLS_FAILED;
}

int fb_rtc_dtls_srtp_keys(fb_rtc_dtls *d, fb_srtp_keys *out, const char **profile) {
  if (!d || d->a.state != FB_RTC_DTLS_CONNECTED) return -1;
  return fb_dtls_export_srtp_keys(d->a.ssl, 0, out, profile); /* we are the client */
}

const char *fb_rtc_dtls_error(const fb_rtc_dtls *d) { return d ? d->a.err : "no association"; }
