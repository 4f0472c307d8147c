/*
 * tls.h — the web server's certificate, replaced while the bridge runs.
 *
 * A secretariat renews the certificate (a new one from its CA, or a renewal
 * every 60 days) during a meeting week; a restart would drop every delegate.
 * libwebsockets loads tls_cert/tls_key once, into its vhost's OpenSSL
 * SSL_CTX; this module keeps a pointer to that SSL_CTX (lws hands it to the
 * protocol callback as LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS)
 * and, on reload, loads the files into a scratch SSL_CTX first: only a chain
 * and key that load and match replace the live ones. Connections already open
 * keep their session; new handshakes get the new certificate.
 *
 * Signalling thread only (where lws makes new SSL objects from the SSL_CTX),
 * so the swap needs no lock.
 */
#ifndef FB_SIGNALLING_TLS_H
#define FB_SIGNALLING_TLS_H

#include <stddef.h>

/* Load cert (a PEM chain: the certificate, then its intermediates) and key
 * (PEM) into ssl_ctx (an OpenSSL SSL_CTX *) if they load and match. Returns
 * 0, or -1 with err set and ssl_ctx unchanged. */
int fb_tls_reload(void *ssl_ctx, const char *cert, const char *key, char *err, size_t errlen);

/* The SHA-256 fingerprint of the first certificate ssl_ctx serves, as
 * "AB:CD:...", into out (at least 96 bytes), for the log. "" when none. */
void fb_tls_fingerprint(void *ssl_ctx, char *out, size_t outlen);

#endif
