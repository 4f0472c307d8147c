/*
 * opus_codec.c — the bridge's only contact with libopus.
 *
 * Owns one OpusEncoder or OpusDecoder per object, configured for the single
 * format the bridge speaks (48 kHz, mono, float, VOIP application). Keeping
 * the libopus calls here means the rest of the tree never sees opus.h, and the
 * three ways of producing a frame from an uplink (packet, in-band FEC, PLC)
 * have one obvious home.
 */
#include "codecs/opus_codec.h"

#include <stdlib.h>
#include <opus/opus.h>

#include "codecs/audio.h"

struct fb_encoder {
  OpusEncoder *st;
};

struct fb_decoder {
  OpusDecoder *st;
};

fb_encoder *fb_encoder_new(int bitrate, int complexity, int fec, int dtx) {
  if (bitrate < 6000 || bitrate > 510000 || complexity < 0 || complexity > 10) return NULL;
  fb_encoder *enc = calloc(1, sizeof(*enc));
  if (!enc) return NULL;
  int err = OPUS_OK;
  enc->st = opus_encoder_create(FB_RATE, 1, OPUS_APPLICATION_VOIP, &err);
  if (err != OPUS_OK || !enc->st) {
    free(enc);
    return NULL;
  }
  if (opus_encoder_ctl(enc->st, OPUS_SET_BITRATE(bitrate)) != OPUS_OK ||
      opus_encoder_ctl(enc->st, OPUS_SET_COMPLEXITY(complexity)) != OPUS_OK ||
      opus_encoder_ctl(enc->st, OPUS_SET_INBAND_FEC(fec ? 1 : 0)) != OPUS_OK ||
      opus_encoder_ctl(enc->st, OPUS_SET_PACKET_LOSS_PERC(fec ? 10 : 0)) != OPUS_OK ||
      opus_encoder_ctl(enc->st, OPUS_SET_DTX(dtx ? 1 : 0)) != OPUS_OK) {
    fb_encoder_free(enc);
    return NULL;
  }
  return enc;
}

int fb_encoder_encode(fb_encoder *enc, const float *pcm, uint8_t *out, int max) {
  if (!enc || !pcm || !out || max <= 0) return OPUS_BAD_ARG;
  return opus_encode_float(enc->st, pcm, FB_FRAME, out, max);
}

void fb_encoder_free(fb_encoder *enc) {
  if (!enc) return;
  opus_encoder_destroy(enc->st);
  free(enc);
}

fb_decoder *fb_decoder_new(void) {
  fb_decoder *dec = calloc(1, sizeof(*dec));
  if (!dec) return NULL;
  int err = OPUS_OK;
  dec->st = opus_decoder_create(FB_RATE, 1, &err);
  if (err != OPUS_OK || !dec->st) {
    free(dec);
    return NULL;
  }
  return dec;
}

int fb_decoder_decode(fb_decoder *dec, const uint8_t *pkt, int len, float *pcm, int max_samples) {
  if (!dec || !pkt || len <= 0 || !pcm || max_samples <= 0) return OPUS_BAD_ARG;
  return opus_decode_float(dec->st, pkt, len, pcm, max_samples, 0);
}

int fb_decoder_decode_fec(fb_decoder *dec, const uint8_t *next_pkt, int len, float *pcm,
                          int frame_size) {
  if (!dec || !next_pkt || len <= 0 || !pcm || frame_size <= 0) return OPUS_BAD_ARG;
  return opus_decode_float(dec->st, next_pkt, len, pcm, frame_size, 1);
}

int fb_decoder_conceal(fb_decoder *dec, float *pcm, int frame_size) {
  if (!dec || !pcm || frame_size <= 0) return OPUS_BAD_ARG;
  return opus_decode_float(dec->st, NULL, 0, pcm, frame_size, 0);
}

void fb_decoder_reset(fb_decoder *dec) {
  if (dec) opus_decoder_ctl(dec->st, OPUS_RESET_STATE);
}

int fb_opus_packet_samples(const uint8_t *pkt, int len) {
  if (!pkt || len <= 0) return OPUS_BAD_ARG;
  int n = opus_packet_get_nb_samples(pkt, len, FB_RATE);
  if (n > FB_MAX_FRAME) return OPUS_INVALID_PACKET;
  return n == 0 ? OPUS_INVALID_PACKET : n;
}

void fb_decoder_free(fb_decoder *dec) {
  if (!dec) return;
  opus_decoder_destroy(dec->st);
  free(dec);
}
