/*
 * http.c — mounts and generated responses for server.c (see http.h).
 *
 * Design: a generated body (/healthz, /metrics) is owned by the connection's
 * fb_http_reply and written at most CHUNK bytes per HTTP_WRITEABLE, so a
 * large /metrics page never blocks the signalling thread on a slow client.
 * Extra MIME types: the pages' (.json, .mjs, ...) on "/", HLS on /webcast
 * (.m3u8 application/vnd.apple.mpegurl, .ts video/mp2t, fMP4 segments).
 */
#include "signalling/http.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/log.h"

#define CHUNK 16384

static void chain(struct lws_protocol_vhost_options *o, int n, const char *(*pairs)[2]) {
  for (int i = 0; i < n; i++) {
    o[i].next = i + 1 < n ? &o[i + 1] : NULL;
    o[i].name = pairs[i][0];
    o[i].value = pairs[i][1];
  }
}

static int is_dir(const char *path, char *real) {
  struct stat st;
  return path[0] && realpath(path, real) && stat(real, &st) == 0 && S_ISDIR(st.st_mode);
}

static void file_mount(struct lws_http_mount *mt, const char *point, const char *dir,
                       const struct lws_protocol_vhost_options *mimes) {
  mt->mountpoint = point;
  mt->mountpoint_len = (unsigned char)strlen(point);
  mt->origin = dir;
  mt->def = "index.html";
  mt->origin_protocol = LWSMPRO_FILE;
  mt->extra_mimetypes = mimes;
}

const struct lws_http_mount *fb_http_mounts_init(fb_http_mounts *mt, const char *protocol,
                                                 const char *www, const char *webcast) {
  static const char *mime[][2] = {
      {".json", "application/json"},
      {".mjs", "text/javascript"},
      {".wasm", "application/wasm"},
      {".map", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".wav", "audio/wav"},
      {".ogg", "audio/ogg"},
  };
  static const char *hls[][2] = {
      {".m3u8", "application/vnd.apple.mpegurl"},
      {".ts", "video/mp2t"},
      {".m4s", "video/iso.segment"},
      {".mp4", "video/mp4"},
  };
  chain(mt->mimes, 7, mime);
  chain(mt->hls, 4, hls);
  memset(&mt->health, 0, sizeof mt->health);
  memset(&mt->metrics, 0, sizeof mt->metrics);
  memset(&mt->webcast, 0, sizeof mt->webcast);
  memset(&mt->files, 0, sizeof mt->files);
  const struct lws_http_mount *next = NULL;
  if (is_dir(www, mt->www)) {
    file_mount(&mt->files, "/", mt->www, mt->mimes);
    next = &mt->files;
  } else {
    fb_log(FB_LOG_WARN, "signalling",
           "[signalling] www: '%s' is not a directory; no pages are "
           "served (only /healthz, /metrics and /ws)",
           www);
  }
  if (is_dir(webcast, mt->webcast_dir)) {
    file_mount(&mt->webcast, "/webcast", mt->webcast_dir, mt->hls);
    mt->webcast.mount_next = next;
    next = &mt->webcast;
  } else if (webcast[0]) {
    fb_log(FB_LOG_WARN, "signalling",
           "[webcast] dir: '%s' is not a directory; /webcast/ is not "
           "served",
           webcast);
  }
  mt->metrics.mountpoint = "/metrics";
  mt->metrics.mountpoint_len = 8;
  mt->metrics.origin = protocol;
  mt->metrics.origin_protocol = LWSMPRO_CALLBACK;
  mt->metrics.mount_next = next;
  mt->health.mountpoint = "/healthz";
  mt->health.mountpoint_len = 8;
  mt->health.origin = protocol;
  mt->health.origin_protocol = LWSMPRO_CALLBACK;
  mt->health.mount_next = &mt->metrics;
  return &mt->health;
}

int fb_http_reply_start(struct lws *wsi, fb_http_reply *r, unsigned status, const char *type,
                        char *body, size_t len) {
  unsigned char buf[LWS_PRE + 512], *start = buf + LWS_PRE, *q = start, *end = buf + sizeof buf - 1;
  fb_http_reply_free(r);
  r->body = body;
  r->len = len;
  r->off = 0;
  if (lws_add_http_common_headers(wsi, status, type, len, &q, end) ||
      lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
                                   (const unsigned char *)"no-store", 8, &q, end) ||
      lws_finalize_write_http_header(wsi, start, &q, end))
    return -1;
  lws_callback_on_writable(wsi);
  return 0;
}

int fb_http_reply_write(struct lws *wsi, fb_http_reply *r) {
  size_t n = r->len - r->off < CHUNK ? r->len - r->off : CHUNK;
  unsigned char *buf = malloc(LWS_PRE + (n ? n : 1));
  if (!buf) return -1;
  if (n) memcpy(buf + LWS_PRE, r->body + r->off, n);
  int last = r->off + n >= r->len;
  int w = lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP);
  free(buf);
  if (w < 0 || (size_t)w != n) return -1;
  r->off += n;
  if (!last) {
    lws_callback_on_writable(wsi);
    return 0;
  }
  fb_http_reply_free(r);
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

void fb_http_reply_free(fb_http_reply *r) {
  free(r->body);
  r->body = NULL;
  r->len = r->off = 0;
}
