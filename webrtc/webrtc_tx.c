/*
 * webrtc_tx.c — the WebRTC transport's send side, on the mixer thread: copy
 * header + shared payload into a batch slot, SRTP-protect it in place with the
 * peer's outbound session, and send the batch with one sendmmsg. This is the
 * per-listener cost of a browser: one copy of ~100 bytes, one AES-CM/HMAC or
 * GCM protect, one slot in a syscall batch. Peers without keys or address yet
 * are skipped (their stream simply starts later).
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/socket.h>

#include "webrtc/webrtc_peer.h"

static void tx_flush(fb_transport *t) {
  fb_webrtc_tx *tx = (fb_webrtc_tx *)t;
  int errors;
  fb_net_send_batch(fb_net_fd(tx->w->net), tx->msgs, tx->n, &errors);
  tx->send_errors += (uint64_t)errors;
  tx->n = 0;
}

static void tx_send(fb_transport *t, fb_participant *p, const uint8_t *hdr, size_t hl,
                    const uint8_t *payload, size_t plen) {
  fb_webrtc_tx *tx = (fb_webrtc_tx *)t;
  fb_webrtc_peer *peer = p->rtc;
  if (!peer || !atomic_load_explicit(&peer->has_address, memory_order_acquire) ||
      !atomic_load_explicit(&peer->consent_ok, memory_order_relaxed))
    return;
  fb_srtp *s = atomic_load_explicit(&peer->srtp, memory_order_acquire);
  if (!s || hl + plen > 1500) return;
  if (tx->n == FB_WEBRTC_BATCH) tx_flush(t);
  int i = tx->n;
  socklen_t tolen = fb_participant_get_addr(p, &tx->to[i]);
  if (tolen == 0) {
    tx->addr_busy++; /* the net thread is moving the address: skip one packet */
    return;
  }
  uint8_t *slot = tx->slot[i];
  memcpy(slot, hdr, hl);
  memcpy(slot + hl, payload, plen);
  int len = (int)(hl + plen);
  if (fb_srtp_protect(s, slot, &len, FB_WEBRTC_SLOT) != FB_SRTP_OK) {
    tx->protect_errors++;
    return;
  }
  tx->iov[i] = (struct iovec){.iov_base = slot, .iov_len = (size_t)len};
  tx->msgs[i].msg_hdr = (struct msghdr){
      .msg_name = &tx->to[i], .msg_namelen = tolen, .msg_iov = &tx->iov[i], .msg_iovlen = 1};
  tx->n++;
  atomic_fetch_add_explicit(&peer->sent_packets, 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&peer->sent_octets, plen, memory_order_relaxed);
  atomic_store_explicit(
      &peer->last_rtp_ts,
      ((uint32_t)hdr[4] << 24) | ((uint32_t)hdr[5] << 16) | ((uint32_t)hdr[6] << 8) | hdr[7],
      memory_order_relaxed);
  atomic_store_explicit(&peer->last_send_ns, fb_now_ns(), memory_order_relaxed);
}

void fb_webrtc_tx_init(struct fb_webrtc *w) {
  w->tx.base.receive = fb_webrtc_receive;
  w->tx.base.send = tx_send;
  w->tx.base.flush = tx_flush;
  w->tx.w = w;
}

fb_transport *fb_webrtc_transport(fb_webrtc *w) { return &w->tx.base; }
