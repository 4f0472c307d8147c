/*
 * rtc_client.h — a WebRTC audio client for one participant, in C, for tests
 * and the load tool: it does what a browser does towards floorbridge, and no
 * more.
 *
 *   ICE      controlling full agent with one host candidate, talking to the
 *            bridge's ICE-lite port: Binding requests with USERNAME
 *            "remote_ufrag:local_ufrag", PRIORITY, ICE-CONTROLLING,
 *            USE-CANDIDATE (aggressive nomination), MESSAGE-INTEGRITY (the
 *            bridge's password) and FINGERPRINT (libnice's STUN library);
 *            every 50 ms until one is answered, then as RFC 7675 consent
 *            checks.
 *   DTLS     DTLS 1.2 client (a=setup:active) with use_srtp; the bridge's
 *            certificate is accepted only if its digest matches the
 *            a=fingerprint of the answer.
 *   SRTP     keys exported per RFC 5764 into an fb_srtp (webrtc/srtp_session.h)
 *            from the client's point of view.
 *   media    Opus (48 kHz mono, 20 ms) over SRTP with an optional RFC 6464
 *            audio-level header extension; received RTP is checked for
 *            sequence gaps and (optionally) decoded into a PCM buffer; SRTCP
 *            sender reports are counted and answered with receiver reports.
 *
 * Model: single-threaded, non-blocking and event driven, so one process can
 * run thousands of clients: each client owns one UDP socket and nothing else
 * that blocks. The caller waits on fb_rtc_client_fd() (poll/epoll) and calls
 * fb_rtc_client_on_readable() when it is readable, and fb_rtc_client_poll()
 * at least every 20 ms (or at fb_rtc_client_next_timeout_ns()) to drive the
 * timers. No call sleeps, resolves names or spawns threads. All times are
 * CLOCK_MONOTONIC nanoseconds (util/clock.h fb_now_ns()).
 *
 * Sharing: an fb_rtc_client_ctx holds what every client may share (the
 * OpenSSL SSL_CTX, one ECDSA P-256 key and self-signed certificate, its
 * fingerprint). Clients made from one ctx must be used from one thread at a
 * time each; different clients may live on different threads, but the ctx
 * must outlive them all.
 *
 * Typical use (see tests/integration/test_webrtc_loopback.c):
 *
 *   fb_rtc_client_ctx *ctx = fb_rtc_client_ctx_new(err, sizeof err);
 *   fb_rtc_client *c = fb_rtc_client_new(ctx, "127.0.0.1", err, sizeof err);
 *   offer = {fb_rtc_client_ufrag(c), fb_rtc_client_pwd(c),
 *            fb_rtc_client_ctx_fingerprint(ctx), 111, 1};     -> signalling
 *   fb_rtc_client_set_remote(c, ans.candidate_ip, ans.candidate_port,
 *                            ans.ice_ufrag, ans.ice_pwd, ans.fingerprint, 111);
 *   loop: poll(fd) -> fb_rtc_client_on_readable(c, now);
 *         fb_rtc_client_poll(c, now);
 *         every 20 ms once CONNECTED: fb_rtc_client_send_audio(c, pcm, now);
 */
#ifndef FB_RTC_CLIENT_H
#define FB_RTC_CLIENT_H

#include <stddef.h>
#include <stdint.h>

typedef struct fb_rtc_client_ctx fb_rtc_client_ctx;
typedef struct fb_rtc_client fb_rtc_client;

/* Client states (fb_rtc_client_state). */
#define FB_RTC_NEW 0       /* created; ICE checks running once set_remote was called */
#define FB_RTC_ICE_OK 1    /* a check was answered; DTLS handshake in progress */
#define FB_RTC_CONNECTED 2 /* DTLS done, fingerprint verified, SRTP keys in place */
#define FB_RTC_FAILED 3    /* terminal; fb_rtc_client_error() says why */

/* Longest "sha-256 AB:CD:..." fingerprint string, with its NUL. */
#define FB_RTC_FINGERPRINT_MAX 160

/* ---- shared context ------------------------------------------------------ */

/* Create the shared context: an ECDSA P-256 key, a self-signed certificate
 * (CN "fbclient", SHA-256, valid 30 days), and a DTLS 1.2 client SSL_CTX
 * offering use_srtp "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80". Also
 * initialises SRTP (once per process). Returns NULL on failure with a
 * message in err (errlen bytes; err may be NULL). */
fb_rtc_client_ctx *fb_rtc_client_ctx_new(char *err, int errlen);

/* "sha-256 AB:CD:..." (upper-case hex) of the context's certificate: the
 * a=fingerprint every client made from ctx offers. Owned by ctx. */
const char *fb_rtc_client_ctx_fingerprint(const fb_rtc_client_ctx *ctx);

/* Free the context. Every client made from it must be freed first. NULL is
 * fine. */
void fb_rtc_client_ctx_free(fb_rtc_client_ctx *ctx);

/* ---- one client ---------------------------------------------------------- */

/* Create a client with its own non-blocking UDP socket bound to bind_ip (an
 * IPv4 or IPv6 literal, e.g. "127.0.0.1") on an ephemeral port, fresh random
 * ICE credentials (8-character ufrag, 24-character password), SSRC, initial
 * sequence number and timestamp, and an ICE tie-breaker. Nothing is sent
 * until fb_rtc_client_set_remote(). Returns NULL with a message in err. */
fb_rtc_client *fb_rtc_client_new(fb_rtc_client_ctx *ctx, const char *bind_ip, char *err,
                                 int errlen);

/* Close the socket and free everything. NULL is fine. Sends nothing (no
 * close_notify): to the bridge this looks like a browser that vanished. */
void fb_rtc_client_free(fb_rtc_client *c);

/* Our ICE credentials, for the offer (a=ice-ufrag / a=ice-pwd). Owned by c. */
const char *fb_rtc_client_ufrag(const fb_rtc_client *c);
const char *fb_rtc_client_pwd(const fb_rtc_client *c);

/* The bound local UDP port (changes with fb_rtc_client_rebind). */
int fb_rtc_client_local_port(const fb_rtc_client *c);

/* The socket to wait on for readability (changes with fb_rtc_client_rebind;
 * re-register it then). -1 only if a rebind failed. */
int fb_rtc_client_fd(const fb_rtc_client *c);

/* Give the client what the answer says: the bridge's host candidate ip:port
 * (IP literal), its ICE ufrag and password, its certificate fingerprint
 * ("sha-256 AB:..."; sha-1/224/384/512 accepted too) and the Opus payload
 * type to send with (the one from our offer). ICE checks start at the next
 * fb_rtc_client_poll(). Returns 0, or -1 (state FAILED, reason in
 * fb_rtc_client_error) when an argument is unusable. Call once. */
int fb_rtc_client_set_remote(fb_rtc_client *c, const char *ip, int port, const char *remote_ufrag,
                             const char *remote_pwd, const char *remote_fingerprint, int opus_pt);

/* Drive the timers at now_ns: ICE checks (every 50 ms until answered, then
 * consent checks at the consent interval, fast again after a rebind), the ICE
 * and DTLS deadlines (-> FAILED), DTLS retransmissions, and receiver reports
 * once connected. Cheap when nothing is due; call at least every 20 ms. */
void fb_rtc_client_poll(fb_rtc_client *c, uint64_t now_ns);

/* Absolute time at which fb_rtc_client_poll() next has something to do
 * (UINT64_MAX when nothing is scheduled), for callers that sleep on a timer
 * wheel instead of polling every client every tick. */
uint64_t fb_rtc_client_next_timeout_ns(const fb_rtc_client *c);

/* Receive every datagram waiting on the socket (never blocks) and process it:
 * STUN responses (validated by transaction, MESSAGE-INTEGRITY, FINGERPRINT),
 * DTLS records, SRTP (RTP: sequence tracking, decode into the PCM buffer)
 * and SRTCP (sender reports counted). Datagrams from any address other than
 * the bridge's are dropped and counted. now_ns is the arrival time used. */
void fb_rtc_client_on_readable(fb_rtc_client *c, uint64_t now_ns);

/* FB_RTC_NEW, FB_RTC_ICE_OK, FB_RTC_CONNECTED or FB_RTC_FAILED. */
int fb_rtc_client_state(const fb_rtc_client *c);

/* Why the client FAILED ("" otherwise). Owned by c. */
const char *fb_rtc_client_error(const fb_rtc_client *c);

/* Negotiated SRTP profile once CONNECTED: "SRTP_AEAD_AES_128_GCM" or
 * "SRTP_AES128_CM_SHA1_80"; "" before. */
const char *fb_rtc_client_srtp_profile(const fb_rtc_client *c);

/* ---- sending ------------------------------------------------------------- */

/* Encode 960 samples (20 ms, 48 kHz mono float, nominal [-1, 1]) with the
 * client's own Opus encoder (32 kbit/s, created on first use) and send them
 * as one SRTP packet (see fb_rtc_client_send_opus). Returns the SRTP length
 * sent, or -1 when not CONNECTED or on an encode/protect/send error. */
int fb_rtc_client_send_audio(fb_rtc_client *c, const float *pcm960, uint64_t now_ns);

/* Send an already encoded 20 ms Opus packet (lets a load generator encode
 * once for thousands of clients). level_dbov is the RFC 6464 level to put in
 * the audio-level extension (0..127 = -dBov; <0: computed as silence, 127)
 * when fb_rtc_client_set_audio_level_ext() chose an id. The RTP timestamp
 * advances by 960 per packet; the first packet carries the marker bit.
 * Returns the SRTP length sent or -1. */
int fb_rtc_client_send_opus(fb_rtc_client *c, const uint8_t *opus, int len, int level_dbov,
                            uint64_t now_ns);

/* Add an RFC 6464 ssrc-audio-level extension (RFC 8285 one-byte header) with
 * this extmap id (1..14) to every packet sent from now on; 0 turns it off. */
void fb_rtc_client_set_audio_level_ext(fb_rtc_client *c, int id);

/* Send buf as one datagram to the bridge, unmodified, from the current
 * socket (tests: junk, replays, hand-made STUN). Returns 0, or -1 when there
 * is no remote yet or sendto failed. */
int fb_rtc_client_send_raw(fb_rtc_client *c, const uint8_t *buf, size_t len);

/* The last SRTP packet fb_rtc_client_send_audio/send_opus sent, exactly as
 * sent (for replay tests). *len = 0 and NULL before the first. */
const uint8_t *fb_rtc_client_last_packet(const fb_rtc_client *c, size_t *len);

/* ---- test hooks ---------------------------------------------------------- */

/* NAT rebinding: close the socket and bind a new one on a new ephemeral port
 * of the same address. Checks resume at the fast interval (with
 * USE-CANDIDATE, which is what makes the ICE-lite bridge follow the new
 * address) until one is answered from the new port; DTLS and SRTP state are
 * kept. Returns 0, or -1 (state FAILED) when no socket could be made. */
int fb_rtc_client_rebind(fb_rtc_client *c);

/* stop != 0: send no more STUN at all (the consent checks stop, as when a
 * browser goes away without closing); 0 resumes them. */
void fb_rtc_client_stop_checks(fb_rtc_client *c, int stop);

/* Consent check interval (default 2500 ms; each interval is randomised by
 * +-20 %) and how long the client tolerates unanswered consent checks before
 * it FAILS (default 30 s, RFC 7675). 0 keeps the current value. */
void fb_rtc_client_set_consent(fb_rtc_client *c, int interval_ms, int expiry_ms);

/* decode != 0 (default): decode received Opus into the PCM buffer. 0: only
 * count packets and check sequence numbers (cheap mode for load tests; no
 * decoder or buffer is allocated). */
void fb_rtc_client_set_decode(fb_rtc_client *c, int decode);

/* light != 0 (load tool's cheapest listener; default 0): downlink RTP is
 * counted and sequence-checked from its clear RTP header WITHOUT SRTP
 * verification or decryption (so its payload is not authenticated), and
 * fb_rtc_client_on_readable() handles at most one RTP datagram per call,
 * leaving the rest to the next readiness event (saves the EAGAIN read of a
 * drained socket; the caller must use level-triggered readiness). Only with
 * set_decode(0); STUN, DTLS and RTCP are handled as usual. */
void fb_rtc_client_set_light(fb_rtc_client *c, int light);

/* Simulated loss of the handshake: let the next `skip` outgoing DTLS
 * datagrams through, then drop the following `drop` ones (counted in
 * dtls_dropped), so tests can exercise both sides' retransmission timers. */
void fb_rtc_client_drop_dtls(fb_rtc_client *c, int skip, int drop);

/* Capacity of the PCM buffer in samples (default 10 s = 480000). When it is
 * full the oldest half is dropped. Discards what is buffered. */
void fb_rtc_client_set_pcm_capacity(fb_rtc_client *c, long samples);

/* ---- received audio and counters ------------------------------------------ */

/* The most recent decoded audio (48 kHz mono float), oldest first; *n gets
 * the sample count. Lost packets (sequence gaps of up to 5 packets) are
 * concealed with Opus PLC so the timeline stays continuous. Valid until the
 * next on_readable/set_pcm_capacity/pcm_clear. */
const float *fb_rtc_client_pcm(const fb_rtc_client *c, long *n);

/* Samples ever appended to the PCM buffer (never decreases, survives the
 * buffer trimming and pcm_clear): a position to measure windows against. */
long long fb_rtc_client_pcm_total(const fb_rtc_client *c);

/* Empty the PCM buffer. */
void fb_rtc_client_pcm_clear(fb_rtc_client *c);

typedef struct {
  /* downlink */
  uint64_t rtp_packets_rx; /* SRTP packets that authenticated */
  uint64_t rtp_bytes_rx;   /* their RTP payload bytes */
  uint64_t seq_gaps;       /* times the sequence jumped forward by > 1 */
  uint64_t lost_packets;   /* packets missing in those jumps */
  uint64_t late_packets;   /* duplicates and reordered (older) packets, not decoded */
  uint64_t srtp_fail;      /* SRTP/SRTCP that failed unprotect (auth, replay, ...) */
  uint64_t decode_errors;
  uint64_t rtcp_rx;    /* SRTCP compounds that authenticated */
  uint64_t rtcp_sr_rx; /* sender reports among them */
  uint32_t rx_ssrc;    /* the bridge's downlink SSRC (0 before the first packet) */
  /* uplink */
  uint64_t rtp_packets_tx;
  uint64_t rtp_bytes_tx; /* payload bytes */
  uint64_t rtcp_tx;
  /* ICE / DTLS */
  uint64_t stun_tx;          /* Binding requests sent */
  uint64_t stun_ok;          /* success responses that validated */
  uint64_t stun_bad;         /* STUN that did not validate or was not a success */
  uint64_t dtls_rx, dtls_tx; /* datagrams */
  uint64_t dtls_dropped;     /* outgoing DTLS dropped by fb_rtc_client_drop_dtls */
  int mapped_port;           /* port in the last XOR-MAPPED-ADDRESS (our port as seen) */
  /* transport */
  uint64_t rx_foreign;  /* datagrams from addresses other than the bridge */
  uint64_t rx_other;    /* datagrams of no known kind, or before keys */
  uint64_t send_errors; /* sendto failures (EAGAIN, ...) */
  uint64_t rebinds;
  /* milestones, from fb_rtc_client_new */
  int64_t ice_ms;          /* first answered check; -1 not yet */
  int64_t dtls_ms;         /* CONNECTED (ICE + DTLS); -1 not yet */
  uint64_t first_audio_ns; /* arrival of the first downlink RTP packet, 0 none */
  uint64_t last_rtp_ns;    /* arrival of the latest downlink RTP packet, 0 none */
} fb_rtc_client_stats;

/* Copy the counters. */
void fb_rtc_client_get_stats(const fb_rtc_client *c, fb_rtc_client_stats *out);

#endif
