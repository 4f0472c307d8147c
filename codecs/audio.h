/*
 * audio.h — the audio constants every layer agrees on.
 *
 * The bridge mixes mono float PCM at 48 kHz in 20 ms frames. Everything that
 * enters the mixer (floor input, decoded uplinks) is converted to this format
 * at the edge; everything that leaves it (encoders, GStreamer outputs) starts
 * from it.
 */
#ifndef FB_AUDIO_H
#define FB_AUDIO_H

#define FB_RATE 48000         /* samples per second */
#define FB_FRAME 960          /* samples per 20 ms tick */
#define FB_TICK_NS 20000000LL /* tick period in nanoseconds */
#define FB_MAX_OPUS 1276      /* largest Opus packet (RFC 6716 3.4) */
#define FB_MAX_FRAME 5760     /* largest Opus frame: 120 ms at 48 kHz */

#endif
