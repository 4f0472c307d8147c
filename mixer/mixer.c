/*
 * mixer.c — the 20 ms tick (see mixer.h for the per-tick steps).
 *
 * Ownership: the participant table, the live list, every encoder, limiter and
 * mixing buffer belong to the tick thread. Other threads talk to it through
 * the command queue (mutex held for a few instructions) and read counters
 * through a stats snapshot taken under a second short mutex at the end of each
 * tick. The tick itself never takes a lock another thread can hold for long,
 * never allocates on the steady path, and never touches a socket except via
 * the transports' non-blocking batched sends.
 *
 * Mixing is in float with double accumulation, so a mix-minus (full - own) is
 * exact to float precision; limiting happens after the subtraction, per output
 * stream, each with its own limiter state.
 */
#define _GNU_SOURCE
#include "mixer/mixer.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "util/clock.h"
#include "mixer/fanout.h"
#include "util/log.h"
#include "mixer/mixmath.h"

#define FB_MAX_LIVE 64
#define FB_MAX_CHANNELS 4

typedef enum { CMD_ADD, CMD_REMOVE, CMD_SET_STATE } cmd_type;

typedef struct {
  cmd_type type;
  fb_participant *p;
  fb_media_state state;
  uint64_t seq;
} mixer_cmd;

/* One output channel: one mix, one limiter, one shared encode per tick.
 * Channel 0 is the floor; language channels will add their own input. */
typedef struct {
  fb_encoder *enc;
  fb_limiter lim;
  float out[FB_FRAME];
  uint8_t payload[FB_MAX_OPUS];
  int payload_len;
} mix_channel;

struct fb_mixer {
  fb_mixer_config cfg;
  fb_floor_input *floor;
  fb_output *pa;
  fb_output *full_out[FB_MIXER_MAX_OUTPUTS]; /* recording, webcast */
  int nfull_out;

  pthread_t thread;
  atomic_int running;
  int started;
  atomic_uint_fast64_t last_tick_ns;

  /* command queue (any thread -> tick). capcmds >= ncmds + added_requested
   * at all times: a slot for every queued command and for the CMD_REMOVE of
   * every participant added and not yet removed, so a remove never
   * allocates (reserve()). */
  pthread_mutex_t cmd_lock;
  pthread_cond_t cmd_cond; /* applied_seq moved: fb_mixer_remove waits on it */
  mixer_cmd *cmds;
  int ncmds, capcmds;
  uint64_t cmd_next_seq;    /* under cmd_lock */
  uint64_t cmd_applied_seq; /* under cmd_lock */
  int live_requested;       /* under cmd_lock: live count including pending */
  int measure_requested;    /* under cmd_lock: measured count including pending */
  int added_requested;      /* under cmd_lock */

  /* Decode state (encoder, jitter buffer and decoder, frame, meter, payload)
   * exists only while a participant is decoded: allocated by prepare_decode
   * on the calling thread, freed by reclaim() once the tick has applied the
   * return to listening. Both run on control threads under decode_lock, so
   * nothing can make a participant decoded again between the check and the
   * free; the tick never takes it. */
  pthread_mutex_t decode_lock;
  struct retiree {
    fb_participant *p;
    uint64_t seq; /* the LISTEN command; ripe once applied */
  } * retire;
  int nretire, capretire;
  void (*release_fn)(void *ud, fb_participant *p); /* fb_mixer_set_release_hook */
  void *release_ud;

  /* tick-owned state */
  fb_participant **all;
  int nall;
  fb_participant *live[FB_MAX_LIVE];
  int nlive;
  fb_participant *measured[FB_MIXER_MAX_MEASURED];
  int nmeasured;
  mix_channel ch[FB_MAX_CHANNELS];
  int nch;
  fb_limiter pa_lim;
  float floor_frame[FB_FRAME];
  double acc[FB_FRAME];
  float work[FB_FRAME];
  float pa_frame[FB_FRAME];
  fb_fanout fan;
  uint64_t next_tick_ns;

  /* stats: written by the tick, snapshot under stats_lock */
  pthread_mutex_t stats_lock;
  fb_mixer_stats st;
};

static uint32_t random_u32(void) {
  uint32_t v = 0;
  if (getrandom(&v, sizeof v, 0) != sizeof v) v = (uint32_t)fb_now_ns() * 2654435761u;
  return v;
}

fb_mixer *fb_mixer_new(const fb_mixer_config *cfg, fb_floor_input *floor, fb_output *pa,
                       fb_output *rec) {
  fb_mixer *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->cfg = *cfg;
  if (m->cfg.max_live > FB_MAX_LIVE) m->cfg.max_live = FB_MAX_LIVE;
  if (m->cfg.max_live < 1) m->cfg.max_live = 1;
  if (m->cfg.max_participants < 1) m->cfg.max_participants = 1;
  if (m->cfg.limiter_threshold <= 0.f || m->cfg.limiter_threshold >= 1.f)
    m->cfg.limiter_threshold = 0.891f;
  m->floor = floor;
  m->pa = pa;
  if (rec) m->full_out[m->nfull_out++] = rec;
  m->all = calloc((size_t)m->cfg.max_participants, sizeof *m->all);
  m->nch = 1;
  for (int c = 0; c < m->nch; c++) {
    m->ch[c].enc = fb_encoder_new(cfg->bitrate, cfg->complexity, 1, 0);
    fb_limiter_init(&m->ch[c].lim, m->cfg.limiter_threshold);
    if (!m->ch[c].enc) {
      fb_mixer_free(m);
      return NULL;
    }
  }
  fb_limiter_init(&m->pa_lim, m->cfg.limiter_threshold);
  /* Priority inheritance: with tick_priority the tick is SCHED_FIFO, and a
   * normal thread preempted while holding one of these would otherwise hold
   * the tick up for as long as it stays preempted. (decode_lock is never
   * taken by the tick.) */
  pthread_mutexattr_t ma;
  pthread_mutexattr_init(&ma);
  pthread_mutexattr_setprotocol(&ma, PTHREAD_PRIO_INHERIT);
  pthread_mutex_init(&m->cmd_lock, &ma);
  pthread_mutex_init(&m->decode_lock, NULL);
  pthread_cond_init(&m->cmd_cond, NULL);
  pthread_mutex_init(&m->stats_lock, &ma);
  pthread_mutexattr_destroy(&ma);
  return m;
}

int fb_mixer_add_output(fb_mixer *m, fb_output *out) {
  if (m->nfull_out >= FB_MIXER_MAX_OUTPUTS || m->started) return -1;
  m->full_out[m->nfull_out++] = out;
  return 0;
}

void fb_mixer_free(fb_mixer *m) {
  if (!m) return;
  fb_mixer_stop(m);
  for (int i = 0; i < m->nall; i++) m->all[i]->mixer_index = -1;
  for (int c = 0; c < FB_MAX_CHANNELS; c++) fb_encoder_free(m->ch[c].enc);
  free(m->all);
  free(m->cmds);
  free(m->retire);
  pthread_mutex_destroy(&m->decode_lock);
  pthread_mutex_destroy(&m->cmd_lock);
  pthread_cond_destroy(&m->cmd_cond);
  pthread_mutex_destroy(&m->stats_lock);
  free(m);
}

/* Allocate what decoding needs, on the caller's thread (not the tick's):
 * safe because the tick only touches these while p is decoded in its table,
 * and the command queue's mutex orders this before the tick sees the command.
 * decode_lock held. */
static int prepare_decode(fb_mixer *m, fb_participant *p) {
  if (!p->enc) p->enc = fb_encoder_new(m->cfg.bitrate, m->cfg.complexity, 1, 0);
  if (!p->uplink) p->uplink = fb_uplink_new(m->cfg.jitter_max_ms);
  if (!p->own) p->own = calloc(FB_FRAME, sizeof(float));
  if (!p->qm) p->qm = calloc(1, sizeof *p->qm);
  if (!p->payload) p->payload = malloc(FB_MAX_OPUS);
  return p->enc && p->uplink && p->own && p->qm && p->payload ? 0 : -1;
}

static fb_media_state pending_state(fb_mixer *m, fb_participant *p);

/* decode_lock held. Free the decode state of every participant whose return
 * to listening the tick has applied and that nothing has made decoded again.
 * The comparison mode keeps encoder and payload (it encodes for listeners). */
static void reclaim(fb_mixer *m) {
  int keep = 0;
  for (int i = 0; i < m->nretire; i++) {
    fb_participant *p = m->retire[i].p;
    fb_encoder *enc = NULL;
    fb_uplink *up = NULL;
    float *own = NULL;
    fb_quality_meter *qm = NULL;
    uint8_t *payload = NULL;
    pthread_mutex_lock(&m->cmd_lock);
    int ripe = m->retire[i].seq <= m->cmd_applied_seq;
    if (ripe && pending_state(m, p) == FB_MEDIA_LISTEN && !p->live && !p->measured) {
      up = p->uplink, own = p->own, qm = p->qm;
      p->uplink = NULL, p->own = NULL, p->qm = NULL;
      if (!m->cfg.per_participant_encode) {
        enc = p->enc, payload = p->payload;
        p->enc = NULL, p->payload = NULL;
      }
    }
    pthread_mutex_unlock(&m->cmd_lock);
    if (!ripe) m->retire[keep++] = m->retire[i];
    if (up && m->release_fn) m->release_fn(m->release_ud, p);
    fb_encoder_free(enc);
    fb_uplink_free(up);
    free(own);
    free(qm);
    free(payload);
  }
  m->nretire = keep;
}

/* decode_lock held: p is about to be decoded again, so its decode state
 * stays (freeing it now would only allocate it again). */
static void unretire(fb_mixer *m, fb_participant *p) {
  for (int i = 0; i < m->nretire; i++)
    if (m->retire[i].p == p) m->retire[i--] = m->retire[--m->nretire];
}

/* decode_lock held: p's decode state may go once command seq is applied. */
static void retire_later(fb_mixer *m, fb_participant *p, uint64_t seq) {
  for (int i = 0; i < m->nretire; i++)
    if (m->retire[i].p == p) {
      m->retire[i].seq = seq;
      return;
    }
  if (m->nretire == m->capretire) {
    int cap = m->capretire ? 2 * m->capretire : 16;
    struct retiree *r = realloc(m->retire, (size_t)cap * sizeof *r);
    if (!r) return; /* kept until p leaves */
    m->retire = r;
    m->capretire = cap;
  }
  m->retire[m->nretire++] = (struct retiree){p, seq};
}

void fb_mixer_set_release_hook(fb_mixer *m, void (*fn)(void *ud, fb_participant *p), void *ud) {
  pthread_mutex_lock(&m->decode_lock);
  m->release_fn = fn;
  m->release_ud = ud;
  pthread_mutex_unlock(&m->decode_lock);
}

void fb_mixer_reclaim(fb_mixer *m) {
  pthread_mutex_lock(&m->decode_lock);
  reclaim(m);
  pthread_mutex_unlock(&m->decode_lock);
}

/* cmd_lock held. Make room for `more` commands on top of the queued ones and
 * the removes reserved for the participants added (an add asks for 2: its
 * CMD_ADD and its CMD_REMOVE to come); -1 when out of memory. */
static int reserve(fb_mixer *m, int more) {
  int need = m->ncmds + m->added_requested + more;
  if (need <= m->capcmds) return 0;
  int cap = m->capcmds ? m->capcmds : 64;
  while (cap < need) cap *= 2;
  mixer_cmd *c = realloc(m->cmds, (size_t)cap * sizeof *c);
  if (!c) return -1;
  m->cmds = c;
  m->capcmds = cap;
  return 0;
}

/* cmd_lock held, after reserve() succeeded (for a remove: at add time). */
static uint64_t post(fb_mixer *m, cmd_type type, fb_participant *p, fb_media_state state) {
  uint64_t seq = ++m->cmd_next_seq;
  m->cmds[m->ncmds++] = (mixer_cmd){.type = type, .p = p, .state = state, .seq = seq};
  return seq;
}

int fb_mixer_add(fb_mixer *m, fb_participant *p, int live) {
  p->mixer_index = -1;
  p->live = 0;
  p->measured = 0;
  p->ssrc = random_u32();
  p->seq = (uint16_t)random_u32();
  p->ts = random_u32();
  p->marker_next = 1;
  fb_limiter_init(&p->lim, m->cfg.limiter_threshold);
  pthread_mutex_lock(&m->decode_lock);
  reclaim(m);
  if (m->cfg.per_participant_encode) {
    if (!p->enc) p->enc = fb_encoder_new(m->cfg.bitrate, m->cfg.complexity, 1, 0);
    if (!p->payload) p->payload = malloc(FB_MAX_OPUS);
  }
  int rc = live ? prepare_decode(m, p) : 0;
  pthread_mutex_lock(&m->cmd_lock);
  if (rc < 0 || reserve(m, 2) < 0 || m->added_requested >= m->cfg.max_participants ||
      (live && m->live_requested >= m->cfg.max_live)) {
    pthread_mutex_unlock(&m->cmd_lock);
    pthread_mutex_unlock(&m->decode_lock);
    return -1;
  }
  m->added_requested++;
  if (live) m->live_requested++;
  post(m, CMD_ADD, p, live ? FB_MEDIA_LIVE : FB_MEDIA_LISTEN);
  pthread_mutex_unlock(&m->cmd_lock);
  pthread_mutex_unlock(&m->decode_lock);
  return 0;
}

/* cmd_lock held. The tick writes p->live/measured only inside apply(), under
 * cmd_lock, so reading them here is safe; a pending command for p overrides
 * the settled state. */
static fb_media_state pending_state(fb_mixer *m, fb_participant *p) {
  for (int i = m->ncmds - 1; i >= 0; i--)
    if (m->cmds[i].p == p && m->cmds[i].type != CMD_REMOVE) return m->cmds[i].state;
  return p->live ? FB_MEDIA_LIVE : p->measured ? FB_MEDIA_MEASURE : FB_MEDIA_LISTEN;
}

int fb_mixer_set_state(fb_mixer *m, fb_participant *p, fb_media_state state) {
  pthread_mutex_lock(&m->decode_lock);
  if (state != FB_MEDIA_LISTEN) unretire(m, p);
  reclaim(m);
  if (state != FB_MEDIA_LISTEN && prepare_decode(m, p) < 0) {
    pthread_mutex_unlock(&m->decode_lock);
    return -1;
  }
  pthread_mutex_lock(&m->cmd_lock);
  fb_media_state was = pending_state(m, p);
  if (reserve(m, 1) < 0 ||
      (state == FB_MEDIA_LIVE && was != FB_MEDIA_LIVE && m->live_requested >= m->cfg.max_live) ||
      (state == FB_MEDIA_MEASURE && was != FB_MEDIA_MEASURE &&
       m->measure_requested >= FB_MIXER_MAX_MEASURED)) {
    pthread_mutex_unlock(&m->cmd_lock);
    pthread_mutex_unlock(&m->decode_lock);
    return -1;
  }
  m->live_requested += (state == FB_MEDIA_LIVE) - (was == FB_MEDIA_LIVE);
  m->measure_requested += (state == FB_MEDIA_MEASURE) - (was == FB_MEDIA_MEASURE);
  uint64_t seq = post(m, CMD_SET_STATE, p, state);
  pthread_mutex_unlock(&m->cmd_lock);
  if (state == FB_MEDIA_LISTEN && p->uplink) retire_later(m, p, seq);
  pthread_mutex_unlock(&m->decode_lock);
  return 0;
}

int fb_mixer_set_live(fb_mixer *m, fb_participant *p, int live) {
  return fb_mixer_set_state(m, p, live ? FB_MEDIA_LIVE : FB_MEDIA_LISTEN);
}

static void apply(fb_mixer *m, const mixer_cmd *c);

uint64_t fb_mixer_remove_async(fb_mixer *m, fb_participant *p) {
  pthread_mutex_lock(&m->decode_lock);
  unretire(m, p);
  reclaim(m);
  pthread_mutex_unlock(&m->decode_lock);
  pthread_mutex_lock(&m->cmd_lock);
  /* The counts of what is requested drop now, so a join right after a leave
   * is admitted; the tick applies commands in order, so the table never
   * holds more than the counts allow. */
  fb_media_state was = pending_state(m, p);
  if (was == FB_MEDIA_LIVE) m->live_requested--;
  if (was == FB_MEDIA_MEASURE) m->measure_requested--;
  m->added_requested--;
  uint64_t seq = post(m, CMD_REMOVE, p, FB_MEDIA_LISTEN); /* its slot: fb_mixer_add's */
  if (!atomic_load(&m->running)) {
    /* No tick thread: apply everything pending right here. */
    for (int i = 0; i < m->ncmds; i++) apply(m, &m->cmds[i]);
    m->ncmds = 0;
    m->cmd_applied_seq = seq;
  }
  pthread_mutex_unlock(&m->cmd_lock);
  return seq;
}

uint64_t fb_mixer_applied_seq(fb_mixer *m) {
  pthread_mutex_lock(&m->cmd_lock);
  uint64_t seq = m->cmd_applied_seq;
  pthread_mutex_unlock(&m->cmd_lock);
  return seq;
}

void fb_mixer_remove(fb_mixer *m, fb_participant *p) {
  uint64_t seq = fb_mixer_remove_async(m, p);
  pthread_mutex_lock(&m->cmd_lock);
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += 2;
  while (m->cmd_applied_seq < seq) {
    if (pthread_cond_timedwait(&m->cmd_cond, &m->cmd_lock, &deadline) != 0) {
      fb_log(FB_LOG_ERROR, "mixer", "remove of %s not acknowledged by the tick", p->name);
      break;
    }
  }
  pthread_mutex_unlock(&m->cmd_lock);
}

static void list_remove(fb_participant **list, int *n, fb_participant *p) {
  for (int i = 0; i < *n; i++)
    if (list[i] == p) {
      list[i] = list[--*n];
      return;
    }
}

/* Tick thread (or the remover when no tick runs), cmd_lock held. */
static void set_state_now(fb_mixer *m, fb_participant *p, fb_media_state state) {
  int was_decoding = p->live || p->measured;
  int decoding = state != FB_MEDIA_LISTEN;
  if (decoding && !was_decoding) {
    fb_pktring *q = atomic_load(&p->inq);
    if (q)
      while (fb_pktring_peek(q)) fb_pktring_pop(q); /* stale uplink from before */
    fb_uplink_reset(p->uplink);
    fb_quality_meter_init(p->qm);
  }
  if (p->live && state != FB_MEDIA_LIVE) {
    list_remove(m->live, &m->nlive, p);
    p->live = 0;
  }
  if (p->measured && state != FB_MEDIA_MEASURE) {
    list_remove(m->measured, &m->nmeasured, p);
    p->measured = 0;
  }
  if (state == FB_MEDIA_LIVE && !p->live && m->nlive < FB_MAX_LIVE) {
    fb_limiter_init(&p->lim, m->cfg.limiter_threshold);
    m->live[m->nlive++] = p;
    p->live = 1;
  }
  if (state == FB_MEDIA_MEASURE && !p->measured && m->nmeasured < FB_MIXER_MAX_MEASURED) {
    m->measured[m->nmeasured++] = p;
    p->measured = 1;
  }
}

static void apply(fb_mixer *m, const mixer_cmd *c) {
  fb_participant *p = c->p;
  switch (c->type) {
  case CMD_ADD:
    if (p->mixer_index >= 0 || m->nall >= m->cfg.max_participants) return;
    p->mixer_index = m->nall;
    m->all[m->nall++] = p;
    set_state_now(m, p, c->state);
    break;
  case CMD_SET_STATE:
    if (p->mixer_index < 0) return;
    set_state_now(m, p, c->state);
    break;
  case CMD_REMOVE: /* the requested counts dropped when it was posted */
    if (p->mixer_index < 0) return;
    set_state_now(m, p, FB_MEDIA_LISTEN);
    int i = p->mixer_index;
    m->all[i] = m->all[--m->nall];
    m->all[i]->mixer_index = i;
    p->mixer_index = -1;
    break;
  }
}

static void apply_commands(fb_mixer *m) {
  pthread_mutex_lock(&m->cmd_lock);
  if (m->ncmds) {
    for (int i = 0; i < m->ncmds; i++) apply(m, &m->cmds[i]);
    m->cmd_applied_seq = m->cmds[m->ncmds - 1].seq;
    m->ncmds = 0;
    pthread_cond_broadcast(&m->cmd_cond);
  }
  pthread_mutex_unlock(&m->cmd_lock);
}

/* One frame from p's uplink into p->own, metered for the quality score. */
static void decode_one(fb_mixer *m, fb_participant *p, uint64_t now) {
  fb_pktring *q = atomic_load_explicit(&p->inq, memory_order_acquire);
  const fb_pkt *pkt;
  while (q && (pkt = fb_pktring_peek(q))) {
    fb_uplink_put(p->uplink, pkt->seq, pkt->ts, pkt->data, pkt->len, pkt->arrival_ns);
    fb_pktring_pop(q);
  }
  fb_uplink_info info = {0};
  p->own_active = fb_uplink_frame(p->uplink, now, p->own, &info);
  p->own_arrival_ns = (info.kind == FB_JB_PACKET || info.kind == FB_JB_FEC) ? info.arrival_ns : 0;
  fb_quality_meter_frame(p->qm, p->own, FB_FRAME, info.kind, p->own_active);
  /* publish a score about once a second, spread over the ticks */
  if ((m->st.ticks + (uint64_t)p->mixer_index) % 50 == 0) {
    fb_jitter_stats js;
    fb_uplink_get_stats(p->uplink, &js);
    long long rtt = atomic_load_explicit(&p->rtt_us, memory_order_relaxed);
    fb_quality qs;
    fb_quality_compute(p->qm, &js, rtt >= 0 ? (double)rtt / 1000.0 : -1, &qs);
    fb_participant_set_quality(p, &qs);
  }
}

/* Step 2: decode the live speakers and the measured (mic check, muted). */
static void decode_all(fb_mixer *m, uint64_t now) {
  for (int k = 0; k < m->nlive; k++) decode_one(m, m->live[k], now);
  for (int k = 0; k < m->nmeasured; k++) decode_one(m, m->measured[k], now);
}

/* Steps 3-6 for channel 0 and the room outputs. */
static void mix_and_send(fb_mixer *m) {
  fb_mixer_stats *st = &m->st;
  mix_channel *ch = &m->ch[0];

  const float *srcs[FB_MAX_LIVE];
  for (int k = 0; k < m->nlive; k++) srcs[k] = m->live[k]->own;
  fb_mix_accumulate(m->acc, m->floor_frame, srcs, m->nlive, FB_FRAME);

  fb_fanout_begin(&m->fan);

  /* mix-minus for each live speaker, exact before limiting */
  for (int k = 0; k < m->nlive; k++) {
    fb_participant *p = m->live[k];
    fb_mix_minus(m->acc, p->own, m->work, FB_FRAME);
    fb_limiter_process(&p->lim, m->work, m->work, FB_FRAME);
    p->payload_len = fb_encoder_encode(p->enc, m->work, p->payload, FB_MAX_OPUS);
    st->encodes++;
    if (p->payload_len > 0) fb_fanout_send(&m->fan, p, p->payload, p->payload_len);
  }

  /* the full mix, limited, encoded once */
  fb_mix_round(m->acc, ch->out, FB_FRAME);
  fb_limiter_process(&ch->lim, ch->out, ch->out, FB_FRAME);
  ch->payload_len = fb_encoder_encode(ch->enc, ch->out, ch->payload, sizeof ch->payload);
  st->encodes++;

  for (int j = 0; j < m->nall; j++) {
    fb_participant *p = m->all[j];
    if (!p->live) {
      if (m->cfg.per_participant_encode && p->enc && p->payload) {
        /* comparison mode: what a per-participant-encode bridge pays */
        p->payload_len = fb_encoder_encode(p->enc, ch->out, p->payload, FB_MAX_OPUS);
        st->encodes++;
        if (p->payload_len > 0) fb_fanout_send(&m->fan, p, p->payload, p->payload_len);
      } else if (ch->payload_len > 0) {
        fb_fanout_send(&m->fan, p, ch->payload, ch->payload_len);
      }
    }
    fb_fanout_advance(p);
  }

  fb_fanout_end(&m->fan);
  st->packets_sent += m->fan.packets;

  uint64_t sent_at = fb_now_ns();
  for (int k = 0; k < m->nlive; k++)
    if (m->live[k]->own_arrival_ns && sent_at > m->live[k]->own_arrival_ns)
      fb_hist_add(&st->latency_ns, sent_at - m->live[k]->own_arrival_ns);

  /* room PA: live remotes only; recording/webcast: the full mix */
  if (m->pa) {
    memset(m->pa_frame, 0, sizeof m->pa_frame);
    for (int k = 0; k < m->nlive; k++) {
      const float *own = m->live[k]->own;
      for (int i = 0; i < FB_FRAME; i++) m->pa_frame[i] += own[i];
    }
    fb_limiter_process(&m->pa_lim, m->pa_frame, m->pa_frame, FB_FRAME);
    fb_output_push(m->pa, m->pa_frame, FB_FRAME);
  }
  for (int i = 0; i < m->nfull_out; i++) fb_output_push(m->full_out[i], ch->out, FB_FRAME);
}

void fb_mixer_tick(fb_mixer *m, uint64_t now) {
  uint64_t t0 = fb_now_ns();
  apply_commands(m);
  if (m->floor) {
    int got = fb_floor_input_read(m->floor, m->floor_frame, FB_FRAME);
    (void)got;
  } else {
    memset(m->floor_frame, 0, sizeof m->floor_frame);
  }
  decode_all(m, now);
  mix_and_send(m);
  uint64_t t1 = fb_now_ns();

  pthread_mutex_lock(&m->stats_lock);
  m->st.ticks++;
  m->st.participants = m->nall;
  m->st.live = m->nlive;
  fb_hist_add(&m->st.tick_ns, t1 - t0);
  pthread_mutex_unlock(&m->stats_lock);
  atomic_store(&m->last_tick_ns, t1);
}

static void *mixer_main(void *arg) {
  fb_mixer *m = arg;
  if (m->cfg.tick_cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(m->cfg.tick_cpu, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0)
      fb_log(FB_LOG_WARN, "mixer", "could not pin the tick to CPU %d", m->cfg.tick_cpu);
  }
  if (m->cfg.tick_priority > 0) {
    /* Real-time scheduling, as audio servers use: on a shared host a busy
     * neighbour can no longer delay a tick by a time slice. The tick sleeps
     * most of each period, so it cannot starve the machine (and the kernel's
     * RT throttling bounds it anyway). Not permitted (no CAP_SYS_NICE,
     * RLIMIT_RTPRIO 0): a warning, and the meeting goes on. */
    struct sched_param sp = {.sched_priority = m->cfg.tick_priority};
    int err = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
    if (err)
      fb_log(FB_LOG_WARN, "mixer",
             "could not run the tick at SCHED_FIFO %d (%s); normal scheduling",
             m->cfg.tick_priority, strerror(err));
    else
      fb_log(FB_LOG_INFO, "mixer", "the tick runs at SCHED_FIFO %d", m->cfg.tick_priority);
  }
  m->next_tick_ns = fb_now_ns() + FB_TICK_NS;
  while (atomic_load(&m->running)) {
    fb_sleep_until_ns(m->next_tick_ns);
    uint64_t now = fb_now_ns();
    if (now > m->next_tick_ns + FB_TICK_NS) {
      /* More than a whole period late: skip the lost ticks instead of
       * bursting to catch up, and count them. */
      uint64_t behind = (now - m->next_tick_ns) / FB_TICK_NS;
      pthread_mutex_lock(&m->stats_lock);
      m->st.missed_ticks += behind;
      pthread_mutex_unlock(&m->stats_lock);
      m->next_tick_ns += behind * FB_TICK_NS;
    }
    fb_mixer_tick(m, now);
    m->next_tick_ns += FB_TICK_NS;
  }
  return NULL;
}

int fb_mixer_start(fb_mixer *m) {
  atomic_store(&m->running, 1);
  atomic_store(&m->last_tick_ns, fb_now_ns());
  if (pthread_create(&m->thread, NULL, mixer_main, m) != 0) {
    atomic_store(&m->running, 0);
    return -1;
  }
  pthread_setname_np(m->thread, "fb-mixer");
  m->started = 1;
  return 0;
}

void fb_mixer_stop(fb_mixer *m) {
  if (!m->started) return;
  atomic_store(&m->running, 0);
  pthread_join(m->thread, NULL);
  m->started = 0;
}

void fb_mixer_get_stats(fb_mixer *m, fb_mixer_stats *out) {
  pthread_mutex_lock(&m->stats_lock);
  *out = m->st;
  pthread_mutex_unlock(&m->stats_lock);
  if (m->floor) {
    uint64_t under = 0, restarts = 0, dropped = 0;
    fb_floor_input_stats(m->floor, &under, &restarts, &dropped);
    out->floor_underruns = under;
  }
}

int fb_mixer_healthy(fb_mixer *m) {
  if (!atomic_load(&m->running)) return 0;
  return fb_now_ns() - atomic_load(&m->last_tick_ns) < 100000000ull;
}
