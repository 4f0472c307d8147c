/*
 * tls.c — certificate reload (see tls.h). Plain OpenSSL: a scratch SSL_CTX
 * proves the files, then the same two calls put them into the live one.
 */
#include "signalling/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>

static void ssl_error(char *err, size_t errlen, const char *what, const char *path) {
  char buf[160];
  unsigned long e = ERR_get_error();
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  snprintf(err, errlen, "%s %s: %s", what, path, e ? buf : "failed");
}

/* Chain and key into ctx; 0 or -1 with err. */
static int load(SSL_CTX *ctx, const char *cert, const char *key, char *err, size_t errlen) {
  if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
    ssl_error(err, errlen, "cannot load the certificate", cert);
    return -1;
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
    ssl_error(err, errlen, "cannot load the key", key);
    return -1;
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    ssl_error(err, errlen, "the key does not match the certificate", cert);
    return -1;
  }
  return 0;
}

int fb_tls_reload(void *ssl_ctx, const char *cert, const char *key, char *err, size_t errlen) {
  if (!ssl_ctx) {
    snprintf(err, errlen, "no TLS context (the server runs without TLS)");
    return -1;
  }
  SSL_CTX *scratch = SSL_CTX_new(TLS_server_method());
  if (!scratch) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  int rc = load(scratch, cert, key, err, errlen);
  SSL_CTX_free(scratch);
  if (rc == 0)
    rc = load(ssl_ctx, cert, key, err, errlen); /* proven: cannot half-fail now
                                                              short of the files changing again */
  return rc;
}

void fb_tls_fingerprint(void *ssl_ctx, char *out, size_t outlen) {
  out[0] = 0;
  X509 *x = ssl_ctx ? SSL_CTX_get0_certificate(ssl_ctx) : NULL;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!x || X509_digest(x, EVP_sha256(), md, &n) != 1) return;
  size_t pos = 0;
  for (unsigned int i = 0; i < n && pos + 4 <= outlen; i++)
    pos += (size_t)snprintf(out + pos, outlen - pos, "%s%02X", i ? ":" : "", md[i]);
}
