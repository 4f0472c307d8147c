/*
 * net.h — the single UDP media port.
 *
 * One socket for every participant. The net thread receives in batches
 * (recvmmsg), finds each datagram's participant by the source address
 * (5-tuple; one socket so the local half is fixed), and hands it down to
 * that participant's transport (mixer/transport.h: receive): the WebRTC
 * transport (webrtc/) or plain RTP (here), which push the payload into the
 * participant's uplink ring. From an unknown source only a STUN check goes
 * on (the stranger hook). Unknown sources and malformed packets are counted
 * and dropped; nothing is ever sent back to an unknown address.
 *
 * Locking: the net lock guards only the address map. The net thread takes it
 * once per batch for the lookups and releases it before any datagram is
 * handled, so handshakes, HMACs and SRTP never run under it, and no other
 * thread waits behind them. Removal is two steps: fb_net_unroute takes p out
 * of the map and returns a token; fb_net_quiescent(token) says when the net
 * thread has finished the batch that may still have held p (an epoch, odd
 * while a batch is being handled).
 *
 * The same socket is the plain-RTP transport for the mixer's fan-out: packets
 * are gathered as (header, shared payload) iovecs and sent with sendmmsg at
 * flush, so a listener costs a 12-byte header and a slot in the batch.
 */
#ifndef FB_NET_H
#define FB_NET_H

#include <stdint.h>
#include <sys/socket.h>

#include "mixer/participant.h"
#include "mixer/transport.h"

typedef struct fb_net fb_net;

typedef struct {
  uint64_t rx_datagrams;
  uint64_t rx_unknown_source;
  uint64_t rx_malformed;
  uint64_t rx_rtcp;
  uint64_t rx_not_rtp; /* from a plain-RTP peer, neither RTP nor RTCP */
  uint64_t tx_datagrams;
  uint64_t tx_errors;
} fb_net_stats;

/* Bind bind_addr:port (port 0 = ephemeral, for tests). NULL with err on failure. */
fb_net *fb_net_new(const char *bind_addr, int port, char *err, int errlen);

/* The bound port. */
int fb_net_port(const fb_net *n);

/* Start / stop the receive thread. */
int fb_net_start(fb_net *n);
void fb_net_stop(fb_net *n);

/* Free (after stop). */
void fb_net_free(fb_net *n);

/* The plain-RTP transport that sends from this socket. */
fb_transport *fb_net_transport(fb_net *n);

/* Any thread: route datagrams from p->addr to p. p->addr/addrlen must be set.
 * Returns 0, or -1 when that address is already taken. */
int fb_net_add_peer(fb_net *n, fb_participant *p);

/* Any thread: stop routing to p (and tell the WebRTC handler to forget it).
 * Never waits. Returns a token for fb_net_quiescent. p cannot be routed again
 * afterwards. */
uint64_t fb_net_unroute(fb_net *n, fb_participant *p);

/* Any thread: 1 once the net thread holds no reference to a participant
 * unrouted with this token (it has finished the batch that was in progress,
 * or it is not running), else 0. Never waits. */
int fb_net_quiescent(fb_net *n, uint64_t token);

/* Any thread: fb_net_unroute, then wait (at most one batch, a few ms) until
 * fb_net_quiescent. For set-up failures and shutdown; leaving participants
 * go through the bridge's reaper instead, which never waits. */
void fb_net_remove_peer(fb_net *n, fb_participant *p);

void fb_net_get_stats(const fb_net *n, fb_net_stats *out);

/* ---- hooks for the WebRTC transport (all called on the net thread) ---- */

typedef struct {
  /* A STUN datagram (first byte 0..3) from an address no participant has
   * (yet). The net lock is NOT held: the hook may call fb_net_rebind and
   * fb_net_sendto. Datagrams from known addresses go to the participant's
   * transport instead (transport.h: receive). */
  void (*on_stranger)(void *ud, uint8_t *buf, size_t len, const struct sockaddr_storage *from,
                      socklen_t fromlen, uint64_t now);
  /* Every ~20 ms, without the net lock: retransmissions, consent, RTCP. */
  void (*on_timer)(void *ud, uint64_t now);
  /* p is being unrouted (net lock held, any thread): forget everything that
   * could route a datagram to it. Must be quick and must not call net. */
  void (*on_peer_removed)(void *ud, fb_participant *p);
} fb_net_handler;

/* Install the WebRTC handler (before fb_net_start). */
void fb_net_set_handler(fb_net *n, const fb_net_handler *h, void *ud);

/* Net thread (inside a receive or on_stranger): route datagrams from `from` to p from now
 * on; p's previous address (if any) stops routing. Takes the net lock.
 * Returns 0, or -1 when another participant owns that address or p has been
 * unrouted meanwhile. */
int fb_net_rebind(fb_net *n, fb_participant *p, const struct sockaddr_storage *from,
                  socklen_t fromlen);

/* Net thread: send one datagram now (STUN responses, DTLS, RTCP). */
void fb_net_sendto(fb_net *n, const uint8_t *buf, size_t len, const struct sockaddr_storage *to,
                   socklen_t tolen);

/* Mixer thread: send count datagrams with sendmmsg, never blocking. A
 * datagram the kernel refuses (full buffer, unreachable) is dropped and
 * counted in *errors, and the rest still go. Returns how many were sent.
 * The one send loop of both transports. */
struct mmsghdr; /* <sys/socket.h> with _GNU_SOURCE, in the callers */
int fb_net_send_batch(int fd, struct mmsghdr *msgs, int count, int *errors);

/* The socket (the WebRTC transport's sendmmsg on the mixer thread). */
int fb_net_fd(const fb_net *n);

/* Any thread, once the mixer no longer pops p's uplink queue (p is not
 * decoded, see fb_mixer_set_release_hook): detach the queue (later uplink is
 * dropped, as for a listener). Never waits: the net thread frees the queue
 * itself between batches, when no push can be in progress.
 * fb_participant_want_uplink allocates a new one when needed. */
void fb_net_release_uplink(fb_net *n, fb_participant *p);

#endif
