/*
 * test_token.c — join tokens: mint/verify round trip, every refusal reason
 * (expired, forged, other secret, wrong meeting, alg none, HS512, bad role,
 * missing or mistyped claims, overflow, garbage) and the `token` command.
 *
 * Tokens with arbitrary headers/claims are signed by hand here (base64url +
 * OpenSSL HMAC-SHA256) so that the claim checks are reached with a valid
 * signature.
 */
#include "check.h"
#include "signalling/token.h"

#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *SECRET = "test-secret-0123456789abcdef";
static const long long NOW = 1700000000;

static void b64url(const unsigned char *in, size_t n, char *out) {
  static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16;
    if (i + 1 < n) v |= (uint32_t)in[i + 1] << 8;
    if (i + 2 < n) v |= in[i + 2];
    out[o++] = tab[(v >> 18) & 63];
    out[o++] = tab[(v >> 12) & 63];
    if (i + 1 < n) out[o++] = tab[(v >> 6) & 63];
    if (i + 2 < n) out[o++] = tab[v & 63];
  }
  out[o] = '\0';
}

/* header.payload.signature with an HMAC of the given digest (NULL: empty sig). */
static void make_jwt(const char *header, const char *payload, const char *secret, const EVP_MD *md,
                     char *out) {
  char h[2048], p[4096];
  b64url((const unsigned char *)header, strlen(header), h);
  b64url((const unsigned char *)payload, strlen(payload), p);
  sprintf(out, "%s.%s.", h, p);
  if (!md) return;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned maclen = 0;
  size_t signed_len = strlen(out) - 1;
  HMAC(md, secret, (int)strlen(secret), (const unsigned char *)out, signed_len, mac, &maclen);
  b64url(mac, maclen, out + strlen(out));
}

static const char *HS256_HDR = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

/* A hand-signed HS256 token over payload; returns the verify result. */
static fb_token_error verify_payload(const char *payload, fb_token *out) {
  char jwt[8192];
  make_jwt(HS256_HDR, payload, SECRET, EVP_sha256(), jwt);
  return fb_token_verify(SECRET, "m1", jwt, NOW, out);
}

static fb_token sample(void) {
  fb_token t;
  memset(&t, 0, sizeof t);
  strcpy(t.meeting, "m1");
  strcpy(t.delegate, "del-042");
  strcpy(t.name, "Ambassador Ünal \"the chair\"");
  t.role = FB_ROLE_CHAIR;
  t.exp = NOW + 3600;
  t.iat = NOW;
  t.speak = 1;
  strcpy(t.jti, "abc123");
  return t;
}

static void test_round_trip(void) {
  fb_token t = sample(), v;
  char jwt[FB_TOKEN_MAX + 1];
  CHECK(fb_token_mint(SECRET, &t, jwt, sizeof jwt) == 0, "mint");
  fb_token_error e = fb_token_verify(SECRET, "m1", jwt, NOW, &v);
  CHECK(e == FB_TOKEN_OK, "verify: %s", fb_token_error_code(e));
  CHECK(strcmp(v.meeting, t.meeting) == 0, "meeting %s", v.meeting);
  CHECK(strcmp(v.delegate, t.delegate) == 0, "delegate %s", v.delegate);
  CHECK(strcmp(v.name, t.name) == 0, "name %s", v.name);
  CHECK(v.role == FB_ROLE_CHAIR, "role %d", v.role);
  CHECK(v.exp == t.exp && v.iat == t.iat, "exp %lld iat %lld", v.exp, v.iat);
  CHECK(v.speak == 1, "speak %d", v.speak);
  CHECK(strcmp(v.jti, "abc123") == 0, "jti %s", v.jti);

  /* no speak, no jti, iat = now, observer */
  t.speak = 0;
  t.jti[0] = '\0';
  t.iat = 0;
  t.role = FB_ROLE_OBSERVER;
  CHECK(fb_token_mint(SECRET, &t, jwt, sizeof jwt) == 0, "mint 2");
  e = fb_token_verify(SECRET, "m1", jwt, NOW, &v);
  CHECK(e == FB_TOKEN_OK, "verify 2: %s", fb_token_error_code(e));
  CHECK(v.speak == 0 && v.jti[0] == '\0' && v.role == FB_ROLE_OBSERVER && v.iat > NOW,
        "speak %d jti '%s' role %d iat %lld", v.speak, v.jti, v.role, v.iat);

  /* expiry with 30 s skew */
  t = sample();
  fb_token_mint(SECRET, &t, jwt, sizeof jwt);
  CHECK(fb_token_verify(SECRET, "m1", jwt, t.exp + 30, &v) == FB_TOKEN_OK, "within skew");
  e = fb_token_verify(SECRET, "m1", jwt, t.exp + 31, &v);
  CHECK(e == FB_TOKEN_EXPIRED, "expired: %s", fb_token_error_code(e));
  CHECK(v.meeting[0] == '\0', "out zeroed on error");

  e = fb_token_verify(SECRET, "m2", jwt, NOW, &v);
  CHECK(e == FB_TOKEN_WRONG_MEETING, "wrong meeting: %s", fb_token_error_code(e));
  CHECK(fb_token_verify(SECRET, NULL, jwt, NOW, &v) == FB_TOKEN_WRONG_MEETING, "NULL meeting");
  CHECK(fb_token_verify(SECRET, "m1", jwt, NOW, NULL) == FB_TOKEN_OK, "NULL out");
}

static void test_mint_refusals(void) {
  fb_token t = sample();
  char jwt[FB_TOKEN_MAX + 1];
  CHECK(fb_token_mint("short-secret", &t, jwt, sizeof jwt) == -1, "short secret");
  CHECK(fb_token_mint(NULL, &t, jwt, sizeof jwt) == -1, "NULL secret");
  CHECK(fb_token_mint(SECRET, &t, jwt, 20) == -1, "small buffer");
  t.role = (fb_role)7;
  CHECK(fb_token_mint(SECRET, &t, jwt, sizeof jwt) == -1, "bad role");
  t = sample();
  t.meeting[0] = '\0';
  CHECK(fb_token_mint(SECRET, &t, jwt, sizeof jwt) == -1, "empty meeting");
  t = sample();
  strcpy(t.name, "evil\nname");
  CHECK(fb_token_mint(SECRET, &t, jwt, sizeof jwt) == -1, "control char");
  t = sample();
  strcpy(t.name, "bad \xff utf8");
  CHECK(fb_token_mint(SECRET, &t, jwt, sizeof jwt) == -1, "invalid utf-8");
  t = sample();
  memset(t.delegate, 'x', sizeof t.delegate); /* not terminated */
  CHECK(fb_token_mint(SECRET, &t, jwt, sizeof jwt) == -1, "unterminated field");
  t = sample();
  t.exp = 0;
  CHECK(fb_token_mint(SECRET, &t, jwt, sizeof jwt) == -1, "exp 0");
}

static void test_forged(void) {
  fb_token t = sample(), v;
  char jwt[FB_TOKEN_MAX + 1], bad[FB_TOKEN_MAX + 1];
  fb_token_mint(SECRET, &t, jwt, sizeof jwt);

  /* change one signature character (to another valid base64url char) */
  strcpy(bad, jwt);
  size_t n = strlen(bad);
  bad[n - 3] = bad[n - 3] == 'A' ? 'B' : 'A';
  fb_token_error e = fb_token_verify(SECRET, "m1", bad, NOW, &v);
  CHECK(e == FB_TOKEN_BAD_SIGNATURE, "flipped sig: %s", fb_token_error_code(e));

  /* change one payload character */
  strcpy(bad, jwt);
  char *p = strchr(bad, '.') + 5;
  *p = *p == 'A' ? 'B' : 'A';
  e = fb_token_verify(SECRET, "m1", bad, NOW, &v);
  CHECK(e == FB_TOKEN_BAD_SIGNATURE || e == FB_TOKEN_MALFORMED, "flipped payload: %s",
        fb_token_error_code(e));
  CHECK(e != FB_TOKEN_OK, "flipped payload accepted");

  /* signed with another secret */
  fb_token_mint("another-secret-0123456789", &t, bad, sizeof bad);
  e = fb_token_verify(SECRET, "m1", bad, NOW, &v);
  CHECK(e == FB_TOKEN_BAD_SIGNATURE, "other secret: %s", fb_token_error_code(e));

  /* signature stripped */
  strcpy(bad, jwt);
  *(strrchr(bad, '.') + 1) = '\0';
  e = fb_token_verify(SECRET, "m1", bad, NOW, &v);
  CHECK(e == FB_TOKEN_BAD_SIGNATURE, "empty sig: %s", fb_token_error_code(e));

  /* verifier with a short secret refuses everything */
  CHECK(fb_token_verify("short", "m1", jwt, NOW, &v) == FB_TOKEN_BAD_SIGNATURE, "short secret");
}

static void test_alg(void) {
  fb_token t = sample(), v;
  char jwt[FB_TOKEN_MAX + 1], forged[8192];
  fb_token_mint(SECRET, &t, jwt, sizeof jwt);
  /* the real payload under an alg:none header, empty signature */
  char hdr[256];
  const char *none = "{\"alg\":\"none\",\"typ\":\"JWT\"}";
  b64url((const unsigned char *)none, strlen(none), hdr);
  const char *payload = strchr(jwt, '.');
  const char *sig = strrchr(jwt, '.');
  snprintf(forged, sizeof forged, "%s%.*s.", hdr, (int)(sig - payload), payload);
  fb_token_error e = fb_token_verify(SECRET, "m1", forged, NOW, &v);
  CHECK(e == FB_TOKEN_WRONG_ALG, "alg none: %s", fb_token_error_code(e));
  /* ... and with the original signature kept */
  snprintf(forged, sizeof forged, "%s%s", hdr, payload);
  e = fb_token_verify(SECRET, "m1", forged, NOW, &v);
  CHECK(e == FB_TOKEN_WRONG_ALG, "alg none + sig: %s", fb_token_error_code(e));

  /* libjwt itself must also refuse "none" when given a key */
  jwt_t *d = NULL;
  snprintf(forged, sizeof forged, "%s%.*s.", hdr, (int)(sig - payload), payload);
  int rc = jwt_decode(&d, forged, (const unsigned char *)SECRET, (int)strlen(SECRET));
  CHECK(rc != 0 && d == NULL, "libjwt accepted alg none with a key (rc %d)", rc);
  jwt_free(d);

  /* same secret, HS512 — libjwt decodes it; we must not */
  char body[512];
  snprintf(body, sizeof body,
           "{\"mtg\":\"m1\",\"sub\":\"d\",\"name\":\"n\",\"role\":\"chair\",\"exp\":%lld,"
           "\"iat\":%lld}",
           NOW + 60, NOW);
  make_jwt("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", body, SECRET, EVP_sha512(), forged);
  d = NULL;
  rc = jwt_decode(&d, forged, (const unsigned char *)SECRET, (int)strlen(SECRET));
  CHECK(rc == 0, "HS512 sanity: libjwt decodes it (rc %d)", rc);
  jwt_free(d);
  e = fb_token_verify(SECRET, "m1", forged, NOW, &v);
  CHECK(e == FB_TOKEN_WRONG_ALG, "HS512: %s", fb_token_error_code(e));
  make_jwt("{\"alg\":\"hs256\"}", body, SECRET, EVP_sha256(), forged);
  CHECK(fb_token_verify(SECRET, "m1", forged, NOW, &v) == FB_TOKEN_WRONG_ALG, "lowercase alg");
  make_jwt("{\"alg\":\"RS256\"}", body, SECRET, EVP_sha256(), forged);
  CHECK(fb_token_verify(SECRET, "m1", forged, NOW, &v) == FB_TOKEN_WRONG_ALG, "RS256");
  make_jwt("{\"typ\":\"JWT\"}", body, SECRET, EVP_sha256(), forged);
  CHECK(fb_token_verify(SECRET, "m1", forged, NOW, &v) == FB_TOKEN_MALFORMED, "no alg");
  make_jwt("{\"alg\":\"HS256\",\"crit\":[\"exp\"]}", body, SECRET, EVP_sha256(), forged);
  CHECK(fb_token_verify(SECRET, "m1", forged, NOW, &v) == FB_TOKEN_MALFORMED, "crit");
  make_jwt(HS256_HDR, body, SECRET, EVP_sha256(), forged);
  e = fb_token_verify(SECRET, "m1", forged, NOW, &v);
  CHECK(e == FB_TOKEN_OK, "hand-signed HS256 sanity: %s", fb_token_error_code(e));
}

static void test_claims(void) {
  fb_token v;
  char p[1024], big[200];
  const char *base = "\"mtg\":\"m1\",\"sub\":\"d\",\"name\":\"n\"";
  snprintf(p, sizeof p, "{%s,\"role\":\"janitor\",\"exp\":%lld,\"iat\":1}", base, NOW + 60);
  CHECK(verify_payload(p, &v) == FB_TOKEN_BAD_ROLE, "bad role");
  snprintf(p, sizeof p, "{%s,\"role\":\"Chair\",\"exp\":%lld,\"iat\":1}", base, NOW + 60);
  CHECK(verify_payload(p, &v) == FB_TOKEN_BAD_ROLE, "role is case-sensitive");
  snprintf(p, sizeof p, "{%s,\"exp\":%lld,\"iat\":1}", base, NOW + 60);
  CHECK(verify_payload(p, &v) == FB_TOKEN_MISSING_CLAIM, "no role");
  snprintf(p, sizeof p, "{%s,\"role\":\"chair\",\"iat\":1}", base);
  CHECK(verify_payload(p, &v) == FB_TOKEN_MISSING_CLAIM, "no exp");
  snprintf(p, sizeof p, "{%s,\"role\":\"chair\",\"exp\":%lld}", base, NOW + 60);
  CHECK(verify_payload(p, &v) == FB_TOKEN_MISSING_CLAIM, "no iat");
  snprintf(p, sizeof p, "{%s,\"role\":\"chair\",\"exp\":\"%lld\",\"iat\":1}", base, NOW + 60);
  CHECK(verify_payload(p, &v) == FB_TOKEN_MISSING_CLAIM, "exp as string");
  snprintf(p, sizeof p, "{%s,\"role\":\"chair\",\"exp\":%lld.5,\"iat\":1}", base, NOW + 60);
  CHECK(verify_payload(p, &v) == FB_TOKEN_MISSING_CLAIM, "exp as real");
  snprintf(p, sizeof p, "{\"mtg\":\"m1\",\"name\":\"n\",\"role\":\"chair\",\"exp\":%lld,\"iat\":1}",
           NOW + 60);
  CHECK(verify_payload(p, &v) == FB_TOKEN_MISSING_CLAIM, "no sub");
  snprintf(p, sizeof p,
           "{\"mtg\":\"m1\",\"sub\":7,\"name\":\"n\",\"role\":\"chair\",\"exp\":%lld,\"iat\":1}",
           NOW + 60);
  CHECK(verify_payload(p, &v) == FB_TOKEN_MISSING_CLAIM, "sub as integer");
  snprintf(p, sizeof p,
           "{\"mtg\":\"m1\",\"sub\":\"d\",\"name\":\"\",\"role\":\"chair\",\"exp\":%lld,\"iat\":1}",
           NOW + 60);
  CHECK(verify_payload(p, &v) == FB_TOKEN_MISSING_CLAIM, "empty name");
  memset(big, 'x', 64);
  big[64] = '\0'; /* 64 bytes: one too many for delegate[64] */
  snprintf(
      p, sizeof p,
      "{\"mtg\":\"m1\",\"sub\":\"%s\",\"name\":\"n\",\"role\":\"chair\",\"exp\":%lld,\"iat\":1}",
      big, NOW + 60);
  CHECK(verify_payload(p, &v) == FB_TOKEN_MALFORMED, "sub overflow");
  big[63] = '\0';
  snprintf(
      p, sizeof p,
      "{\"mtg\":\"m1\",\"sub\":\"%s\",\"name\":\"n\",\"role\":\"chair\",\"exp\":%lld,\"iat\":1}",
      big, NOW + 60);
  CHECK(verify_payload(p, &v) == FB_TOKEN_OK && strlen(v.delegate) == 63, "sub 63 bytes fits");
  snprintf(p, sizeof p, "{%s,\"role\":\"chair\",\"exp\":%lld,\"iat\":1,\"jti\":\"%s\"}", base,
           NOW + 60, big);
  CHECK(verify_payload(p, &v) == FB_TOKEN_OK, "jti 63 bytes");
  snprintf(p, sizeof p, "{%s,\"role\":\"chair\",\"exp\":%lld,\"iat\":1,\"jti\":\"%sy\"}", base,
           NOW + 60, big);
  CHECK(verify_payload(p, &v) == FB_TOKEN_MALFORMED, "jti overflow");
  snprintf(p, sizeof p,
           "{\"mtg\":\"m1\",\"sub\":\"d\",\"name\":\"a\\nb\",\"role\":\"chair\",\"exp\":%lld,"
           "\"iat\":1}",
           NOW + 60);
  CHECK(verify_payload(p, &v) == FB_TOKEN_MALFORMED, "control char in name");
  snprintf(p, sizeof p,
           "{\"mtg\":\"m1\",\"sub\":\"d\",\"name\":\"a\\u0000b\",\"role\":\"chair\",\"exp\":%lld,"
           "\"iat\":1}",
           NOW + 60);
  CHECK(verify_payload(p, &v) == FB_TOKEN_MALFORMED, "NUL in name");
  snprintf(p, sizeof p, "{%s,\"mtg\":\"m2\",\"role\":\"chair\",\"exp\":%lld,\"iat\":1}", base,
           NOW + 60);
  CHECK(verify_payload(p, &v) == FB_TOKEN_MALFORMED, "duplicate mtg key");
  snprintf(p, sizeof p, "{%s,\"role\":\"chair\",\"exp\":%lld,\"iat\":1,\"speak\":\"yes\"}", base,
           NOW + 60);
  CHECK(verify_payload(p, &v) == FB_TOKEN_MALFORMED, "speak as string");
  snprintf(p, sizeof p, "{%s,\"role\":\"delegate\",\"exp\":%lld,\"iat\":1,\"speak\":1}", base,
           NOW + 60);
  CHECK(verify_payload(p, &v) == FB_TOKEN_OK && v.speak == 1 && v.role == FB_ROLE_DELEGATE,
        "speak as integer");
  snprintf(p, sizeof p, "{%s,\"role\":\"chair\",\"exp\":9223372036854775807,\"iat\":1}", base);
  CHECK(verify_payload(p, &v) == FB_TOKEN_OK, "huge exp");
  snprintf(p, sizeof p, "[1,2]");
  CHECK(verify_payload(p, &v) == FB_TOKEN_MALFORMED, "payload not an object");
}

static void test_garbage(void) {
  fb_token v;
  static char huge[5001];
  memset(huge, 'A', 5000);
  huge[1000] = '.';
  huge[2000] = '.';
  const char *g[] = {"",
                     "a.b",
                     "a.b.c",
                     "...",
                     "..",
                     "x",
                     "eyJ.eyJ.x",
                     "a..b",
                     "a.b.c.d",
                     "!!!.???.***",
                     "eyJhbGciOiJIUzI1NiJ9.eyJ.sig with space",
                     "===.===.===",
                     "YQ.YQ.YQ"};
  for (size_t i = 0; i < sizeof g / sizeof g[0]; i++) {
    fb_token_error e = fb_token_verify(SECRET, "m1", g[i], NOW, &v);
    CHECK(e == FB_TOKEN_MALFORMED, "'%s': %s", g[i], fb_token_error_code(e));
  }
  CHECK(fb_token_verify(SECRET, "m1", huge, NOW, &v) == FB_TOKEN_MALFORMED, "5000 bytes");
  CHECK(fb_token_verify(SECRET, "m1", NULL, NOW, &v) == FB_TOKEN_MALFORMED, "NULL");
  /* 4097 bytes, otherwise well-formed: refused on size alone */
  fb_token t = sample();
  char jwt[FB_TOKEN_MAX + 1];
  fb_token_mint(SECRET, &t, jwt, sizeof jwt);
  static char longer[FB_TOKEN_MAX + 2];
  memset(longer, 'A', sizeof longer - 1);
  memcpy(longer, jwt, strlen(jwt));
  CHECK(fb_token_verify(SECRET, "m1", longer, NOW, &v) == FB_TOKEN_MALFORMED, "4097 bytes");
  /* deterministic random strings from the token alphabet */
  uint32_t x = 12345;
  char r[300];
  for (int i = 0; i < 3000; i++) {
    int n = (int)(x % 299);
    for (int k = 0; k < n; k++) {
      x ^= x << 13, x ^= x >> 17, x ^= x << 5;
      r[k] = "AZaz09-_.eyJ"[x % 12];
    }
    r[n] = '\0';
    CHECK(fb_token_verify(SECRET, "m1", r, NOW, &v) != FB_TOKEN_OK, "random accepted: %s", r);
  }
}

static void test_names(void) {
  CHECK(strcmp(fb_token_error_code(FB_TOKEN_EXPIRED), "token_expired") == 0, "code");
  CHECK(strcmp(fb_token_error_code(FB_TOKEN_MALFORMED), "token_malformed") == 0, "code");
  CHECK(strcmp(fb_token_error_code(FB_TOKEN_BAD_SIGNATURE), "token_bad_signature") == 0, "code");
  CHECK(strcmp(fb_token_error_code(FB_TOKEN_WRONG_ALG), "token_wrong_alg") == 0, "code");
  CHECK(strcmp(fb_token_error_code(FB_TOKEN_WRONG_MEETING), "token_wrong_meeting") == 0, "code");
  CHECK(strcmp(fb_token_error_code(FB_TOKEN_MISSING_CLAIM), "token_missing_claim") == 0, "code");
  CHECK(strcmp(fb_token_error_code(FB_TOKEN_BAD_ROLE), "token_bad_role") == 0, "code");
  CHECK(strcmp(fb_token_error_code((fb_token_error)99), "token_unknown") == 0, "code 99");
  CHECK(fb_token_error_message(FB_TOKEN_EXPIRED)[0] != '\0', "message");
  CHECK(fb_role_parse("delegate") == FB_ROLE_DELEGATE && fb_role_parse("x") == -1 &&
            fb_role_parse(NULL) == -1,
        "role parse");
  CHECK(strcmp(fb_role_name(FB_ROLE_OBSERVER), "observer") == 0, "role name");
}

/* Run fb_token_cli with stdout (and stderr) captured; returns its status. */
static int run_cli(char **argv, char *out, size_t cap) {
  int argc = 0;
  while (argv[argc]) argc++;
  int fds[2];
  if (pipe(fds) != 0) return -1;
  fflush(stdout);
  fflush(stderr);
  int saved_out = dup(1), saved_err = dup(2);
  dup2(fds[1], 1);
  dup2(fds[1], 2); /* error text goes to the same pipe: keeps test output quiet */
  close(fds[1]);
  int rc = fb_token_cli(argc, argv);
  fflush(stdout);
  fflush(stderr);
  dup2(saved_out, 1);
  dup2(saved_err, 2);
  close(saved_out);
  close(saved_err);
  size_t n = 0;
  ssize_t r;
  while (n + 1 < cap && (r = read(fds[0], out + n, cap - 1 - n)) > 0) n += (size_t)r;
  out[n] = '\0';
  close(fds[0]);
  return rc;
}

static void test_cli(void) {
  char out[8192];
  fb_token v;
  setenv("FLOORBRIDGE_TOKEN_SECRET", SECRET, 1);
  char *a1[] = {"token",  "--meeting", "m1",    "--delegate", "d7",      "--name", "Delegate Seven",
                "--role", "delegate",  "--ttl", "600",        "--speak", NULL};
  int rc = run_cli(a1, out, sizeof out);
  CHECK(rc == 0, "cli rc %d: %s", rc, out);
  size_t n = strlen(out);
  CHECK(n > 0 && out[n - 1] == '\n' && strchr(out, '\n') == out + n - 1, "one line: %s", out);
  if (n) out[n - 1] = '\0';
  long long now = (long long)time(NULL);
  fb_token_error e = fb_token_verify(SECRET, "m1", out, now, &v);
  CHECK(e == FB_TOKEN_OK, "cli token: %s", fb_token_error_code(e));
  CHECK(strcmp(v.delegate, "d7") == 0 && strcmp(v.name, "Delegate Seven") == 0 &&
            v.role == FB_ROLE_DELEGATE && v.speak == 1 && strlen(v.jti) == 16,
        "claims: %s %s %d %d %s", v.delegate, v.name, v.role, v.speak, v.jti);
  CHECK(v.exp - v.iat == 600 && v.iat >= now - 5 && v.iat <= now, "ttl: %lld..%lld", v.iat, v.exp);
  CHECK(fb_token_verify(SECRET, "m1", out, now + 700, &v) == FB_TOKEN_EXPIRED, "cli ttl");

  /* secret file wins over the environment; --opt=value form */
  char path[] = "/tmp/fb_token_secret_XXXXXX";
  int fd = mkstemp(path);
  const char *fsecret = "file-secret-abcdefghijklmnop\n";
  CHECK(fd >= 0 && write(fd, fsecret, strlen(fsecret)) == (ssize_t)strlen(fsecret), "tmp");
  close(fd);
  char sf[64];
  snprintf(sf, sizeof sf, "--secret-file=%s", path);
  char *a2[] = {"token", "--meeting=m9", "--delegate", "d", "--name",
                "N",     "--role",       "observer",   sf,  NULL};
  rc = run_cli(a2, out, sizeof out);
  CHECK(rc == 0, "cli file rc %d: %s", rc, out);
  out[strcspn(out, "\n")] = '\0';
  e = fb_token_verify("file-secret-abcdefghijklmnop", "m9", out, now, &v);
  CHECK(e == FB_TOKEN_OK && v.speak == 0 && v.exp - v.iat == 43200, "file secret: %s",
        fb_token_error_code(e));
  CHECK(fb_token_verify(SECRET, "m9", out, now, &v) == FB_TOKEN_BAD_SIGNATURE, "env not used");
  unlink(path);

  /* errors: exit 2, nothing on stdout is checked via rc only */
  char *bad_role[] = {"token",  "--meeting", "m",      "--delegate", "d",
                      "--name", "n",         "--role", "king",       NULL};
  CHECK(run_cli(bad_role, out, sizeof out) == 2, "bad role");
  char *missing[] = {"token", "--meeting", "m", "--role", "chair", NULL};
  CHECK(run_cli(missing, out, sizeof out) == 2, "missing args");
  char *noval[] = {"token", "--meeting", NULL};
  CHECK(run_cli(noval, out, sizeof out) == 2, "option without value");
  char *unknown[] = {"token", "--colour", "red", NULL};
  CHECK(run_cli(unknown, out, sizeof out) == 2, "unknown option");
  char *badttl[] = {"token", "--meeting", "m",     "--delegate", "d",  "--name",
                    "n",     "--role",    "chair", "--ttl",      "-5", NULL};
  CHECK(run_cli(badttl, out, sizeof out) == 2, "bad ttl");
  char *nofile[] = {"token",
                    "--meeting",
                    "m",
                    "--delegate",
                    "d",
                    "--name",
                    "n",
                    "--role",
                    "chair",
                    "--secret-file",
                    "/nonexistent/secret",
                    NULL};
  CHECK(run_cli(nofile, out, sizeof out) == 2, "missing secret file");
  setenv("FLOORBRIDGE_TOKEN_SECRET", "too-short", 1);
  CHECK(run_cli(a1, out, sizeof out) == 2, "short secret");
  unsetenv("FLOORBRIDGE_TOKEN_SECRET");
  CHECK(run_cli(a1, out, sizeof out) == 2, "no secret");
  char *help[] = {"token", "--help", NULL};
  CHECK(run_cli(help, out, sizeof out) == 0 && strstr(out, "usage") != NULL, "help");
}

int main(void) {
  test_round_trip();
  test_mint_refusals();
  test_forged();
  test_alg();
  test_claims();
  test_garbage();
  test_names();
  test_cli();
  return CHECK_DONE();
}
