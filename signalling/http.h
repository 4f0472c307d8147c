/*
 * http.h — the plain-HTTP side of the signalling server (server.c): the
 * mounts and small generated responses. Private to signalling/server.c.
 *
 * Mounts (lws picks the longest matching mountpoint):
 *   /healthz, /metrics  callback mounts on the floorbridge protocol
 *                       (LWS_CALLBACK_HTTP with the whole URI)
 *   /webcast            [webcast] dir, when set: HLS playlists and segments
 *   /                   [signalling] www, when it is a directory
 * File mounts serve the realpath of their directory; lws decodes %XX and
 * collapses "..", "." and "//" before matching, so no request leaves it.
 */
#ifndef FB_SIGNALLING_HTTP_H
#define FB_SIGNALLING_HTTP_H

#include <libwebsockets.h>
#include <limits.h>
#include <stddef.h>

typedef struct {
  struct lws_http_mount health, metrics, webcast, files;
  struct lws_protocol_vhost_options mimes[7], hls[4];
  char www[PATH_MAX], webcast_dir[PATH_MAX];
} fb_http_mounts;

/* Fill mt (which must stay in place while the vhost lives) and return the
 * first mount. A www or webcast directory that does not exist is logged and
 * left out ("" webcast: not served, silently). */
const struct lws_http_mount *fb_http_mounts_init(fb_http_mounts *mt, const char *protocol,
                                                 const char *www, const char *webcast);

/* A generated response being written: headers at once, the body in pieces
 * on HTTP_WRITEABLE. */
typedef struct {
  char *body;
  size_t len, off;
} fb_http_reply;

/* Send the headers (status, type, no-store) and arm the body (taken over,
 * malloc'd; NULL with len 0 for none). 0, or -1 to close the connection. */
int fb_http_reply_start(struct lws *wsi, fb_http_reply *r, unsigned status, const char *type,
                        char *body, size_t len);

/* On LWS_CALLBACK_HTTP_WRITEABLE: the next piece. 0, or -1 to close. */
int fb_http_reply_write(struct lws *wsi, fb_http_reply *r);

/* Free what is left (LWS_CALLBACK_CLOSED_HTTP). */
void fb_http_reply_free(fb_http_reply *r);

#endif
