/*
 * rtc_build.h — an addition to the WebRTC client (rtc_client.h) for the load
 * tool's impaired uplinks: build and protect the next RTP packet exactly as
 * fb_rtc_client_send_opus() would (same SSRC, sequence number, timestamp,
 * marker bit, audio-level extension, SRTP), but hand it to the caller instead
 * of sending it. The caller may then drop it (loss), send it later with
 * fb_rtc_client_send_raw() (delay), or after the next one (reordering).
 *
 * It lives in its own file so rtc_client.{h,c} and rtc_media.c stay as they
 * are; it uses the client's internal struct (rtc_client_int.h).
 */
#ifndef FB_RTC_BUILD_H
#define FB_RTC_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "client/rtc_client.h"

/* Room a caller's buffer needs for any packet fb_rtc_client_build_opus makes. */
#define FB_RTC_BUILD_MAX 1600

/* Build the SRTP packet for one 20 ms Opus packet into out (capacity cap, at
 * least FB_RTC_BUILD_MAX is always enough) and advance the sequence number
 * and timestamp, counting it as sent (rtp_packets_tx). level_dbov as in
 * fb_rtc_client_send_opus. Returns the SRTP length, or -1 when not CONNECTED,
 * on a bad argument or when protection fails (nothing advanced then). */
int fb_rtc_client_build_opus(fb_rtc_client *c, const uint8_t *opus, int len, int level_dbov,
                             uint8_t *out, size_t cap);

#endif
