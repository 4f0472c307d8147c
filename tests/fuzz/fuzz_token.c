/*
 * fuzz_token.c — libFuzzer target for fb_token_verify (signalling/token.h)
 * with a fixed secret ("fuzz-seed-secret-0123456789"), meeting "m1" and
 * clock (now = 1700000000).
 *
 * Input: [mode][rest]. A random token never carries a valid HMAC, so two of
 * the modes let the harness sign, which takes the fuzzer past the signature
 * to the claims:
 *   mode % 3 == 0  rest is the token as it is;
 *   mode % 3 == 1  rest is "HEADER.PAYLOAD" (base64url); the harness appends
 *                  the correct HS256 signature;
 *   mode % 3 == 2  rest is "HEADER-JSON\0PAYLOAD-JSON"; the harness encodes
 *                  both (base64url) and signs.
 *
 * Invariants (a violation traps):
 *   - a known error code; on any error the output is all zero;
 *   - success only for a token whose header says alg HS256 and whose third
 *     part is exactly the base64url HMAC-SHA256 of the first two with our
 *     secret; then mtg is "m1", exp is not past, the role is valid, speak is
 *     0 or 1, the required strings are non-empty and free of control
 *     characters;
 *   - success again with a NULL meeting or a short secret is impossible;
 *   - fb_token_mint of the claims verifies back to the same claims.
 */
#include <jansson.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signalling/token.h"

#define CHECK(c)                                                                     \
  do {                                                                               \
    if (!(c)) {                                                                      \
      fprintf(stderr, "fuzz_token: invariant failed: %s (line %d)\n", #c, __LINE__); \
      __builtin_trap();                                                              \
    }                                                                                \
  } while (0)

#define SECRET "fuzz-seed-secret-0123456789"
#define MEETING "m1"
#define NOW 1700000000LL

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url without padding of in[0..n) appended to out (room: 4n/3 + 4). */
static char *b64url(char *out, const uint8_t *in, size_t n) {
  size_t i = 0;
  for (; i + 2 < n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
    for (int k = 3; k >= 0; k--) *out++ = b64[(v >> (6 * k)) & 63];
  }
  if (n - i == 1) {
    *out++ = b64[in[i] >> 2];
    *out++ = b64[(in[i] & 3) << 4];
  } else if (n - i == 2) {
    *out++ = b64[in[i] >> 2];
    *out++ = b64[((in[i] & 3) << 4) | in[i + 1] >> 4];
    *out++ = b64[(in[i + 1] & 15) << 2];
  }
  *out = '\0';
  return out;
}

/* Append ".SIGNATURE" for tok[0..n) at tok + n (room: 45 bytes). */
static void sign(char *tok, size_t n) {
  uint8_t mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const uint8_t *)tok, n, mac, &len);
  tok[n] = '.';
  b64url(tok + n + 1, mac, len);
}

/* Is the header (first part, base64url) JSON with "alg": "HS256"? */
static int header_is_hs256(const char *tok) {
  size_t n = strcspn(tok, ".");
  uint8_t *raw = malloc(n + 1);
  size_t o = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; i++) {
    const char *p = strchr(b64, tok[i]);
    if (!p || !tok[i]) break;
    acc = acc << 6 | (uint32_t)(p - b64);
    bits += 6;
    if (bits >= 8) raw[o++] = (uint8_t)(acc >> (bits -= 8));
  }
  json_t *h = json_loadb((const char *)raw, o, JSON_DECODE_ANY, NULL);
  int ok = json_is_string(json_object_get(h, "alg")) &&
           strcmp(json_string_value(json_object_get(h, "alg")), "HS256") == 0;
  json_decref(h);
  free(raw);
  return ok;
}

static int clean(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f) return 0;
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > 3 * FB_TOKEN_MAX) return 0;
  const uint8_t *rest = data + 1;
  size_t n = size - 1;
  char *tok = malloc(2 * n + 128);
  CHECK(tok);
  switch (data[0] % 3) {
  case 0:
  case 1:
    memcpy(tok, rest, n);
    tok[n] = '\0';
    if (data[0] % 3 == 1) sign(tok, strlen(tok));
    break;
  case 2: {
    const uint8_t *nul = memchr(rest, '\0', n);
    size_t hl = nul ? (size_t)(nul - rest) : n;
    char *p = b64url(tok, rest, hl);
    *p++ = '.';
    p = b64url(p, nul ? nul + 1 : rest + n, nul ? n - hl - 1 : 0);
    sign(tok, (size_t)(p - tok));
    break;
  }
  }
  /* exact-size copy: ASan sees a read past the terminating NUL */
  char *jwt = strdup(tok);
  CHECK(jwt);

  fb_token t, zero;
  memset(&zero, 0, sizeof zero);
  memset(&t, 0x5a, sizeof t);
  fb_token_error e = fb_token_verify(SECRET, MEETING, jwt, NOW, &t);
  CHECK(e >= FB_TOKEN_OK && e <= FB_TOKEN_ERROR_LAST);
  CHECK(strcmp(fb_token_error_code(e), "token_unknown") != 0);
  if (e != FB_TOKEN_OK) {
    CHECK(memcmp(&t, &zero, sizeof t) == 0);
  } else {
    /* authentic: the third part is exactly our signature */
    const char *d2 = strrchr(jwt, '.');
    CHECK(d2 && d2 != strchr(jwt, '.'));
    char *expect = malloc((size_t)(d2 - jwt) + 64);
    CHECK(expect);
    memcpy(expect, jwt, (size_t)(d2 - jwt));
    sign(expect, (size_t)(d2 - jwt));
    CHECK(strcmp(expect, jwt) == 0);
    free(expect);
    CHECK(header_is_hs256(jwt));
    CHECK(strcmp(t.meeting, MEETING) == 0 && NOW - FB_TOKEN_SKEW <= t.exp);
    CHECK(t.role >= FB_ROLE_CHAIR && t.role <= FB_ROLE_OBSERVER);
    CHECK(t.speak == 0 || t.speak == 1);
    CHECK(t.delegate[0] && t.name[0]);
    CHECK(clean(t.delegate) && clean(t.name) && clean(t.jti));

    fb_token t2;
    CHECK(fb_token_verify(SECRET, NULL, jwt, NOW, &t2) == FB_TOKEN_WRONG_MEETING);
    CHECK(fb_token_verify("short", MEETING, jwt, NOW, &t2) == FB_TOKEN_BAD_SIGNATURE);

    /* mint the same claims, verify them back */
    char minted[FB_TOKEN_MAX + 1];
    if (fb_token_mint(SECRET, &t, minted, sizeof minted) == 0) {
      CHECK(fb_token_verify(SECRET, MEETING, minted, NOW, &t2) == FB_TOKEN_OK);
      if (t.iat == 0) t2.iat = 0; /* mint puts "now" for iat 0 */
      CHECK(memcmp(&t, &t2, sizeof t) == 0);
    }
  }
  free(jwt);
  free(tok);
  return 0;
}
