/*
 * token.c — HS256 join tokens over libjwt 1.10, plus the `floorbridge token`
 * command.
 *
 * Verification does its own cheap pre-parse before handing the token to
 * libjwt, because libjwt 1.10's jwt_decode() reports every failure as EINVAL
 * and would accept any HMAC alg the secret fits (HS384/HS512 decode fine with
 * the same key):
 *   1. size (<= FB_TOKEN_MAX), alphabet (base64url and exactly two dots);
 *   2. decode header and payload ourselves, parse both with jansson (strict:
 *      objects, no duplicate keys, no "crit" header) -> MALFORMED;
 *   3. header "alg" must be exactly "HS256" -> else WRONG_ALG (this is where
 *      "none" is refused; libjwt also refuses "none" when given a key, but we
 *      do not rely on it);
 *   4. jwt_decode() with the secret verifies the HMAC (Debian's 1.10.2-1+deb12u1
 *      compares in constant time, CVE-2024-25189) -> BAD_SIGNATURE, and we
 *      re-check jwt_get_alg() == JWT_ALG_HS256;
 *   5. claims are read from our own parse of the (now authenticated) payload
 *      with strict types — libjwt's jwt_get_grant_int() returns 0 with errno 0
 *      for a string claim and jwt_get_grant() NULL for an integer, so type
 *      confusion would be silent there.
 */
#include "signalling/token.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <jwt.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_TTL 43200       /* 12 h: a long meeting day */
#define MAX_TTL (366L * 86400L) /* refuse absurd lifetimes */

/* ---- names ------------------------------------------------------------ */

static const char *const role_names[] = {"chair", "delegate", "observer"};

const char *fb_role_name(fb_role role) {
  if ((int)role < 0 || (int)role > FB_ROLE_OBSERVER) return "unknown";
  return role_names[role];
}

int fb_role_parse(const char *s) {
  if (!s) return -1;
  for (int i = 0; i <= FB_ROLE_OBSERVER; i++)
    if (strcmp(s, role_names[i]) == 0) return i;
  return -1;
}

const char *fb_token_error_code(fb_token_error err) {
  switch (err) {
  case FB_TOKEN_OK: return "ok";
  case FB_TOKEN_MALFORMED: return "token_malformed";
  case FB_TOKEN_BAD_SIGNATURE: return "token_bad_signature";
  case FB_TOKEN_WRONG_ALG: return "token_wrong_alg";
  case FB_TOKEN_EXPIRED: return "token_expired";
  case FB_TOKEN_WRONG_MEETING: return "token_wrong_meeting";
  case FB_TOKEN_MISSING_CLAIM: return "token_missing_claim";
  case FB_TOKEN_BAD_ROLE: return "token_bad_role";
  case FB_TOKEN_NOT_YET_VALID: return "token_not_yet_valid";
  }
  return "token_unknown";
}

const char *fb_token_error_message(fb_token_error err) {
  switch (err) {
  case FB_TOKEN_OK: return "token is valid";
  case FB_TOKEN_MALFORMED: return "token is not a well-formed JWT";
  case FB_TOKEN_BAD_SIGNATURE: return "token signature does not match";
  case FB_TOKEN_WRONG_ALG: return "token is not signed with HS256";
  case FB_TOKEN_EXPIRED: return "token has expired";
  case FB_TOKEN_WRONG_MEETING: return "token is for another meeting";
  case FB_TOKEN_MISSING_CLAIM: return "token lacks a required claim";
  case FB_TOKEN_BAD_ROLE: return "token role is not chair, delegate or observer";
  case FB_TOKEN_NOT_YET_VALID: return "this invitation is not valid yet: it opens with the meeting";
  }
  return "unknown token error";
}

/* ---- helpers ---------------------------------------------------------- */

/* Value of one base64url character, or -1. */
static int b64url_value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

/* Decode unpadded base64url src[0..n) into out (capacity >= n). Returns the
 * decoded length or -1. */
static long b64url_decode(const char *src, size_t n, unsigned char *out) {
  if (n % 4 == 1) return -1;
  unsigned acc = 0;
  int bits = 0;
  long len = 0;
  for (size_t i = 0; i < n; i++) {
    int v = b64url_value((unsigned char)src[i]);
    if (v < 0) return -1;
    acc = (acc << 6) | (unsigned)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[len++] = (unsigned char)(acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  return len;
}

/* Decode one segment and parse it as a JSON object (no duplicate keys). */
static json_t *segment_json(const char *seg, size_t n) {
  if (n == 0) return NULL;
  unsigned char *buf = malloc(n);
  if (!buf) return NULL;
  long len = b64url_decode(seg, n, buf);
  json_t *j = NULL;
  if (len > 0) j = json_loadb((const char *)buf, (size_t)len, JSON_REJECT_DUPLICATES, NULL);
  free(buf);
  if (j && !json_is_object(j)) {
    json_decref(j);
    j = NULL;
  }
  return j;
}

static int has_control_chars(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f) return 1;
  return 0;
}

/* A string that fits in a cap-byte field (NUL included) and has no control chars. */
static int field_ok(const char *s, size_t cap) {
  size_t n = strnlen(s, cap);
  return n > 0 && n < cap && !has_control_chars(s);
}

/* Copy string claim `key` into dst (capacity cap). Returns FB_TOKEN_OK,
 * MISSING_CLAIM (absent, not a string, or empty when required) or MALFORMED
 * (too long, control characters; wrong type for optional claims). */
static fb_token_error get_string(json_t *claims, const char *key, char *dst, size_t cap,
                                 int required) {
  json_t *v = json_object_get(claims, key);
  if (!v) return required ? FB_TOKEN_MISSING_CLAIM : FB_TOKEN_OK;
  if (!json_is_string(v)) return required ? FB_TOKEN_MISSING_CLAIM : FB_TOKEN_MALFORMED;
  const char *s = json_string_value(v);
  size_t n = json_string_length(v);
  if (n == 0) return required ? FB_TOKEN_MISSING_CLAIM : FB_TOKEN_OK;
  if (n >= cap || strlen(s) != n || has_control_chars(s)) return FB_TOKEN_MALFORMED;
  memcpy(dst, s, n + 1);
  return FB_TOKEN_OK;
}

static fb_token_error get_int(json_t *claims, const char *key, long long *dst) {
  json_t *v = json_object_get(claims, key);
  if (!v || !json_is_integer(v)) return FB_TOKEN_MISSING_CLAIM;
  *dst = (long long)json_integer_value(v);
  return FB_TOKEN_OK;
}

/* ---- mint ------------------------------------------------------------- */

int fb_token_mint(const char *secret, const fb_token *t, char *out, size_t outlen) {
  if (!secret || !t || !out || outlen == 0) return -1;
  size_t keylen = strlen(secret);
  if (keylen < FB_TOKEN_MIN_SECRET || keylen > INT_MAX) return -1;
  if (!field_ok(t->meeting, sizeof t->meeting) || !field_ok(t->delegate, sizeof t->delegate) ||
      !field_ok(t->name, sizeof t->name))
    return -1;
  int has_jti = t->jti[0] != '\0';
  if (has_jti && !field_ok(t->jti, sizeof t->jti)) return -1;
  if ((int)t->role < 0 || (int)t->role > FB_ROLE_OBSERVER) return -1;
  long long iat = t->iat ? t->iat : (long long)time(NULL);
  if (t->exp <= 0 || t->exp > LONG_MAX || iat < 0 || iat > LONG_MAX) return -1;
  if (t->nbf < 0 || (t->nbf && t->nbf >= t->exp)) return -1;

  jwt_t *jwt = NULL;
  char *enc = NULL;
  int rc = -1;
  if (jwt_new(&jwt) != 0) return -1;
  if (jwt_add_grant(jwt, "mtg", t->meeting) || jwt_add_grant(jwt, "sub", t->delegate) ||
      jwt_add_grant(jwt, "name", t->name) || jwt_add_grant(jwt, "role", fb_role_name(t->role)) ||
      jwt_add_grant_int(jwt, "exp", (long)t->exp) || jwt_add_grant_int(jwt, "iat", (long)iat))
    goto done; /* e.g. invalid UTF-8 in name: jansson refuses the string */
  if (t->speak && jwt_add_grant_bool(jwt, "speak", 1)) goto done;
  if (t->nbf && jwt_add_grant_int(jwt, "nbf", (long)t->nbf)) goto done;
  if (has_jti && jwt_add_grant(jwt, "jti", t->jti)) goto done;
  if (jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret, (int)keylen)) goto done;
  enc = jwt_encode_str(jwt);
  if (!enc) goto done;
  size_t n = strlen(enc);
  if (n > FB_TOKEN_MAX || n + 1 > outlen) goto done;
  memcpy(out, enc, n + 1);
  rc = 0;
done:
  free(enc); /* libjwt 1.10 allocates with malloc and has no jwt_free_str() */
  jwt_free(jwt);
  return rc;
}

/* ---- verify ----------------------------------------------------------- */

/* Checks 1-4 of the file comment: shape, alg, signature. On FB_TOKEN_OK,
 * *claims_out owns the parsed payload. */
static fb_token_error check_envelope(const char *secret, const char *jwt, json_t **claims_out) {
  size_t n = strnlen(jwt, FB_TOKEN_MAX + 1);
  if (n == 0 || n > FB_TOKEN_MAX) return FB_TOKEN_MALFORMED;
  size_t dots[2];
  int ndots = 0;
  for (size_t i = 0; i < n; i++) {
    if (jwt[i] == '.') {
      if (ndots == 2) return FB_TOKEN_MALFORMED;
      dots[ndots++] = i;
    } else if (b64url_value((unsigned char)jwt[i]) < 0) {
      return FB_TOKEN_MALFORMED;
    }
  }
  if (ndots != 2) return FB_TOKEN_MALFORMED;

  json_t *hdr = segment_json(jwt, dots[0]);
  json_t *claims = segment_json(jwt + dots[0] + 1, dots[1] - dots[0] - 1);
  fb_token_error err = FB_TOKEN_OK;
  const char *alg = NULL;
  if (!hdr || !claims || json_object_get(hdr, "crit")) {
    err = FB_TOKEN_MALFORMED;
  } else if (!(alg = json_string_value(json_object_get(hdr, "alg")))) {
    err = FB_TOKEN_MALFORMED;
  } else if (strcmp(alg, "HS256") != 0) {
    err = FB_TOKEN_WRONG_ALG;
  } else if (dots[1] + 1 == n) {
    err = FB_TOKEN_BAD_SIGNATURE; /* "HS256" with an empty signature */
  } else {
    jwt_t *d = NULL;
    int rc = jwt_decode(&d, jwt, (const unsigned char *)secret, (int)strlen(secret));
    if (rc != 0 || !d)
      err = FB_TOKEN_BAD_SIGNATURE;
    else if (jwt_get_alg(d) != JWT_ALG_HS256)
      err = FB_TOKEN_WRONG_ALG;
    jwt_free(d);
  }
  json_decref(hdr);
  if (err != FB_TOKEN_OK) {
    json_decref(claims);
    return err;
  }
  *claims_out = claims;
  return FB_TOKEN_OK;
}

/* Check 5: claims into *t. */
static fb_token_error read_claims(json_t *c, fb_token *t) {
  fb_token_error err;
  if ((err = get_string(c, "mtg", t->meeting, sizeof t->meeting, 1)) ||
      (err = get_string(c, "sub", t->delegate, sizeof t->delegate, 1)) ||
      (err = get_string(c, "name", t->name, sizeof t->name, 1)) ||
      (err = get_string(c, "jti", t->jti, sizeof t->jti, 0)) ||
      (err = get_int(c, "exp", &t->exp)) || (err = get_int(c, "iat", &t->iat)))
    return err;
  json_t *nbf = json_object_get(c, "nbf");
  if (nbf && (!json_is_integer(nbf) || json_integer_value(nbf) < 0)) return FB_TOKEN_MALFORMED;
  t->nbf = nbf ? (long long)json_integer_value(nbf) : 0;
  json_t *speak = json_object_get(c, "speak");
  if (json_is_boolean(speak))
    t->speak = json_is_true(speak);
  else if (json_is_integer(speak))
    t->speak = json_integer_value(speak) != 0;
  else if (speak)
    return FB_TOKEN_MALFORMED;
  json_t *role = json_object_get(c, "role");
  if (!json_is_string(role)) return FB_TOKEN_MISSING_CLAIM;
  int r = fb_role_parse(json_string_value(role));
  if (r < 0) return FB_TOKEN_BAD_ROLE;
  t->role = (fb_role)r;
  return FB_TOKEN_OK;
}

fb_token_error fb_token_verify(const char *secret, const char *meeting, const char *jwt,
                               long long now, fb_token *out) {
  fb_token t;
  memset(&t, 0, sizeof t);
  if (out) memset(out, 0, sizeof *out);
  if (!jwt) return FB_TOKEN_MALFORMED;
  if (!secret || strlen(secret) < FB_TOKEN_MIN_SECRET || strlen(secret) > INT_MAX)
    return FB_TOKEN_BAD_SIGNATURE;

  json_t *claims = NULL;
  fb_token_error err = check_envelope(secret, jwt, &claims);
  if (err != FB_TOKEN_OK) return err;
  err = read_claims(claims, &t);
  json_decref(claims);
  if (err != FB_TOKEN_OK) return err;
  if (!meeting || strcmp(meeting, t.meeting) != 0) return FB_TOKEN_WRONG_MEETING;
  if (now - FB_TOKEN_SKEW > t.exp) return FB_TOKEN_EXPIRED;
  if (t.nbf && now + FB_TOKEN_SKEW < t.nbf) return FB_TOKEN_NOT_YET_VALID;
  if (out) *out = t;
  return FB_TOKEN_OK;
}

/* ---- floorbridge token ------------------------------------------------ */

static void cli_usage(FILE *f) {
  fprintf(f,
          "usage: floorbridge token --meeting M --delegate D --name N --role R\n"
          "                         [--ttl SECONDS] [--speak] [--secret-file PATH]\n"
          "  R is chair, delegate or observer; --ttl defaults to %d s.\n"
          "  The secret comes from --secret-file or FLOORBRIDGE_TOKEN_SECRET\n"
          "  (at least %d bytes). Prints the token on stdout.\n",
          DEFAULT_TTL, FB_TOKEN_MIN_SECRET);
}

/* Read the secret file (at most cap - 1 bytes) into buf, trailing whitespace
 * stripped. Returns 0 or -1 with a message printed. */
static int read_secret_file(const char *who, const char *path, char *buf, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    fprintf(stderr, "%s: cannot open secret file %s: %s\n", who, path, strerror(errno));
    return -1;
  }
  size_t len = 0;
  for (;;) {
    ssize_t r = read(fd, buf + len, cap - 1 - len);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      fprintf(stderr, "%s: cannot read secret file %s: %s\n", who, path, strerror(errno));
      close(fd);
      return -1;
    }
    if (r == 0) break;
    len += (size_t)r;
    if (len == cap - 1) {
      fprintf(stderr, "%s: secret file %s is too large\n", who, path);
      close(fd);
      return -1;
    }
  }
  close(fd);
  buf[len] = '\0';
  while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ' ||
                     buf[len - 1] == '\t'))
    buf[--len] = '\0';
  if (strlen(buf) != len) {
    fprintf(stderr, "%s: secret file %s contains a NUL byte\n", who, path);
    return -1;
  }
  return 0;
}

int fb_token_secret_load(const char *who, const char *secret_file, char *buf, size_t cap) {
  buf[0] = '\0';
  if (secret_file) {
    if (read_secret_file(who, secret_file, buf, cap)) return -1;
  } else {
    const char *env = getenv("FLOORBRIDGE_TOKEN_SECRET");
    if (!env || !env[0]) {
      fprintf(stderr, "%s: no secret: use --secret-file or set FLOORBRIDGE_TOKEN_SECRET\n", who);
      return -1;
    }
    if (strlen(env) >= cap) {
      fprintf(stderr, "%s: FLOORBRIDGE_TOKEN_SECRET is too long\n", who);
      return -1;
    }
    memcpy(buf, env, strlen(env) + 1);
  }
  if (strlen(buf) < FB_TOKEN_MIN_SECRET) {
    fprintf(stderr, "%s: the secret must be at least %d bytes\n", who, FB_TOKEN_MIN_SECRET);
    OPENSSL_cleanse(buf, cap);
    return -1;
  }
  return 0;
}

int fb_token_new_jti(char out[17]) {
  unsigned char rnd[8];
  if (RAND_bytes(rnd, sizeof rnd) != 1) return -1;
  for (size_t i = 0; i < sizeof rnd; i++) snprintf(out + 2 * i, 3, "%02x", rnd[i]);
  return 0;
}

/* Copy a command-line value into a token field, with a message on failure. */
static int cli_field(char *dst, size_t cap, const char *val, const char *opt) {
  if (!val || !val[0] || strlen(val) >= cap || has_control_chars(val)) {
    fprintf(stderr, "token: %s needs a value of 1..%zu bytes without control characters\n", opt,
            cap - 1);
    return -1;
  }
  memcpy(dst, val, strlen(val) + 1);
  return 0;
}

int fb_token_cli(int argc, char **argv) {
  fb_token t;
  memset(&t, 0, sizeof t);
  const char *role = NULL, *secret_file = NULL, *ttl_s = NULL;
  int have_m = 0, have_d = 0, have_n = 0;
  char secret[4097];
  int status = 2;
  secret[0] = '\0';

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      cli_usage(stdout);
      return 0;
    }
    if (strcmp(a, "--speak") == 0) {
      t.speak = 1;
      continue;
    }
    /* options with a value: "--opt VALUE" or "--opt=VALUE" */
    static const char *const opts[] = {"--meeting", "--delegate", "--name",
                                       "--role",    "--ttl",      "--secret-file"};
    int which = -1;
    const char *val = NULL;
    for (int k = 0; k < 6 && which < 0; k++) {
      size_t ol = strlen(opts[k]);
      if (strcmp(a, opts[k]) == 0) {
        which = k;
        if (i + 1 < argc) val = argv[++i];
      } else if (strncmp(a, opts[k], ol) == 0 && a[ol] == '=') {
        which = k;
        val = a + ol + 1;
      }
    }
    if (which < 0) {
      fprintf(stderr, "token: unknown argument '%s'\n", a);
      cli_usage(stderr);
      return 2;
    }
    if (!val) {
      fprintf(stderr, "token: %s needs a value\n", opts[which]);
      return 2;
    }
    int bad = 0;
    switch (which) {
    case 0:
      bad = cli_field(t.meeting, sizeof t.meeting, val, opts[which]);
      have_m = 1;
      break;
    case 1:
      bad = cli_field(t.delegate, sizeof t.delegate, val, opts[which]);
      have_d = 1;
      break;
    case 2:
      bad = cli_field(t.name, sizeof t.name, val, opts[which]);
      have_n = 1;
      break;
    case 3: role = val; break;
    case 4: ttl_s = val; break;
    case 5: secret_file = val; break;
    }
    if (bad) return 2;
  }
  if (!have_m || !have_d || !have_n || !role) {
    fprintf(stderr, "token: --meeting, --delegate, --name and --role are required\n");
    cli_usage(stderr);
    return 2;
  }
  int r = fb_role_parse(role);
  if (r < 0) {
    fprintf(stderr, "token: --role must be chair, delegate or observer (got '%s')\n", role);
    return 2;
  }
  t.role = (fb_role)r;
  long ttl = DEFAULT_TTL;
  if (ttl_s) {
    char *end = NULL;
    errno = 0;
    ttl = strtol(ttl_s, &end, 10);
    if (errno || end == ttl_s || *end || ttl <= 0 || ttl > MAX_TTL) {
      fprintf(stderr, "token: --ttl must be 1..%ld seconds\n", MAX_TTL);
      return 2;
    }
  }

  if (fb_token_secret_load("token", secret_file, secret, sizeof secret)) goto out;

  if (fb_token_new_jti(t.jti)) {
    fprintf(stderr, "token: no randomness for jti\n");
    goto out;
  }
  t.iat = (long long)time(NULL);
  t.exp = t.iat + ttl;

  char jwt[FB_TOKEN_MAX + 1];
  if (fb_token_mint(secret, &t, jwt, sizeof jwt) != 0) {
    fprintf(stderr, "token: could not mint the token (invalid UTF-8 in a value?)\n");
    goto out;
  }
  printf("%s\n", jwt);
  fflush(stdout);
  status = 0;
out:
  OPENSSL_cleanse(secret, sizeof secret);
  return status;
}
