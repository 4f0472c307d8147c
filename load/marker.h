/*
 * marker.h — the speakers' signal and the listeners' marker detector.
 *
 * Signal: LD_SIG_FRAMES frames (20 ms each) of speech-like audio
 * (codecs/synth.h) encoded ONCE at start with the same Opus settings as a
 * browser (32 kbit/s, 48 kHz mono). Every LD_MARK_PERIOD-th frame is replaced
 * by a marker: a pair of tones (LD_MARK_IDS different pairs, cycling) that
 * starts sharply at the frame's first sample and lasts one frame. All
 * speakers send frame k of the loop at the same tick k, so whatever mix of
 * live speakers a listener hears, marker id x was sent at one known time.
 *
 * Detector: on a decoded listener's PCM, each new 20 ms frame is checked with
 * Goertzel filters (codecs/levels.h) at the eight marker frequencies; when a
 * pair stands out, the onset is located to ~0.3 ms by a sliding Goertzel over
 * that frame and the one before. The onset is turned into a "heard" time:
 * arrival time of the packet that carries the onset + the onset's offset in
 * that packet.
 *
 * Latency = heard - (send time of the marker frame + cal), where cal is the
 * same onset offset measured at start on a local two-hop chain with no
 * network: speaker encode -> decode -> encode (the bridge's mix settings) ->
 * decode. So the codec's algorithmic delays (lookahead of two encoders,
 * ~13 ms) and the detector's own bias cancel out; what remains is the time
 * the bridge and the transport add: uplink send, the bridge's jitter buffer,
 * waiting for the mixer tick, mixing, encoding, SRTP and fan-out order,
 * loopback delivery, and the load tool's own reaction time.
 */
#ifndef FB_LOAD_MARKER_H
#define FB_LOAD_MARKER_H

#include <stdint.h>

#define LD_SIG_FRAMES 400 /* 8 s loop */
#define LD_MARK_PERIOD 25 /* a marker every 500 ms */
#define LD_MARK_IDS 4     /* ids cycle: the same id repeats every 2 s */
#define LD_PKT_MAX 400

typedef struct {
  uint8_t pkt[LD_SIG_FRAMES][LD_PKT_MAX];
  int len[LD_SIG_FRAMES];
  int level[LD_SIG_FRAMES]; /* RFC 6464 -dBov of each frame */
  double freq[LD_MARK_IDS][2];
  double cal_ns; /* onset offset of the two-hop chain */
  int cal_detected, cal_expected;
} ld_signal;

/* Marker id carried by loop frame k (any k >= 0), or -1. */
int ld_marker_id(long long k);

/* Build the signal (seeded) and calibrate. 0, or -1 with a message. */
int ld_signal_build(ld_signal *s, uint32_t seed, int bitrate, int complexity, char *err,
                    int errlen);

#define LD_DET_BATCHES 8

typedef struct {
  long long next;        /* absolute PCM index of the next frame to check */
  long long quiet_until; /* no new detection before this index */
  struct {
    long long start, end;
    uint64_t at;
  } batch[LD_DET_BATCHES];
  int nb; /* batches recorded (ring index = nb % N) */
  int found;
} ld_detector;

/* New samples [total - n_new, total) arrived at `at`. pcm/n are the client's
 * recent PCM (fb_rtc_client_pcm) ending at index total. Writes up to max
 * detections (id, heard time) and returns how many. */
int ld_detect(ld_detector *d, const ld_signal *s, const float *pcm, long n, long long total,
              uint64_t at, int *ids, uint64_t *heard, int max);

#endif
