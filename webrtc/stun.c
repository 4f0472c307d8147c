/*
 * stun.c — ICE-lite Binding responder on libnice's STUN library.
 *
 * libnice's StunAgent (RFC 5389 compatibility, short-term credentials,
 * FINGERPRINT required) does the parsing and checking: stun_agent_validate()
 * verifies the length/attribute layout and the FINGERPRINT, asks our
 * validater callback for the key belonging to USERNAME, and checks
 * MESSAGE-INTEGRITY with it. The response is built by hand with
 * stun_agent_init_response() + XOR-MAPPED-ADDRESS + stun_agent_finish_message()
 * rather than stun_usage_ice_conncheck_create_reply(), because that helper
 * also writes error responses (400, 487 role conflict) and an ICE-lite server
 * that never sends errors has nothing to gain from them.
 *
 * Before any of that, a 4-byte look at the header drops everything that is
 * not a Binding request, so indications and stray responses cost no CRC or
 * HMAC, and an HMAC is only computed for a USERNAME that is registered.
 *
 * Attributes after MESSAGE-INTEGRITY are not authenticated; libnice's
 * stun_message_find() stops at MESSAGE-INTEGRITY (except for FINGERPRINT), so
 * USE-CANDIDATE/PRIORITY appended by an on-path attacker are not seen
 * (covered by test_stun).
 *
 * Registry: open addressing (linear probing, tombstones) keyed by local
 * ufrag, kept under half full, so lookups stay O(1) for thousands of users.
 * The keys are our own random ufrags, so a remote party cannot choose what
 * collides; it can only probe. One mutex covers registry, agent and counters;
 * it is held for one lookup and at most two HMAC-SHA1s per request.
 */
#include "webrtc/stun.h"

#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <stun/stunagent.h>
#include <stun/usages/ice.h>

#define UFRAG_MIN 4 /* RFC 8839 ice-ufrag 4..256 */
#define PWD_MIN 22  /* RFC 8839 ice-pwd 22..256 */
#define CRED_MAX 256
#define BINDING_REQUEST 0x0001

struct user {
  void *user;
  uint64_t hash;
  size_t local_len, pwd_len, remote_len; /* remote_len 0: any remote ufrag */
  char *local, *pwd, *remote;            /* point into data */
  char data[];
};

struct fb_stun {
  pthread_mutex_t mu;
  StunAgent agent;
  struct user **slots;
  size_t cap;   /* 0 or a power of two */
  size_t count; /* live entries */
  size_t tombs; /* deleted slots not yet reused */
  fb_stun_stats stats;
};

static struct user tomb; /* marks a deleted slot */
#define TOMB (&tomb)

/* Comprehension-required attributes we accept in a request (optional ones,
 * 0x8000 and up, such as ICE-CONTROLLING or Chrome's GOOG-NETWORK-INFO, are
 * never "unknown"). A request with any other one is dropped. */
static const uint16_t known_attributes[] = {
    STUN_ATTRIBUTE_MAPPED_ADDRESS,     STUN_ATTRIBUTE_USERNAME,
    STUN_ATTRIBUTE_MESSAGE_INTEGRITY,  STUN_ATTRIBUTE_ERROR_CODE,
    STUN_ATTRIBUTE_UNKNOWN_ATTRIBUTES, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS,
    STUN_ATTRIBUTE_PRIORITY,           STUN_ATTRIBUTE_USE_CANDIDATE,
    STUN_ATTRIBUTE_FINGERPRINT,        STUN_ATTRIBUTE_ICE_CONTROLLED,
    STUN_ATTRIBUTE_ICE_CONTROLLING,    0};

static const char ice_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* ---- registry --------------------------------------------------------- */

static uint64_t hash_bytes(const void *p, size_t n) {
  const uint8_t *b = p;
  uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
  for (size_t i = 0; i < n; i++) {
    h ^= b[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

/* Slot index of the entry for key, or SIZE_MAX. */
static size_t find_slot(const fb_stun *s, const char *key, size_t klen, uint64_t h) {
  if (s->cap == 0) return SIZE_MAX;
  size_t mask = s->cap - 1;
  size_t i = (size_t)h & mask;
  for (size_t n = 0; n < s->cap; n++, i = (i + 1) & mask) {
    const struct user *u = s->slots[i];
    if (!u) return SIZE_MAX;
    if (u != TOMB && u->hash == h && u->local_len == klen && memcmp(u->local, key, klen) == 0)
      return i;
  }
  return SIZE_MAX;
}

/* Put u in the first free or deleted slot of its probe sequence. */
static void place(fb_stun *s, struct user *u) {
  size_t mask = s->cap - 1;
  size_t i = (size_t)u->hash & mask;
  while (s->slots[i] && s->slots[i] != TOMB) i = (i + 1) & mask;
  if (s->slots[i] == TOMB) s->tombs--;
  s->slots[i] = u;
  s->count++;
}

/* Rebuild the table with room for at least `want` live entries at load <= 1/4,
 * dropping tombstones. Returns 0 or -1 (table unchanged). */
static int rehash(fb_stun *s, size_t want) {
  size_t cap = 16;
  while (cap < want * 4) cap *= 2;
  struct user **slots = calloc(cap, sizeof *slots);
  if (!slots) return -1;
  struct user **old = s->slots;
  size_t oldcap = s->cap;
  s->slots = slots;
  s->cap = cap;
  s->count = 0;
  s->tombs = 0;
  for (size_t i = 0; i < oldcap; i++)
    if (old[i] && old[i] != TOMB) place(s, old[i]);
  free(old);
  return 0;
}

static void free_user(struct user *u) {
  OPENSSL_cleanse(u->pwd, u->pwd_len);
  free(u);
}

/* Length of s if it is 'min'..CRED_MAX ICE characters, else 0. */
static size_t ice_string_len(const char *s, size_t min) {
  if (!s) return 0;
  size_t n = strnlen(s, CRED_MAX + 1);
  if (n < min || n > CRED_MAX || strspn(s, ice_chars) != n) return 0;
  return n;
}

int fb_stun_add_user(fb_stun *s, const char *local_ufrag, const char *local_pwd,
                     const char *remote_ufrag, void *user) {
  if (!s) return -1;
  size_t ll = ice_string_len(local_ufrag, UFRAG_MIN);
  size_t pl = ice_string_len(local_pwd, PWD_MIN);
  size_t rl = remote_ufrag ? ice_string_len(remote_ufrag, UFRAG_MIN) : 0;
  if (!ll || !pl || (remote_ufrag && !rl)) return -1;

  struct user *u = malloc(sizeof *u + ll + pl + rl + 3);
  if (!u) return -1;
  u->user = user;
  u->hash = hash_bytes(local_ufrag, ll);
  u->local_len = ll;
  u->pwd_len = pl;
  u->remote_len = rl;
  u->local = u->data;
  u->pwd = u->local + ll + 1;
  u->remote = u->pwd + pl + 1;
  memcpy(u->local, local_ufrag, ll + 1);
  memcpy(u->pwd, local_pwd, pl + 1);
  if (rl)
    memcpy(u->remote, remote_ufrag, rl + 1);
  else
    u->remote[0] = '\0';

  int rc = -1;
  pthread_mutex_lock(&s->mu);
  if (find_slot(s, u->local, ll, u->hash) == SIZE_MAX &&
      ((s->count + s->tombs + 1) * 2 <= s->cap || rehash(s, s->count + 1) == 0)) {
    place(s, u);
    rc = 0;
  }
  pthread_mutex_unlock(&s->mu);
  if (rc != 0) free_user(u);
  return rc;
}

void fb_stun_remove_user(fb_stun *s, const char *local_ufrag) {
  if (!s || !local_ufrag) return;
  size_t n = strnlen(local_ufrag, CRED_MAX + 1);
  struct user *u = NULL;
  pthread_mutex_lock(&s->mu);
  size_t i = find_slot(s, local_ufrag, n, hash_bytes(local_ufrag, n));
  if (i != SIZE_MAX) {
    u = s->slots[i];
    s->slots[i] = TOMB;
    s->tombs++;
    s->count--;
  }
  pthread_mutex_unlock(&s->mu);
  if (u) free_user(u);
}

size_t fb_stun_user_count(fb_stun *s) {
  if (!s) return 0;
  pthread_mutex_lock(&s->mu);
  size_t n = s->count;
  pthread_mutex_unlock(&s->mu);
  return n;
}

/* ---- lifecycle -------------------------------------------------------- */

fb_stun *fb_stun_new(void) {
  fb_stun *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  if (pthread_mutex_init(&s->mu, NULL) != 0) {
    free(s);
    return NULL;
  }
  stun_agent_init(&s->agent, known_attributes, STUN_COMPATIBILITY_RFC5389,
                  STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
  return s;
}

void fb_stun_free(fb_stun *s) {
  if (!s) return;
  for (size_t i = 0; i < s->cap; i++)
    if (s->slots[i] && s->slots[i] != TOMB) free_user(s->slots[i]);
  free(s->slots);
  pthread_mutex_destroy(&s->mu);
  free(s);
}

void fb_stun_get_stats(fb_stun *s, fb_stun_stats *out) {
  if (!out) return;
  memset(out, 0, sizeof *out);
  if (!s) return;
  pthread_mutex_lock(&s->mu);
  *out = s->stats;
  pthread_mutex_unlock(&s->mu);
}

/* ---- requests --------------------------------------------------------- */

int fb_stun_is_stun(const uint8_t *buf, size_t len) {
  return buf && len >= 20 && buf[0] < 4 && buf[4] == 0x21 && buf[5] == 0x12 && buf[6] == 0xA4 &&
         buf[7] == 0x42;
}

/* What the validater callback found (libnice calls it with USERNAME). */
struct lookup {
  fb_stun *s;
  struct user *u; /* set when USERNAME matched a registered participant */
  int called;
};

static bool validater(StunAgent *agent, StunMessage *msg, uint8_t *username, uint16_t username_len,
                      uint8_t **password, size_t *password_len, void *data) {
  struct lookup *lk = data;
  lk->called = 1;
  const uint8_t *colon = memchr(username, ':', username_len);
  if (!colon) return false;
  size_t llen = (size_t)(colon - username);
  size_t rlen = username_len - llen - 1;
  size_t i = find_slot(lk->s, (const char *)username, llen, hash_bytes(username, llen));
  if (i == SIZE_MAX) return false;
  struct user *u = lk->s->slots[i];
  if (u->remote_len && (u->remote_len != rlen || memcmp(u->remote, colon + 1, rlen) != 0))
    return false;
  lk->u = u;
  *password = (uint8_t *)u->pwd;
  *password_len = u->pwd_len;
  return true;
}

/* Copy the source address for XOR-MAPPED-ADDRESS; an IPv4-mapped IPv6 source
 * (dual-stack socket) becomes plain IPv4, which is what the browser sent to. */
static int source_addr(const struct sockaddr *from, socklen_t fromlen, struct sockaddr_storage *ss,
                       socklen_t *sslen) {
  memset(ss, 0, sizeof *ss);
  if (!from || fromlen < (socklen_t)sizeof(sa_family_t)) return -1;
  if (from->sa_family == AF_INET && fromlen >= (socklen_t)sizeof(struct sockaddr_in)) {
    memcpy(ss, from, sizeof(struct sockaddr_in));
    *sslen = sizeof(struct sockaddr_in);
    return 0;
  }
  if (from->sa_family == AF_INET6 && fromlen >= (socklen_t)sizeof(struct sockaddr_in6)) {
    struct sockaddr_in6 a6;
    memcpy(&a6, from, sizeof a6);
    if (IN6_IS_ADDR_V4MAPPED(&a6.sin6_addr)) {
      struct sockaddr_in a4;
      memset(&a4, 0, sizeof a4);
      a4.sin_family = AF_INET;
      a4.sin_port = a6.sin6_port;
      memcpy(&a4.sin_addr, &a6.sin6_addr.s6_addr[12], 4);
      memcpy(ss, &a4, sizeof a4);
      *sslen = sizeof a4;
    } else {
      memcpy(ss, &a6, sizeof a6);
      *sslen = sizeof a6;
    }
    return 0;
  }
  return -1;
}

static int handle_locked(fb_stun *s, const uint8_t *buf, size_t len, const struct sockaddr *from,
                         socklen_t fromlen, uint8_t *out, size_t outlen, fb_stun_result *r) {
  fb_stun_stats *st = &s->stats;
  if (len > FB_STUN_MAX_IN || !fb_stun_is_stun(buf, len)) {
    st->malformed++;
    return 0;
  }
  if (((buf[0] << 8) | buf[1]) != BINDING_REQUEST) {
    if (stun_message_validate_buffer_length(buf, len, true) == (int)len)
      st->not_request++;
    else
      st->malformed++;
    return 0;
  }
  r->is_request = 1;
  st->requests++;

  struct sockaddr_storage src;
  socklen_t srclen = 0;
  if (source_addr(from, fromlen, &src, &srclen) != 0) {
    st->malformed++;
    return 0;
  }

  struct lookup lk = {s, NULL, 0};
  StunMessage req;
  StunValidationStatus v = stun_agent_validate(&s->agent, &req, buf, len, validater, &lk);
  if (v != STUN_VALIDATION_SUCCESS || !lk.u) {
    if (v == STUN_VALIDATION_UNAUTHORIZED && lk.u)
      st->bad_integrity++;
    else if (v == STUN_VALIDATION_UNAUTHORIZED && lk.called)
      st->unknown_ufrag++;
    else if (v == STUN_VALIDATION_BAD_REQUEST)
      st->bad_fingerprint++; /* the cookie was checked above: FINGERPRINT missing/wrong */
    else
      st->malformed++; /* no USERNAME/MESSAGE-INTEGRITY, unknown attribute, layout */
    return 0;
  }

  StunMessage resp;
  if (!out || !stun_agent_init_response(&s->agent, &resp, out, outlen, &req) ||
      stun_message_append_xor_addr(&resp, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, &src, srclen) !=
          STUN_MESSAGE_RETURN_SUCCESS)
    return 0;
  size_t n = stun_agent_finish_message(&s->agent, &resp, (const uint8_t *)lk.u->pwd, lk.u->pwd_len);
  if (n == 0 || n > outlen) return 0;
  r->user = lk.u->user;
  r->use_candidate = stun_usage_ice_conncheck_use_candidate(&req);
  r->priority = stun_usage_ice_conncheck_priority(&req);
  st->answered++;
  return (int)n;
}

int fb_stun_handle(fb_stun *s, const uint8_t *buf, size_t len, const struct sockaddr *from,
                   socklen_t fromlen, uint8_t *out, size_t outlen, fb_stun_result *res) {
  fb_stun_result r = {NULL, 0, 0, 0};
  int n = 0;
  if (s) {
    pthread_mutex_lock(&s->mu);
    s->stats.packets++;
    n = handle_locked(s, buf, len, from, fromlen, out, outlen, &r);
    pthread_mutex_unlock(&s->mu);
  }
  if (res) *res = r;
  return n;
}

/* ---- credentials ------------------------------------------------------ */

int fb_ice_credentials(char ufrag[FB_ICE_UFRAG_LEN + 1], char pwd[FB_ICE_PWD_LEN + 1]) {
  if (!ufrag || !pwd) return -1;
  ufrag[0] = pwd[0] = '\0';
  unsigned char rnd[FB_ICE_UFRAG_LEN + FB_ICE_PWD_LEN];
  if (RAND_bytes(rnd, sizeof rnd) != 1) return -1;
  /* 64 symbols: masking a byte with 63 is unbiased */
  for (int i = 0; i < FB_ICE_UFRAG_LEN; i++) ufrag[i] = ice_chars[rnd[i] & 63];
  for (int i = 0; i < FB_ICE_PWD_LEN; i++) pwd[i] = ice_chars[rnd[FB_ICE_UFRAG_LEN + i] & 63];
  ufrag[FB_ICE_UFRAG_LEN] = '\0';
  pwd[FB_ICE_PWD_LEN] = '\0';
  OPENSSL_cleanse(rnd, sizeof rnd);
  return 0;
}
