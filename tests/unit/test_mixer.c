/*
 * test_mixer — the tick without threads or network: a capture transport records
 * every packet; two live speakers send Opus tones B and C; two listeners listen.
 * Checks mix-minus exactness, who hears which tone (decoded and measured with
 * Goertzel), that listeners share one encode byte for byte with their own RTP
 * headers, RTP continuity across listening<->live, the live limit, and the
 * per-participant-encode comparison mode. A participant's decode state
 * (encoder, jitter buffer, decoder) exists only while it is decoded: freed
 * after it goes back to listening, allocated again when it is decoded again.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mixer/mixer.h"
#include "mixer/mixmath.h"
#include "net/net.h"
#include "mixer/rtp.h"
#include "codecs/levels.h"
#include "codecs/synth.h"
#include "check.h"

#define MAXP 8
#define TICKS 150
#define HZ_B 600.0
#define HZ_C 1400.0

typedef struct {
  fb_transport base;
  /* last packet per participant this tick */
  fb_participant *who[64];
  uint8_t pkt[64][1500];
  int len[64];
  int n;
} capture;

static void cap_send(fb_transport *t, fb_participant *p, const uint8_t *hdr, size_t hl,
                     const uint8_t *pl, size_t plen) {
  capture *c = (capture *)t;
  if (c->n == 64) return;
  c->who[c->n] = p;
  memcpy(c->pkt[c->n], hdr, hl);
  memcpy(c->pkt[c->n] + hl, pl, plen);
  c->len[c->n] = (int)(hl + plen);
  c->n++;
}
static void cap_flush(fb_transport *t) { (void)t; }

static int find_pkt(capture *c, fb_participant *p, fb_rtp *out) {
  for (int i = 0; i < c->n; i++)
    if (c->who[i] == p) return fb_rtp_parse(c->pkt[i], (size_t)c->len[i], out);
  return -1;
}

static fb_participant *mkp(const char *name, capture *cap) {
  return fb_participant_new(name, 111, &cap->base);
}

static void test_mixmath(void) {
  float src[8][FB_FRAME], base[FB_FRAME], out[FB_FRAME];
  const float *srcs[8];
  double acc[FB_FRAME];
  srand(3);
  for (int i = 0; i < FB_FRAME; i++) base[i] = (float)rand() / RAND_MAX - 0.5f;
  for (int k = 0; k < 8; k++) {
    for (int i = 0; i < FB_FRAME; i++) src[k][i] = (float)rand() / RAND_MAX * 2.f - 1.f;
    srcs[k] = src[k];
  }
  fb_mix_accumulate(acc, base, srcs, 8, FB_FRAME);
  double worst = 0;
  for (int k = 0; k < 8; k++) {
    fb_mix_minus(acc, src[k], out, FB_FRAME);
    for (int i = 0; i < FB_FRAME; i++) {
      double others = base[i];
      for (int j = 0; j < 8; j++)
        if (j != k) others += src[j][i];
      double d = fabs(out[i] - others);
      if (d > worst) worst = d;
    }
  }
  CHECK(worst <= 1e-6, "mix-minus differs from the sum of the others by %g", worst);

  /* one loud source alone: its mix-minus is exactly zero, not a residue */
  float zero[FB_FRAME] = {0};
  const float *one[1] = {src[0]};
  fb_mix_accumulate(acc, zero, one, 1, FB_FRAME);
  fb_mix_minus(acc, src[0], out, FB_FRAME);
  int nonzero = 0;
  for (int i = 0; i < FB_FRAME; i++) nonzero += out[i] != 0.f;
  CHECK(nonzero == 0, "own voice leaves no residue (%d non-zero samples)", nonzero);
}

typedef struct {
  fb_encoder *enc;
  fb_tone tone;
  uint16_t seq;
  uint32_t ts;
} sender;

static void send_frame(sender *s, fb_participant *p, uint64_t now) {
  float pcm[FB_FRAME];
  uint8_t pkt[FB_MAX_OPUS];
  fb_tone_fill(&s->tone, pcm, FB_FRAME);
  int len = fb_encoder_encode(s->enc, pcm, pkt, sizeof pkt);
  fb_pktring *q = atomic_load(&p->inq);
  if (q && len > 0) fb_pktring_push(q, s->seq, s->ts, pkt, (unsigned)len, now - 1000000);
  s->seq++;
  s->ts += FB_FRAME;
}

/* decoded audio per participant, second half of the run */
typedef struct {
  fb_decoder *dec;
  float pcm[TICKS * FB_FRAME];
  int n;
} listener_audio;

static void hear(listener_audio *a, const fb_rtp *r) {
  if (a->n + FB_MAX_FRAME > TICKS * FB_FRAME) return;
  int got = fb_decoder_decode(a->dec, r->payload, (int)r->payload_len, a->pcm + a->n, FB_MAX_FRAME);
  if (got > 0) a->n += got;
}

static double tone_db(listener_audio *a, double hz) {
  int skip = a->n / 3; /* past the codec and jitter start-up */
  return fb_tone_dbfs(a->pcm + skip, a->n - skip, hz, 48000);
}

/* release hook: who had its decode state freed */
static fb_participant *released[16];
static int nreleased;
static void on_release(void *ud, fb_participant *p) {
  (void)ud;
  if (nreleased < 16) released[nreleased++] = p;
}

static void test_tick(int per_participant) {
  capture cap = {.base = {.send = cap_send, .flush = cap_flush}};
  fb_mixer_config cfg = {.bitrate = 32000,
                         .complexity = 5,
                         .max_live = 2,
                         .max_participants = MAXP,
                         .per_participant_encode = per_participant,
                         .jitter_max_ms = 200,
                         .limiter_threshold = 0.891f,
                         .tick_cpu = -1};
  fb_mixer *m = fb_mixer_new(&cfg, NULL, NULL, NULL);
  CHECK(m != NULL, "mixer created");
  fb_participant *b = mkp("b", &cap), *c = mkp("c", &cap), *l1 = mkp("l1", &cap),
                 *l2 = mkp("l2", &cap), *x = mkp("x", &cap);
  fb_participant_want_uplink(b, 1);
  fb_participant_want_uplink(c, 1);
  CHECK(fb_mixer_add(m, b, 1) == 0 && fb_mixer_add(m, c, 1) == 0, "two live added");
  CHECK(fb_mixer_add(m, l1, 0) == 0 && fb_mixer_add(m, l2, 0) == 0 && fb_mixer_add(m, x, 0) == 0,
        "listeners added");
  CHECK(fb_mixer_set_live(m, x, 1) < 0, "a third live speaker is refused (max_live 2)");

  sender sb = {.enc = fb_encoder_new(32000, 5, 1, 0), .seq = 65500, .ts = 0xFFFF0000u};
  sender sc = {.enc = fb_encoder_new(32000, 5, 1, 0), .seq = 10, .ts = 1000};
  fb_tone_init(&sb.tone, HZ_B, 0.3f);
  fb_tone_init(&sc.tone, HZ_C, 0.3f);
  static listener_audio hb, hc, hl;
  hb.dec = fb_decoder_new();
  hc.dec = fb_decoder_new();
  hl.dec = fb_decoder_new();
  hb.n = hc.n = hl.n = 0;

  uint64_t now = 1000000000ull;
  int shared_same = 0, shared_ticks = 0, hdr_ok = 1, live_differs = 0;
  uint16_t last_seq_l1 = 0, last_seq_b = 0;
  uint32_t last_ts_l1 = 0;
  uint64_t enc_before = 0;
  fb_mixer_stats st;
  for (int t = 0; t < TICKS; t++) {
    send_frame(&sb, b, now);
    send_frame(&sc, c, now);
    cap.n = 0;
    fb_mixer_get_stats(m, &st);
    enc_before = st.encodes;
    fb_mixer_tick(m, now);
    fb_mixer_get_stats(m, &st);
    if (t == 10) {
      uint64_t want = per_participant ? 1 + 2 + 3 : 1 + 2;
      CHECK(st.encodes - enc_before == want, "encodes per tick %llu, want %llu",
            (unsigned long long)(st.encodes - enc_before), (unsigned long long)want);
    }
    fb_rtp rb, rc, r1, r2;
    if (find_pkt(&cap, b, &rb) || find_pkt(&cap, c, &rc) || find_pkt(&cap, l1, &r1) ||
        find_pkt(&cap, l2, &r2)) {
      CHECK(0, "every participant gets a packet every tick (tick %d)", t);
      break;
    }
    hear(&hb, &rb);
    hear(&hc, &rc);
    hear(&hl, &r1);
    shared_ticks++;
    if (r1.payload_len == r2.payload_len && memcmp(r1.payload, r2.payload, r1.payload_len) == 0)
      shared_same++;
    /* Opus is deterministic: before B's audio starts its mix-minus equals the
     * full mix and the bytes may match; once B speaks they must differ. */
    if (t >= 20 &&
        (rb.payload_len != r1.payload_len || memcmp(rb.payload, r1.payload, r1.payload_len)))
      live_differs++;
    if (r1.ssrc == r2.ssrc || r1.ssrc == rb.ssrc) hdr_ok = 0;
    if (t > 0 && (r1.seq != (uint16_t)(last_seq_l1 + 1) || r1.ts != last_ts_l1 + FB_FRAME))
      hdr_ok = 0;
    last_seq_l1 = r1.seq;
    last_ts_l1 = r1.ts;
    last_seq_b = rb.seq;
    now += FB_TICK_NS;
  }
  /* In comparison mode the per-listener encoders see the same input and, Opus
   * being deterministic, produce the same bytes too; the encode count above is
   * what tells the modes apart. */
  CHECK(shared_same == shared_ticks, "listeners got identical payloads %d/%d", shared_same,
        shared_ticks);
  CHECK(live_differs == shared_ticks - 20, "a live speaker gets its own mix-minus encode (%d/%d)",
        live_differs, shared_ticks - 20);
  CHECK(hdr_ok, "distinct SSRCs, seq +1 and ts +960 per tick for a listener");

  double lb = tone_db(&hl, HZ_B), lc = tone_db(&hl, HZ_C);
  CHECK(lb > -20 && lc > -20, "listener hears B (%.1f dB) and C (%.1f dB)", lb, lc);
  double bb = tone_db(&hb, HZ_B), bc = tone_db(&hb, HZ_C);
  CHECK(bc > -20 && bb < bc - 35, "B hears C (%.1f dB) and not itself (%.1f dB)", bc, bb);
  double cb = tone_db(&hc, HZ_B), cc = tone_db(&hc, HZ_C);
  CHECK(cb > -20 && cc < cb - 35, "C hears B (%.1f dB) and not itself (%.1f dB)", cb, cc);

  /* B leaves the floor: its stream continues (seq +1) and now carries the shared mix */
  CHECK(fb_mixer_set_live(m, b, 0) == 0, "B back to listening");
  CHECK(fb_mixer_set_live(m, x, 1) == 0, "now X may go live");
  cap.n = 0;
  fb_mixer_tick(m, now);
  fb_rtp rb, r1;
  CHECK(find_pkt(&cap, b, &rb) == 0 && find_pkt(&cap, l1, &r1) == 0, "packets after switch");
  CHECK(rb.seq == (uint16_t)(last_seq_b + 1), "B's sequence continues across the switch");
  if (!per_participant)
    CHECK(rb.payload_len == r1.payload_len && memcmp(rb.payload, r1.payload, r1.payload_len) == 0,
          "listening B receives the shared encode");
  fb_mixer_reclaim(m);
  CHECK(!b->uplink && !b->own && !b->qm &&
            (per_participant ? b->enc && b->payload : !b->enc && !b->payload),
        "B's decode state is freed once the tick has applied its return to listening");
  fb_mixer_get_stats(m, &st);
  CHECK(st.live == 2 && st.participants == 5, "live %d participants %d", st.live, st.participants);
  CHECK(st.latency_ns.count > 0, "arrival->send latency recorded");

  /* C is put on mic check (measured, not mixed): L stops hearing C, C keeps
   * being scored and now receives the shared mix. */
  if (!per_participant) {
    fb_quality qc;
    fb_participant_quality(c, &qc);
    CHECK(qc.valid && qc.loss_pct == 0 && qc.mos > 4.0,
          "live C scored: valid %d loss %.1f MOS %.2f", qc.valid, qc.loss_pct, qc.mos);
    CHECK(fb_mixer_set_state(m, c, FB_MEDIA_MEASURE) == 0, "C to mic check");
    hl.n = 0;
    for (int t = 0; t < 100; t++) {
      send_frame(&sb, b, now);
      send_frame(&sc, c, now);
      cap.n = 0;
      fb_mixer_tick(m, now);
      fb_rtp r;
      if (find_pkt(&cap, l1, &r) == 0) hear(&hl, &r);
      now += FB_TICK_NS;
    }
    double lc2 = tone_db(&hl, HZ_C);
    CHECK(lc2 < -50, "a measured participant never reaches the mix (C %.1f dB)", lc2);
    fb_participant_quality(c, &qc);
    CHECK(qc.valid && qc.level_dbfs > -16 && qc.level_dbfs < -8,
          "C's mic check measures its level (%.1f dBFS)", qc.level_dbfs);
    fb_mixer_get_stats(m, &st);
    CHECK(st.live == 1, "only X is live now (%d)", st.live);
  }

  /* C leaves the mic check and comes back: freed, then allocated again */
  if (!per_participant) {
    fb_mixer_set_release_hook(m, on_release, NULL);
    nreleased = 0;
    CHECK(fb_mixer_set_state(m, c, FB_MEDIA_LISTEN) == 0, "C back to listening");
    fb_mixer_reclaim(m);
    CHECK(c->uplink && nreleased == 0, "nothing freed before the tick applies it");
    fb_mixer_tick(m, now);
    now += FB_TICK_NS;
    fb_mixer_reclaim(m);
    CHECK(!c->uplink && !c->enc, "C's decode state freed");
    CHECK(nreleased == 1 && released[0] == c, "the release hook was told (%d)", nreleased);
    CHECK(fb_mixer_set_state(m, c, FB_MEDIA_MEASURE) == 0 && c->uplink && c->enc && c->own,
          "C measured again: decode state allocated before the tick sees it");
    for (int t = 0; t < 40; t++) {
      send_frame(&sc, c, now);
      fb_mixer_tick(m, now);
      now += FB_TICK_NS;
    }
    fb_quality qc;
    fb_participant_quality(c, &qc);
    CHECK(qc.valid && qc.level_dbfs > -16, "C scored again after the round trip (%.1f dBFS)",
          qc.level_dbfs);
    /* to listening and straight back before a tick: nothing is freed */
    CHECK(fb_mixer_set_state(m, c, FB_MEDIA_LISTEN) == 0 &&
              fb_mixer_set_state(m, c, FB_MEDIA_MEASURE) == 0,
          "C listening and measured again within a tick");
    fb_mixer_tick(m, now);
    now += FB_TICK_NS;
    fb_mixer_reclaim(m);
    CHECK(c->uplink && c->enc && c->own && c->qm, "decoded again: its state is kept");
    CHECK(nreleased == 1, "and the hook was not called for it (%d)", nreleased);
  }

  fb_mixer_remove(m, l2);
  cap.n = 0;
  fb_mixer_tick(m, now + FB_TICK_NS);
  fb_rtp r2;
  CHECK(find_pkt(&cap, l2, &r2) < 0, "a removed participant gets nothing");

  fb_mixer_free(m);
  fb_encoder_free(sb.enc);
  fb_encoder_free(sc.enc);
  fb_decoder_free(hb.dec);
  fb_decoder_free(hc.dec);
  fb_decoder_free(hl.dec);
  fb_participant_free(b);
  fb_participant_free(c);
  fb_participant_free(l1);
  fb_participant_free(l2);
  fb_participant_free(x);
}

int main(void) {
  test_mixmath();
  test_tick(0);
  test_tick(1);
  return CHECK_DONE();
}
