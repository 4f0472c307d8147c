/*
 * stun.h — the bridge's ICE-lite side (RFC 8445 §2.5): it never sends checks,
 * it only answers STUN Binding requests from browsers, which is how a browser
 * proves it can reach us (connectivity checks, USE-CANDIDATE nomination and
 * RFC 7675 consent freshness).
 *
 * Every participant gets its own local ICE credentials (fb_ice_credentials(),
 * put in our SDP answer); the browser's offer gives its ufrag. A request is
 * answered only when its USERNAME is "LOCAL:REMOTE" for a registered
 * participant and both MESSAGE-INTEGRITY (key = local password) and
 * FINGERPRINT verify. Anything else — unknown ufrag, bad integrity or
 * fingerprint, indications, responses, garbage — is dropped silently and
 * counted: no error responses, so no reflection or amplification towards
 * spoofed sources.
 *
 * Threads: fb_stun_handle() is meant for the net thread; add/remove/stats may
 * be called from any thread (one mutex guards the registry and counters).
 */
#ifndef FB_STUN_H
#define FB_STUN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define FB_ICE_UFRAG_LEN 8  /* length of generated ufrags */
#define FB_ICE_PWD_LEN 24   /* length of generated passwords (144 bits) */
#define FB_STUN_MAX_IN 1500 /* longer datagrams are dropped as malformed */
#define FB_STUN_MAX_OUT 128 /* an out buffer this large always fits a response */

typedef struct fb_stun fb_stun;

/* What fb_stun_handle() learned from a datagram. */
typedef struct {
  void *user;        /* registered participant (answered requests only) */
  int use_candidate; /* request carried USE-CANDIDATE (nomination) */
  uint32_t priority; /* PRIORITY attribute, 0 when absent */
  int is_request;    /* datagram was a STUN Binding request (answered or not) */
} fb_stun_result;

/* Counters since fb_stun_new(). Every datagram counts in `packets` and in
 * one of answered, unknown_ufrag, bad_integrity, bad_fingerprint, malformed,
 * not_request — except an authentic request whose response did not fit the
 * caller's out buffer, which counts in none. `requests` counts Binding
 * requests (class request, method Binding), whatever became of them. */
typedef struct {
  uint64_t packets;
  uint64_t requests;
  uint64_t answered;
  uint64_t unknown_ufrag;   /* USERNAME names no registered participant */
  uint64_t bad_integrity;   /* known user, MESSAGE-INTEGRITY does not verify */
  uint64_t bad_fingerprint; /* FINGERPRINT missing or wrong */
  uint64_t malformed;       /* not STUN, truncated, no USERNAME/MESSAGE-INTEGRITY, ... */
  uint64_t not_request;     /* well-formed STUN but not a Binding request */
} fb_stun_stats;

/* Create a responder with an empty registry. Returns NULL on out-of-memory. */
fb_stun *fb_stun_new(void);

/* Free a responder and its registry (passwords are wiped); NULL is allowed. */
void fb_stun_free(fb_stun *s);

/* Register a participant. local_ufrag (4..256 chars) and local_pwd (22..256
 * chars) are our credentials from the SDP answer, remote_ufrag (4..256 chars)
 * the browser's ufrag from its offer, or NULL to accept any remote part.
 * All are ICE characters [A-Za-z0-9+/] and are copied. user is returned in
 * fb_stun_result for this participant. Returns 0, or -1 when an argument is
 * invalid, local_ufrag is already registered, or on out-of-memory. */
int fb_stun_add_user(fb_stun *s, const char *local_ufrag, const char *local_pwd,
                     const char *remote_ufrag, void *user);

/* Forget a participant (no-op when unknown). Once this returns, no later
 * fb_stun_handle() answers for it or returns its user pointer. */
void fb_stun_remove_user(fb_stun *s, const char *local_ufrag);

/* Number of registered participants. */
size_t fb_stun_user_count(fb_stun *s);

/* Handle one datagram that looks like STUN (see fb_stun_is_stun()) received
 * from `from`. When it is a Binding request that authenticates as described
 * at the top of this file, writes a Binding success response (XOR-MAPPED-
 * ADDRESS = from, with an IPv4-mapped IPv6 source reported as IPv4,
 * MESSAGE-INTEGRITY, FINGERPRINT) into out (capacity outlen, FB_STUN_MAX_OUT
 * is always enough), fills *res (may be NULL) and returns the response
 * length. Otherwise returns 0 and sends nothing; res->is_request still tells
 * whether it was a Binding request. */
int fb_stun_handle(fb_stun *s, const uint8_t *buf, size_t len, const struct sockaddr *from,
                   socklen_t fromlen, uint8_t *out, size_t outlen, fb_stun_result *res);

/* Copy the counters into *out. */
void fb_stun_get_stats(fb_stun *s, fb_stun_stats *out);

/* Demultiplexing test (RFC 7983): at least a 20-byte header, first byte 0..3
 * and the RFC 5389 magic cookie. Returns 1 or 0. */
int fb_stun_is_stun(const uint8_t *buf, size_t len);

/* Fill ufrag (FB_ICE_UFRAG_LEN chars + NUL) and pwd (FB_ICE_PWD_LEN chars +
 * NUL) with random ICE characters from OpenSSL's RAND_bytes. Returns 0, or -1
 * when the random generator fails (buffers are then empty strings). */
int fb_ice_credentials(char ufrag[FB_ICE_UFRAG_LEN + 1], char pwd[FB_ICE_PWD_LEN + 1]);

#endif
