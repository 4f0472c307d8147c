/*
 * rtc_build.c — fb_rtc_client_build_opus (see rtc_build.h): what
 * fb_rtc_client_send_opus sends, built by the same fb_rtc_protect_opus
 * (rtc_media.c) but handed back instead of sent.
 */
#include <string.h>

#include "client/rtc_build.h"
#include "client/rtc_client_int.h"
#include "codecs/audio.h"

int fb_rtc_client_build_opus(fb_rtc_client *c, const uint8_t *opus, int len, int level_dbov,
                             uint8_t *out, size_t cap) {
  if (!c || !out) return -1;
  int n = fb_rtc_protect_opus(c, opus, len, level_dbov, cap);
  if (n < 0) return -1;
  memcpy(out, (const uint8_t *)c->txbuf, (size_t)n);
  return n;
}
