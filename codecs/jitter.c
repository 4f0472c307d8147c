/*
 * jitter.c — adaptive, timestamp-driven jitter buffer for one uplink.
 *
 * Owns the packets of one stream between arrival (net side, via the mixer's
 * queue) and playout (mixer tick). No audio: it only decides, once per frame,
 * what the decoder should do.
 *
 * Storage is fixed: SLOTS packet slots indexed by extended sequence number
 * modulo SLOTS, allocated once with the buffer. A slot remembers the last
 * sequence number it saw and whether that packet is held, was played or was
 * given up on, which is how a duplicate (already held or played) is told from a
 * late packet (its frame was already concealed).
 *
 * Sequence numbers (16 bit) and timestamps (32 bit) are extended to 64 bits
 * against the highest packet seen, so wrap-around never reaches the logic.
 * A jump of more than SEQ_JUMP packets or TS_JUMP samples is a new stream.
 *
 * Playout: `next_seq` is the next packet expected, `next_ts` the media time of
 * the next frame. Each get plays the frame at next_ts and advances it:
 *   - the packet at next_seq is held and due       -> PACKET
 *   - it is held but its timestamp lies ahead,
 *     sequence numbers contiguous                  -> DTX (silence until it)
 *   - it is missing, the one after it is held      -> FEC from that one
 *   - it is missing, a later one is held           -> PLC
 *   - nothing is held (underrun)                   -> PLC; after PLC_FRAMES
 *     such frames, DTX (a sender in DTX sends nothing, and this cannot be told
 *     from loss until the next packet shows whether sequence numbers skipped).
 *     The packet that ends such a silence re-anchors playout (it is played
 *     target - 1 frames later), so every talkspurt starts at target depth.
 * Loss is decided when the evidence arrives: a later packet is played past the
 * hole, or the missing packet shows up after its frame (late). A packet that
 * resumes after an underrun with contiguous sequence numbers was DTX: no loss.
 *
 * Depth: the first packet of a talkspurt waits until target_frames are held
 * (target 1 = play at the next get), so a clean path plays each packet at the
 * first tick after it arrives. The target follows the RFC 3550 jitter J and a
 * penalty for late packets (the lateness plus a frame, decaying over ~10 s):
 *   target = clamp(ceil((3 J + penalty) / 20 ms), 1, max_ms / 20 ms).
 * The buffer grows toward the target by stalling at an underrun (conceal
 * without advancing, so the late packet still plays) while the smoothed depth
 * is below target; it shrinks by dropping the oldest frame (overflow) when the
 * depth has stayed above target + k (k = frames per packet: 1 for 20 ms) for
 * OVER_NS, then every OVER_REPEAT_NS while
 * it stays there, and at once above the hard cap max_ms / 20 ms + 2. (Depth
 * is read before the frame is played, so target + 1 is normal on a clean path
 * whose packets arrive just before the tick; above that, for a whole second,
 * is delay a transient left behind: a join burst must not add 40 ms for
 * good. Dropping at target + 1 would fight the arrival phase instead.)
 *
 * Silence for IDLE_NS makes the buffer idle: the stream state is forgotten
 * (the jitter estimate and counters are kept) and the next packet starts a new
 * talkspurt exactly like the first one did.
 */
#include "codecs/jitter.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 64                   /* packet slots (1.28 s of 20 ms packets) */
#define EXT_BASE (1ULL << 40)      /* extended numbers start here: never negative */
#define SEQ_JUMP 1000              /* larger seq jump = new stream */
#define TS_JUMP (10LL * FB_RATE)   /* larger ts jump (10 s) = new stream */
#define IDLE_NS 1000000000LL       /* no packet for 1 s = idle */
#define PLC_FRAMES 5               /* underrun frames concealed before assuming DTX */
#define LATE_RESTART 16            /* this many late packets in a row = re-sync */
#define OVER_NS 1000000000LL       /* sustained over-depth before the first drop */
#define OVER_REPEAT_NS 200000000LL /* then one drop per this while still over */
#define PENALTY_TAU_S 10.0         /* late-penalty decay time constant */
#define DEPTH_ALPHA 0.05           /* smoothing of the depth seen at each get */
#define FRAME_MS (1000.0 * FB_FRAME / FB_RATE)

enum { SLOT_FREE, SLOT_HELD, SLOT_PLAYED, SLOT_MISSED };

typedef struct {
  uint64_t seq, ts, arrival_ns;
  int len, samples, state;
  uint8_t data[FB_MAX_OPUS];
} slot;

struct fb_jitter {
  slot slots[SLOTS];
  int max_frames;

  /* stream state, forgotten on idle / restart */
  int have_ref;               /* top_seq/top_ts valid: numbers can be extended */
  int playing;                /* next_seq/next_ts valid */
  uint64_t top_seq, top_ts;   /* highest sequence number seen and its timestamp */
  uint64_t next_seq, next_ts; /* playout position */
  int last_samples;           /* duration of the last packet played */
  int held;                   /* packets held */
  int64_t held_samples;       /* their total duration */
  uint64_t first_arrival_ns;  /* first packet of the talkspurt (start timeout) */
  uint64_t last_arrival_ns;   /* most recent packet (idle detection) */
  int underrun_run;           /* consecutive gets with nothing held */
  int stalls_left;            /* stalls allowed in the current underrun */
  int late_run;               /* consecutive late packets */
  double avg_depth;           /* smoothed frames held at each get */
  int over_active;            /* depth above target + 1 since over_since_ns */
  uint64_t over_since_ns;
  int have_prev; /* previous arrival for the jitter estimate */
  uint64_t prev_arrival_ns, prev_ts;

  /* network estimate, kept across idle restarts */
  double jitter_ms, penalty_ms;
  int have_get;
  uint64_t last_get_ns;
  int target;
  fb_jitter_stats st;
};

static int64_t ns_diff(uint64_t a, uint64_t b) { return (int64_t)(a - b); }

static slot *slot_of(fb_jitter *jb, uint64_t seq) { return &jb->slots[seq % SLOTS]; }

static slot *held_at(fb_jitter *jb, uint64_t seq) {
  slot *s = slot_of(jb, seq);
  return (s->state == SLOT_HELD && s->seq == seq) ? s : NULL;
}

/* Stop holding s and record what became of it. */
static void release(fb_jitter *jb, slot *s, int state) {
  if (s->state == SLOT_HELD) {
    jb->held--;
    jb->held_samples -= s->samples;
  }
  s->state = state;
}

/* Remember that seq was given up on (unless its slot holds something newer). */
static void mark_missed(fb_jitter *jb, uint64_t seq) {
  slot *s = slot_of(jb, seq);
  if (s->state == SLOT_HELD) return;
  s->seq = seq;
  s->state = SLOT_MISSED;
}

static void stream_reset(fb_jitter *jb) {
  for (int i = 0; i < SLOTS; i++) jb->slots[i].state = SLOT_FREE;
  jb->have_ref = jb->playing = 0;
  jb->top_seq = jb->top_ts = jb->next_seq = jb->next_ts = 0;
  jb->last_samples = FB_FRAME;
  jb->held = 0;
  jb->held_samples = 0;
  jb->first_arrival_ns = jb->last_arrival_ns = 0;
  jb->underrun_run = jb->stalls_left = jb->late_run = 0;
  jb->avg_depth = 0.0;
  jb->over_active = 0;
  jb->over_since_ns = 0;
  jb->have_prev = 0;
}

static void update_target(fb_jitter *jb) {
  int t = (int)ceil((3.0 * jb->jitter_ms + jb->penalty_ms) / FRAME_MS - 1e-9);
  if (t > jb->max_frames) t = jb->max_frames;
  if (t < 1) t = 1;
  jb->target = t;
}

fb_jitter *fb_jitter_new(int max_ms) {
  fb_jitter *jb = malloc(sizeof(*jb));
  if (!jb) return NULL;
  int max_frames = (int)(max_ms / FRAME_MS);
  if (max_frames < 1) max_frames = 1;
  if (max_frames > SLOTS / 2) max_frames = SLOTS / 2;
  jb->max_frames = max_frames;
  fb_jitter_reset(jb);
  return jb;
}

void fb_jitter_free(fb_jitter *jb) { free(jb); }

void fb_jitter_reset(fb_jitter *jb) {
  if (!jb) return;
  stream_reset(jb);
  jb->jitter_ms = jb->penalty_ms = 0.0;
  jb->have_get = 0;
  jb->last_get_ns = 0;
  jb->target = 1;
  memset(&jb->st, 0, sizeof(jb->st));
}

/* ---- put ------------------------------------------------------------- */

/* Make (seq, ts) the reference of a fresh stream. */
static void set_ref(fb_jitter *jb, uint16_t seq, uint32_t ts) {
  jb->have_ref = 1;
  jb->top_seq = EXT_BASE + seq;
  jb->top_ts = EXT_BASE + ts;
}

/* Forget the stream and make this packet its first one. */
static void restart(fb_jitter *jb, uint16_t seq, uint32_t ts) {
  jb->st.overflow += (uint64_t)jb->held;
  stream_reset(jb);
  set_ref(jb, seq, ts);
}

/* A packet whose frame has already been played (concealed). */
static void put_late(fb_jitter *jb, uint64_t eseq, uint64_t ets) {
  jb->st.late++;
  jb->late_run++;
  double late_ms = ets < jb->next_ts ? (double)(jb->next_ts - ets) * 1000.0 / FB_RATE : 0.0;
  double penalty = late_ms + FRAME_MS;
  if (penalty > jb->penalty_ms) jb->penalty_ms = penalty;
  update_target(jb);
  /* Everything up to it is certainly past its time too: give up on it. */
  while (jb->next_seq <= eseq && !held_at(jb, jb->next_seq)) {
    mark_missed(jb, jb->next_seq);
    jb->next_seq++;
    jb->st.lost++;
  }
  mark_missed(jb, eseq);
}

void fb_jitter_put(fb_jitter *jb, uint16_t seq, uint32_t ts, const uint8_t *data, int len,
                   int samples, uint64_t arrival_ns) {
  if (!jb) return;
  if (!data || len <= 0 || len > FB_MAX_OPUS || samples <= 0 || samples > FB_MAX_FRAME) {
    jb->st.discarded++;
    return;
  }
  if (!jb->have_ref) set_ref(jb, seq, ts);

  int32_t dseq = (int16_t)(uint16_t)(seq - (uint16_t)jb->top_seq);
  int64_t dts = (int32_t)(uint32_t)(ts - (uint32_t)jb->top_ts);
  if (abs(dseq) > SEQ_JUMP || llabs(dts) > TS_JUMP) {
    restart(jb, seq, ts);
    dseq = 0;
    dts = 0;
  }
  uint64_t eseq = jb->top_seq + (int64_t)dseq;
  uint64_t ets = jb->top_ts + dts;

  slot *s = slot_of(jb, eseq);
  if (s->seq == eseq && (s->state == SLOT_HELD || s->state == SLOT_PLAYED)) {
    jb->st.duplicates++;
    return;
  }

  /* RFC 3550 interarrival jitter, in arrival order. */
  if (jb->have_prev) {
    double d = (double)ns_diff(arrival_ns, jb->prev_arrival_ns) / 1e6 -
               (double)(int64_t)(ets - jb->prev_ts) * 1000.0 / FB_RATE;
    jb->jitter_ms += (fabs(d) - jb->jitter_ms) / 16.0;
  }
  jb->have_prev = 1;
  jb->prev_arrival_ns = arrival_ns;
  jb->prev_ts = ets;
  jb->last_arrival_ns = arrival_ns;

  if (jb->playing && jb->underrun_run > PLC_FRAMES && eseq >= jb->next_seq) {
    /* First packet after a silence (DTX, or an outage): re-anchor playout so
     * it plays target - 1 frames from now, as a new talkspurt would. Skipped
     * sequence numbers were lost; contiguous ones mean it was DTX. */
    for (; jb->next_seq < eseq; jb->next_seq++) {
      mark_missed(jb, jb->next_seq);
      jb->st.lost++;
    }
    jb->next_ts = ets - (uint64_t)(jb->target - 1) * (uint64_t)jb->last_samples;
    jb->underrun_run = 0;
  }

  if (jb->playing && (eseq < jb->next_seq || ets < jb->next_ts)) {
    put_late(jb, eseq, ets);
    if (jb->late_run < LATE_RESTART) return;
    /* The sender's timeline moved under us (or a long delay spike): re-sync. */
    restart(jb, seq, ts);
    eseq = jb->top_seq;
    ets = jb->top_ts;
    s = slot_of(jb, eseq);
  }
  jb->late_run = 0;

  /* Out of the ring's reach: either too far ahead of playout or colliding with
   * a packet still held. Start over from this packet. */
  if ((jb->playing && eseq >= jb->next_seq + SLOTS) || (s->state == SLOT_HELD && s->seq != eseq)) {
    restart(jb, seq, ts);
    eseq = jb->top_seq;
    ets = jb->top_ts;
    s = slot_of(jb, eseq);
  }

  if (jb->held == 0 && !jb->playing) jb->first_arrival_ns = arrival_ns;
  jb->last_arrival_ns = arrival_ns; /* again: a restart above cleared it */
  s->seq = eseq;
  s->ts = ets;
  s->arrival_ns = arrival_ns;
  s->len = len;
  s->samples = samples;
  s->state = SLOT_HELD;
  memcpy(s->data, data, (size_t)len);
  jb->held++;
  jb->held_samples += samples;
  jb->st.received++;
  if (eseq > jb->top_seq) {
    jb->top_seq = eseq;
    jb->top_ts = ets;
  }
  update_target(jb);
}

/* ---- get ------------------------------------------------------------- */

/* The held packet with the smallest sequence number >= from, or NULL. */
static slot *first_held(fb_jitter *jb, uint64_t from) {
  if (jb->held == 0) return NULL;
  for (uint64_t i = 0; i < SLOTS; i++) {
    slot *s = held_at(jb, from + i);
    if (s) return s;
  }
  return NULL;
}

/* Overflow: throw away the oldest held frame (and any hole before it).
 * Returns 0 when nothing could be dropped. */
static int drop_oldest(fb_jitter *jb) {
  slot *q = first_held(jb, jb->next_seq);
  if (!q) return 0;
  for (; jb->next_seq < q->seq; jb->next_seq++) {
    mark_missed(jb, jb->next_seq);
    jb->st.lost++;
  }
  jb->next_seq = q->seq + 1;
  if (q->ts + (uint64_t)q->samples > jb->next_ts) jb->next_ts = q->ts + (uint64_t)q->samples;
  release(jb, q, SLOT_MISSED);
  jb->st.overflow++;
  return 1;
}

/* Start a talkspurt at the oldest held packet, if enough is buffered. */
static int try_start(fb_jitter *jb, uint64_t now_ns) {
  if (jb->held == 0) return 0;
  if (jb->held_samples < (int64_t)jb->target * FB_FRAME &&
      ns_diff(now_ns, jb->first_arrival_ns) < (int64_t)jb->target * FB_TICK_NS)
    return 0;
  slot *first = NULL;
  for (int i = 0; i < SLOTS; i++) {
    slot *s = &jb->slots[i];
    if (s->state == SLOT_HELD && (!first || s->seq < first->seq)) first = s;
  }
  jb->playing = 1;
  jb->next_seq = first->seq;
  jb->next_ts = first->ts;
  jb->underrun_run = 0;
  jb->avg_depth = (double)jb->held_samples / FB_FRAME;
  jb->over_active = 0;
  return 1;
}

/* Depth control: hard cap at once, target + 1 when sustained. */
static void control_depth(fb_jitter *jb, uint64_t now_ns) {
  while (jb->held_samples > (int64_t)(jb->max_frames + 2) * FB_FRAME)
    if (!drop_oldest(jb)) break;
  double depth = (double)jb->held_samples / FB_FRAME;
  jb->avg_depth += (depth - jb->avg_depth) * DEPTH_ALPHA;
  /* a packet of k frames is k frames deep when it arrives */
  int per_packet = jb->last_samples > FB_FRAME ? (jb->last_samples + FB_FRAME - 1) / FB_FRAME : 1;
  if (depth <= jb->target + per_packet) {
    jb->over_active = 0;
    return;
  }
  if (!jb->over_active) {
    jb->over_active = 1;
    jb->over_since_ns = now_ns;
  } else if (ns_diff(now_ns, jb->over_since_ns) >= OVER_NS) {
    drop_oldest(jb);
    jb->over_since_ns = now_ns - (uint64_t)(OVER_NS - OVER_REPEAT_NS);
  }
}

fb_jb_frame fb_jitter_get(fb_jitter *jb, uint64_t now_ns) {
  fb_jb_frame f = {FB_JB_NONE, NULL, 0, FB_FRAME, 0};
  if (!jb) return f;

  if (jb->have_get && now_ns > jb->last_get_ns)
    jb->penalty_ms *= exp(-(double)(now_ns - jb->last_get_ns) / 1e9 / PENALTY_TAU_S);
  jb->have_get = 1;
  jb->last_get_ns = now_ns;
  update_target(jb);

  if ((jb->playing || jb->held) && ns_diff(now_ns, jb->last_arrival_ns) > IDLE_NS) {
    stream_reset(jb); /* idle: the next packet starts afresh */
    return f;
  }
  if (!jb->playing && !try_start(jb, now_ns)) return f;

  control_depth(jb, now_ns);
  f.samples = jb->last_samples;

  for (;;) {
    slot *p = held_at(jb, jb->next_seq);
    if (p) {
      if (p->ts < jb->next_ts) { /* overlaps what was already played */
        release(jb, p, SLOT_MISSED);
        jb->next_seq++;
        jb->st.late++;
        jb->st.lost++;
        continue;
      }
      jb->underrun_run = 0;
      if (p->ts > jb->next_ts) { /* timestamp hole, contiguous seq: DTX */
        uint64_t gap = p->ts - jb->next_ts;
        f.kind = FB_JB_DTX;
        f.samples = gap < (uint64_t)jb->last_samples ? (int)gap : jb->last_samples;
        jb->next_ts += (uint64_t)f.samples;
        jb->st.dtx++;
        return f;
      }
      f.kind = FB_JB_PACKET;
      f.data = p->data;
      f.len = p->len;
      f.samples = p->samples;
      f.arrival_ns = p->arrival_ns;
      jb->next_seq++;
      jb->next_ts += (uint64_t)p->samples;
      jb->last_samples = p->samples;
      release(jb, p, SLOT_PLAYED);
      jb->st.played++;
      return f;
    }

    slot *q = first_held(jb, jb->next_seq + 1);
    if (q) {
      if (q->ts <= jb->next_ts) {
        /* The missing packets' time has passed (concealed during an
         * underrun): they are lost; play on from q. */
        for (; jb->next_seq < q->seq; jb->next_seq++) {
          mark_missed(jb, jb->next_seq);
          jb->st.lost++;
        }
        continue;
      }
      uint64_t span = q->ts - jb->next_ts;
      jb->underrun_run = 0;
      mark_missed(jb, jb->next_seq);
      jb->st.lost++;
      if (q->seq == jb->next_seq + 1 && span <= FB_MAX_FRAME) {
        f.kind = FB_JB_FEC; /* q carries the missing frame's FEC; q stays held */
        f.data = q->data;
        f.len = q->len;
        f.samples = (int)span;
        f.arrival_ns = q->arrival_ns;
        jb->st.fec++;
      } else {
        f.kind = FB_JB_PLC;
        f.samples = span < (uint64_t)jb->last_samples ? (int)span : jb->last_samples;
        jb->st.plc++;
      }
      jb->next_seq++;
      jb->next_ts += (uint64_t)f.samples;
      return f;
    }

    /* Underrun: nothing held. Late, lost or DTX: the next packet will tell. */
    if (jb->underrun_run == 0) {
      int deficit = jb->target - (int)lround(jb->avg_depth);
      jb->stalls_left = deficit > 0 ? deficit : 0;
    }
    jb->underrun_run++;
    if (jb->stalls_left > 0) { /* grow toward target: conceal, do not advance */
      jb->stalls_left--;
      jb->avg_depth += 1.0;
      f.kind = FB_JB_PLC;
      jb->st.plc++;
      return f;
    }
    jb->next_ts += (uint64_t)f.samples;
    if (jb->underrun_run <= PLC_FRAMES) {
      f.kind = FB_JB_PLC;
      jb->st.plc++;
    } else {
      f.kind = FB_JB_DTX;
      jb->st.dtx++;
    }
    return f;
  }
}

void fb_jitter_get_stats(const fb_jitter *jb, fb_jitter_stats *out) {
  if (!out) return;
  memset(out, 0, sizeof(*out));
  if (!jb) return;
  *out = jb->st;
  out->jitter_ms = jb->jitter_ms;
  out->target_frames = jb->target;
  out->depth_frames = (int)(jb->held_samples / FB_FRAME);
}
