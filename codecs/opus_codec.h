/*
 * opus_codec.h — thin wrapper over libopus for the bridge's one format:
 * 48 kHz mono float, 20 ms frames.
 *
 * The encoder is what the mixer runs once per output stream per tick (the shared
 * mix, and each live speaker's mix-minus). The decoder exposes the three ways a
 * frame can be produced from an uplink: a real packet, in-band FEC carried by
 * the next packet, or packet-loss concealment.
 */
#ifndef FB_OPUS_CODEC_H
#define FB_OPUS_CODEC_H

#include <stdint.h>

typedef struct fb_encoder fb_encoder;
typedef struct fb_decoder fb_decoder;

/* Create a 48 kHz mono VOIP encoder. bitrate in bit/s (6000..510000),
 * complexity 0..10, fec != 0 enables in-band FEC (tuned for ~10 % loss),
 * dtx != 0 enables discontinuous transmission. Returns NULL on failure. */
fb_encoder *fb_encoder_new(int bitrate, int complexity, int fec, int dtx);

/* Encode exactly FB_FRAME samples of pcm (float, nominal range [-1, 1]) into
 * out (capacity max bytes). Returns the packet length (>0) or a negative
 * libopus error code. */
int fb_encoder_encode(fb_encoder *enc, const float *pcm, uint8_t *out, int max);

/* Free an encoder; NULL is allowed. */
void fb_encoder_free(fb_encoder *enc);

/* Create a 48 kHz mono decoder. Returns NULL on failure. */
fb_decoder *fb_decoder_new(void);

/* Decode one packet into pcm (capacity max_samples, at least FB_MAX_FRAME is
 * always safe). Returns the number of samples produced or a negative libopus
 * error code (the packet is corrupt; caller should conceal instead). */
int fb_decoder_decode(fb_decoder *dec, const uint8_t *pkt, int len, float *pcm, int max_samples);

/* Recover the frame before `next_pkt` from the in-band FEC data that next_pkt
 * carries. frame_size is the duration of the missing frame in samples.
 * Returns samples produced (== frame_size) or a negative error code. When
 * next_pkt carries no FEC, libopus falls back to concealment. */
int fb_decoder_decode_fec(fb_decoder *dec, const uint8_t *next_pkt, int len, float *pcm,
                          int frame_size);

/* Packet-loss concealment for frame_size samples. Returns samples produced. */
int fb_decoder_conceal(fb_decoder *dec, float *pcm, int frame_size);

/* Forget the decoder's history (OPUS_RESET_STATE), e.g. for a new stream.
 * NULL is allowed. */
void fb_decoder_reset(fb_decoder *dec);

/* Duration of an Opus packet in samples at 48 kHz, or a negative error code
 * when the packet's TOC/framing is invalid (including a zero or >120 ms
 * duration, which no decoder call could produce). */
int fb_opus_packet_samples(const uint8_t *pkt, int len);

/* Free a decoder; NULL is allowed. */
void fb_decoder_free(fb_decoder *dec);

#endif
