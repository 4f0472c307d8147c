/*
 * fuzz_stun.c — libFuzzer target for fb_stun_handle (webrtc/stun.h), the
 * ICE-lite Binding responder, with two registered participants:
 *   A: local ufrag "SeedUfrg", pwd "SeedPassword0123456789ab", remote "rEm0"
 *   B: local ufrag "AnyRemote", pwd "AnyRemotePassword0123456", any remote
 * (A's credentials are those of the seeds in corpus/stun, made with libnice).
 *
 * Input: [ctl][datagram]. ctl bit 0: "re-sign" — before the datagram is
 * handed over, the harness recomputes its MESSAGE-INTEGRITY (with the
 * password of the participant its USERNAME names, else A's) and the
 * FINGERPRINT right after it, and cuts the datagram there; without this a
 * mutated request never gets past the HMAC and the answer path would be
 * unreachable. Bits 1-2: source address (IPv4, IPv6, IPv4-mapped IPv6,
 * invalid). Bits 3-7: output capacity (< 16: FB_STUN_MAX_OUT; else
 * (v - 16) * 8 bytes, 0 meaning out = NULL) in a heap buffer of exactly that
 * size.
 *
 * Invariants (a violation traps):
 *   - the return value is 0..cap; an answer only for a Binding request whose
 *     first USERNAME is "SeedUfrg:rEm0" or "AnyRemote:<anything>", with
 *     res.user the matching participant;
 *   - an answer is a Binding success response (0x0101, magic cookie, the
 *     request's transaction id, length field = returned length - 20) whose
 *     MESSAGE-INTEGRITY (participant's password) and FINGERPRINT verify;
 *   - the counters: one datagram, and it counts in exactly one of answered,
 *     unknown_ufrag, bad_integrity, bad_fingerprint, malformed, not_request —
 *     or in none when an authentic request's response did not fit.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "webrtc/stun.h"

#define CHECK(c)                                                                    \
  do {                                                                              \
    if (!(c)) {                                                                     \
      fprintf(stderr, "fuzz_stun: invariant failed: %s (line %d)\n", #c, __LINE__); \
      __builtin_trap();                                                             \
    }                                                                               \
  } while (0)

#define A_UFRAG "SeedUfrg"
#define A_PWD "SeedPassword0123456789ab"
#define A_REMOTE "rEm0"
#define B_UFRAG "AnyRemote"
#define B_PWD "AnyRemotePassword0123456"
#define ATTR_USERNAME 0x0006
#define ATTR_INTEGRITY 0x0008
#define ATTR_FINGERPRINT 0x8028

static int user_a, user_b; /* their addresses are the fb_stun user pointers */

static uint32_t crc32_stun(const uint8_t *p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
  }
  return ~c;
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void put16(uint8_t *p, size_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

/* Offset of the first attribute of type t (walking whole attributes, stopping
 * at MESSAGE-INTEGRITY unless that is what we look for), or 0. */
static size_t find_attr(const uint8_t *m, size_t len, uint16_t t, size_t *alen) {
  for (size_t off = 20; off + 4 <= len;) {
    uint16_t type = be16(m + off);
    size_t l = be16(m + off + 2);
    if (off + 4 + l > len) return 0;
    if (type == t) {
      *alen = l;
      return off;
    }
    if (type == ATTR_INTEGRITY) return 0;
    off += 4 + ((l + 3) & ~(size_t)3);
  }
  return 0;
}

/* USERNAME's local part names A or B (and for A the remote part is A's)? */
static const char *password_for(const uint8_t *m, size_t len, int *who) {
  size_t ul = 0, u = find_attr(m, len, ATTR_USERNAME, &ul);
  *who = 0;
  if (!u) return A_PWD;
  const char *name = (const char *)m + u + 4;
  const char *colon = memchr(name, ':', ul);
  if (!colon) return A_PWD;
  size_t ll = (size_t)(colon - name), rl = ul - ll - 1;
  if (ll == strlen(A_UFRAG) && !memcmp(name, A_UFRAG, ll) && rl == strlen(A_REMOTE) &&
      !memcmp(colon + 1, A_REMOTE, rl))
    *who = 1;
  else if (ll == strlen(B_UFRAG) && !memcmp(name, B_UFRAG, ll))
    *who = 2;
  return *who == 2 ? B_PWD : A_PWD;
}

/* Compute (sign = 1) or check (sign = 0) MESSAGE-INTEGRITY and a FINGERPRINT
 * right after it. Returns the message length up to the last of them, or 0
 * when there is no MESSAGE-INTEGRITY (or, when checking, a value is wrong). */
static size_t integrity(uint8_t *m, size_t len, const char *pwd, int sign) {
  size_t il = 0, mi = find_attr(m, len, ATTR_INTEGRITY, &il);
  if (!mi || il != 20) return 0;
  size_t end = mi + 24;
  size_t saved = be16(m + 2);
  put16(m + 2, end - 20);
  uint8_t mac[20];
  unsigned int maclen = 0;
  HMAC(EVP_sha1(), pwd, (int)strlen(pwd), m, mi, mac, &maclen);
  int ok = maclen == 20 && (sign || memcmp(m + mi + 4, mac, 20) == 0);
  if (sign) memcpy(m + mi + 4, mac, 20);
  if (end + 8 <= len && be16(m + end) == ATTR_FINGERPRINT && be16(m + end + 2) == 4) {
    put16(m + 2, end + 8 - 20);
    uint32_t crc = crc32_stun(m, end) ^ 0x5354554eu;
    uint8_t fp[4] = {(uint8_t)(crc >> 24), (uint8_t)(crc >> 16), (uint8_t)(crc >> 8), (uint8_t)crc};
    ok = ok && (sign || memcmp(m + end + 4, fp, 4) == 0);
    if (sign) memcpy(m + end + 4, fp, 4);
    end += 8;
  }
  if (!sign) put16(m + 2, saved);
  return ok ? end : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  uint8_t ctl = data[0];
  size_t len = size - 1;
  uint8_t *dgram = malloc(len ? len : 1); /* exact size: ASan sees over-reads */
  if (!dgram) return 0;
  memcpy(dgram, data + 1, len);
  int who = 0;
  const char *pwd = password_for(dgram, len, &who);
  if (ctl & 1) {
    size_t end = integrity(dgram, len, pwd, 1);
    if (end) len = end;
  }

  /* The source address. */
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t fromlen;
  switch ((ctl >> 1) & 3) {
  case 0: {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    a->sin_family = AF_INET;
    a->sin_port = htons(50000);
    inet_pton(AF_INET, "203.0.113.7", &a->sin_addr);
    fromlen = sizeof *a;
    break;
  }
  case 1:
  case 2: {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(50001);
    inet_pton(AF_INET6, (ctl >> 1 & 3) == 1 ? "2001:db8::7" : "::ffff:198.51.100.7", &a->sin6_addr);
    fromlen = sizeof *a;
    break;
  }
  default:
    ss.ss_family = AF_UNIX;
    fromlen = sizeof(struct sockaddr_un);
    break;
  }

  size_t v = ctl >> 3, cap = v < 16 ? FB_STUN_MAX_OUT : (v - 16) * 8;
  uint8_t *out = cap ? malloc(cap) : NULL;

  fb_stun *s = fb_stun_new();
  CHECK(s);
  CHECK(fb_stun_add_user(s, A_UFRAG, A_PWD, A_REMOTE, &user_a) == 0);
  CHECK(fb_stun_add_user(s, B_UFRAG, B_PWD, NULL, &user_b) == 0);
  fb_stun_result res;
  int n = fb_stun_handle(s, dgram, len, (struct sockaddr *)&ss, fromlen, out, cap, &res);
  fb_stun_stats st;
  fb_stun_get_stats(s, &st);
  fb_stun_free(s);

  CHECK(n >= 0 && (size_t)n <= cap);
  uint64_t outcomes = st.answered + st.unknown_ufrag + st.bad_integrity + st.bad_fingerprint +
                      st.malformed + st.not_request;
  CHECK(st.packets == 1 && st.requests == (uint64_t)res.is_request);
  CHECK(outcomes == 1 || (outcomes == 0 && res.is_request && cap < FB_STUN_MAX_OUT));
  CHECK(st.answered == (n > 0));
  if (n > 0) {
    CHECK(len >= 20 && be16(dgram) == 0x0001 && res.is_request);
    CHECK(who != 0); /* USERNAME names a registered participant, remote part fits */
    CHECK(res.user == (who == 1 ? (void *)&user_a : (void *)&user_b));
    CHECK(n >= 20 && be16(out) == 0x0101 && (size_t)be16(out + 2) + 20 == (size_t)n);
    CHECK(memcmp(out + 4, dgram + 4, 16) == 0); /* cookie + transaction id */
    CHECK(fb_stun_is_stun(out, (size_t)n));
    CHECK(integrity(out, (size_t)n, who == 1 ? A_PWD : B_PWD, 0) == (size_t)n);
  } else {
    CHECK(res.user == NULL && res.use_candidate == 0 && res.priority == 0);
  }
  free(out);
  free(dgram);
  return 0;
}
