/*
 * token.h — join tokens for remote delegates: a JWT signed with HS256 that the
 * secretariat (or the `floorbridge token` command) mints and the browser
 * presents when it joins. The bridge verifies it before any media flows.
 *
 * Claims:
 *   "mtg"   meeting id (string, required)      "sub"  delegate id (string, required)
 *   "name"  display name (string, required)    "role" chair|delegate|observer (required)
 *   "exp"   expiry, seconds since the epoch    "iat"  issue time (both integers, required)
 *   "speak" may speak (bool or integer, optional; default 0 — used until floor
 *           control exists)
 *   "jti"   token id (string, optional)
 *   "nbf"   not before, seconds since the epoch (integer, optional: the
 *           meeting's first day, so an invitation sent weeks ahead cannot be
 *           used before the meeting; given FB_TOKEN_SKEW of clock skew too)
 *
 * Verification is strict: only HS256 is accepted ("none" and every other alg
 * are refused before the signature is looked at), tokens longer than
 * FB_TOKEN_MAX bytes, claims that do not fit the fb_token fields, claims with
 * control characters and duplicate JSON keys are refused. The expiry is given
 * FB_TOKEN_SKEW seconds of clock skew; "iat" is not checked against the clock.
 *
 * The shared secret must be at least FB_TOKEN_MIN_SECRET bytes; use 32 random
 * bytes (e.g. `openssl rand -base64 32`). All functions are thread-safe.
 */
#ifndef FB_TOKEN_H
#define FB_TOKEN_H

#include <stddef.h>

#define FB_TOKEN_MAX 4096      /* longest token fb_token_verify accepts (bytes) */
#define FB_TOKEN_MIN_SECRET 16 /* shortest accepted secret (bytes) */
#define FB_TOKEN_SKEW 30       /* seconds a token stays valid after "exp" */

typedef enum { FB_ROLE_CHAIR, FB_ROLE_DELEGATE, FB_ROLE_OBSERVER } fb_role;

/* The claims of a token. Strings are NUL-terminated and must fit their arrays
 * (at most sizeof - 1 bytes of UTF-8). */
typedef struct {
  char meeting[64];  /* "mtg" */
  char delegate[64]; /* "sub" */
  char name[128];    /* "name" */
  fb_role role;      /* "role" */
  long long exp;     /* "exp", seconds since the epoch */
  long long iat;     /* "iat", seconds since the epoch */
  int speak;         /* "speak", 0 or 1 */
  char jti[64];      /* "jti", "" when absent */
  long long nbf;     /* "nbf", seconds since the epoch; 0 when absent */
} fb_token;

typedef enum fb_token_error {
  FB_TOKEN_OK = 0,
  FB_TOKEN_MALFORMED,     /* not a JWT, too long, bad JSON, field overflow */
  FB_TOKEN_BAD_SIGNATURE, /* HMAC does not match the secret */
  FB_TOKEN_WRONG_ALG,     /* alg is not HS256 (includes "none") */
  FB_TOKEN_EXPIRED,       /* now > exp + FB_TOKEN_SKEW */
  FB_TOKEN_WRONG_MEETING, /* "mtg" is not the meeting being joined */
  FB_TOKEN_MISSING_CLAIM, /* a required claim is absent, empty or of the wrong type */
  FB_TOKEN_BAD_ROLE,      /* "role" is not chair|delegate|observer */
  FB_TOKEN_NOT_YET_VALID  /* now < nbf - FB_TOKEN_SKEW */
} fb_token_error;
#define FB_TOKEN_ERROR_LAST FB_TOKEN_NOT_YET_VALID

/* Mint an HS256 token for t into out (capacity outlen, NUL-terminated).
 * secret must be at least FB_TOKEN_MIN_SECRET bytes. t->meeting, t->delegate
 * and t->name must be non-empty and free of control characters, t->role valid,
 * t->exp > 0; t->iat == 0 means "now"; t->jti == "" omits "jti"; "speak" is
 * written only when t->speak != 0, "nbf" only when t->nbf != 0 (and then it
 * must be below t->exp). Returns 0, or -1 when an argument is
 * invalid or out is too small (a token is at most FB_TOKEN_MAX bytes; a
 * buffer of FB_TOKEN_MAX + 1 is always enough). */
int fb_token_mint(const char *secret, const fb_token *t, char *out, size_t outlen);

/* Verify jwt (a NUL-terminated string) against secret for the meeting being
 * joined, with now in seconds since the epoch. On FB_TOKEN_OK, *out holds the
 * claims; on any error *out is zeroed. A NULL or too-short secret yields
 * FB_TOKEN_BAD_SIGNATURE; a NULL meeting yields FB_TOKEN_WRONG_MEETING.
 * Checks run in this order: shape and size, alg, signature, claims, role,
 * meeting, expiry, not-before. */
fb_token_error fb_token_verify(const char *secret, const char *meeting, const char *jwt,
                               long long now, fb_token *out);

/* Stable machine-readable code for an error ("token_expired", ...; "ok" for
 * FB_TOKEN_OK, "token_unknown" for values outside the enum). Safe to send to
 * the client. */
const char *fb_token_error_code(fb_token_error err);

/* Human-readable one-line description of an error, for logs and UIs. */
const char *fb_token_error_message(fb_token_error err);

/* "chair", "delegate" or "observer"; "unknown" for values outside the enum. */
const char *fb_role_name(fb_role role);

/* Parse a role name (exact, lower case). Returns FB_ROLE_* or -1. */
int fb_role_parse(const char *s);

/* The signing secret for a command-line tool: from secret_file (trailing
 * newline stripped) when it is not NULL, else from the environment variable
 * FLOORBRIDGE_TOKEN_SECRET, into buf (capacity cap). At least
 * FB_TOKEN_MIN_SECRET bytes. Returns 0, or -1 with a message on stderr that
 * starts with who (the command's name). */
int fb_token_secret_load(const char *who, const char *secret_file, char *buf, size_t cap);

/* A random token id: 16 lower-case hex digits and a NUL. 0, or -1 when the
 * system has no randomness. */
int fb_token_new_jti(char out[17]);

/* The `floorbridge token` command; argv[0] is "token".
 *   token --meeting M --delegate D --name N --role R [--ttl SECONDS] [--speak]
 *         [--secret-file PATH]
 * The secret is read from --secret-file (trailing newline stripped) or else
 * from the environment variable FLOORBRIDGE_TOKEN_SECRET. --ttl defaults to
 * 43200 (12 h). A random "jti" is added. Prints the JWT alone on stdout and
 * returns 0; on any error prints a message on stderr and returns 2. --help
 * prints usage on stdout and returns 0. */
int fb_token_cli(int argc, char **argv);

#endif
