/*
 * server.h — the browsers' web server: one port (libwebsockets) serving
 *
 *   /          static files from [signalling] www (index.html by default)
 *   /healthz   200 "ok" while the bridge's mixer ticks on time, else 503
 *   /ws        the WebSocket JSON protocol (signalling/PROTOCOL.md)
 *
 * over TLS when [signalling] tls_cert and tls_key are set. It runs its own
 * thread (the "signalling" thread, an lws_service loop); every meeting state
 * change happens there. Bridge events arrive on other threads and are queued
 * to it.
 *
 * At start the bound URL is logged at INFO, exactly
 * "signalling listening on http://HOST:PORT" (or https://): the browser tests
 * read that line.
 */
#ifndef FB_SIGNALLING_SERVER_H
#define FB_SIGNALLING_SERVER_H

#include <stddef.h>

#include "config/config.h"

struct fb_bridge;
typedef struct fb_signalling fb_signalling;

/* Bind, start the thread and return; NULL with a message in err when the
 * port cannot be bound, TLS files do not load, the secret file cannot be read,
 * ... The config is copied. The bridge must outlive the server. */
fb_signalling *fb_signalling_start(const fb_config *cfg, struct fb_bridge *b, char *err,
                                   size_t errlen);

/* Close every connection (their participants leave the bridge), stop the
 * thread, free. Safe with NULL. Call before fb_bridge_free. */
void fb_signalling_stop(fb_signalling *s);

/* Re-read what can change while the meeting runs, without dropping anyone:
 * the TLS certificate and key (a renewed certificate: a chain and key that
 * do not load or match are refused, logged as an alert, and the old ones
 * stay) and the revoked file. Thread-safe (main calls it on SIGHUP); the
 * work happens on the signalling thread. Safe with NULL. */
void fb_signalling_reload(fb_signalling *s);

/* Hand an event to the signalling thread, exactly as the bridge's event
 * callback does (thread-safe): to the session owning bridge participant pid,
 * or to every joined session when pid is 0. */
void fb_signalling_post_event(fb_signalling *s, int pid, const char *event, const char *detail);

/* The bound TCP port (useful with port = 0). */
int fb_signalling_port(fb_signalling *s);

/* The base URL, e.g. "http://127.0.0.1:8080" (valid while s lives). */
const char *fb_signalling_url(fb_signalling *s);

#endif
