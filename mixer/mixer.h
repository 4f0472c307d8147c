/*
 * mixer.h — the real-time core: one thread, one 20 ms tick.
 *
 * Per tick, per output channel (channel 0 is the floor; language channels plug
 * in later as more channels with their own input):
 *   1. the channel's input frame (the floor);
 *   2. one decoded frame per live participant (jitter buffer -> Opus/FEC/PLC);
 *   3. full mix = input + sum(live), in float (double accumulation);
 *   4. for each live k: mix-minus = full - own_k, computed before limiting,
 *      limited, encoded with k's own encoder, sent to k only;
 *   5. the full mix, limited, encoded ONCE; that payload goes to every
 *      participant who is not live, each with its own SSRC/seq/timestamp;
 *   6. room PA output = sum(live) only (the room must not hear itself);
 *      recording/webcast output = the limited full mix.
 *
 * Commands from other threads (add, remove, set live) are queued under a short
 * mutex and applied at the start of the next tick; the mixer never blocks on
 * I/O or on another thread.
 *
 * per_participant_encode is the comparison mode (what the well-known bridges
 * do): every listener gets its own encode of the full mix. It exists for the
 * benchmark only.
 */
#ifndef FB_MIXER_H
#define FB_MIXER_H

#include <stdint.h>

#include "util/hist.h"
#include "media/media_io.h"
#include "mixer/participant.h"

typedef struct fb_mixer fb_mixer;

typedef struct {
  int bitrate;                /* bit/s for every encoder */
  int complexity;             /* Opus complexity 0..10 */
  int max_live;               /* most participants live at once */
  int max_participants;       /* table size */
  int per_participant_encode; /* comparison mode, see above */
  int jitter_max_ms;
  float limiter_threshold; /* linear, e.g. 0.891 */
  int tick_cpu;            /* pin the tick thread to this CPU, -1 = no */
  int tick_priority;       /* SCHED_FIFO priority of the tick thread, 0 = normal scheduling */
} fb_mixer_config;

typedef struct {
  uint64_t ticks;
  uint64_t missed_ticks; /* ticks that started more than one period late (skipped) */
  uint64_t encodes;      /* Opus encodes done */
  uint64_t packets_sent;
  uint64_t floor_underruns;
  int participants;
  int live;
  fb_hist tick_ns;    /* CPU work per tick (wall time from wake to done) */
  fb_hist latency_ns; /* uplink packet arrival -> the downlink send that carries it */
} fb_mixer_stats;

/* Create a mixer. floor, pa and rec may be NULL (silence in / no output). */
fb_mixer *fb_mixer_new(const fb_mixer_config *cfg, fb_floor_input *floor, fb_output *pa,
                       fb_output *rec);

/* Before start: add another output fed with the limited full mix (the
 * webcast beside the recording). Returns 0, or -1 when FB_MIXER_MAX_OUTPUTS
 * are already attached. */
int fb_mixer_add_output(fb_mixer *m, fb_output *out);

#define FB_MIXER_MAX_OUTPUTS 4

/* Free (stop first). Participants still added are detached, not freed. */
void fb_mixer_free(fb_mixer *m);

/* Start the tick thread. Returns 0 or -1. */
int fb_mixer_start(fb_mixer *m);

/* Stop and join the tick thread. */
void fb_mixer_stop(fb_mixer *m);

/* Run one tick now on the calling thread (benchmarks, tests). Do not mix with
 * a running tick thread. */
void fb_mixer_tick(fb_mixer *m, uint64_t now_ns);

/* Any thread: add p (listening or live per `live`). Returns 0, or -1 when the
 * table is full. Applied at the next tick. */
int fb_mixer_add(fb_mixer *m, fb_participant *p, int live);

/* Any thread except the mixer: queue p's removal and return at once, with
 * the command's sequence number. p's place counts as free for new joins
 * immediately; the mixer stops referring to p when the next tick applies it
 * (fb_mixer_applied_seq). Without a running tick it is applied here. Never
 * fails, waits or allocates: fb_mixer_add reserved the command's slot, so p
 * must have been added (once) and not removed since. */
uint64_t fb_mixer_remove_async(fb_mixer *m, fb_participant *p);

/* Any thread: the sequence number of the last command the tick applied;
 * every command up to it has taken effect (a participant removed by one is
 * no longer referred to by the mixer). */
uint64_t fb_mixer_applied_seq(fb_mixer *m);

/* Any thread except the mixer: fb_mixer_remove_async, then wait (bounded,
 * 2 s) until the tick applied it; afterwards the caller may free p. For
 * tests and tools: the bridge never waits (see its reaper). */
void fb_mixer_remove(fb_mixer *m, fb_participant *p);

/* What the mixer does with a participant's uplink. */
typedef enum {
  FB_MEDIA_LISTEN = 0, /* not decoded; receives the shared encode */
  FB_MEDIA_LIVE = 1,   /* decoded, mixed; receives its own mix-minus */
  FB_MEDIA_MEASURE = 2 /* decoded and scored, never mixed (a barred delegate's
                            mic check, a chair-muted speaker); receives the
                            shared encode */
} fb_media_state;

/* Any thread except the mixer: set p's media state. Returns 0, or -1 when
 * going live would exceed max_live or measuring would exceed
 * FB_MIXER_MAX_MEASURED (or out of memory). The caller also tells the
 * transport whether to queue the uplink (it must for LIVE and MEASURE).
 * Moving between LIVE and MEASURE keeps the uplink's jitter buffer and
 * score; coming from LISTEN starts them afresh. Decoding allocates p's
 * encoder, jitter buffer and decoder here, on the caller's thread; back to
 * LISTEN they are freed once the tick has applied it, by the next
 * fb_mixer_add/set_state/remove/reclaim call (never by the tick). */
int fb_mixer_set_state(fb_mixer *m, fb_participant *p, fb_media_state state);

#define FB_MIXER_MAX_MEASURED 64

/* Any thread except the mixer: free the decode state of participants whose
 * return to listening the tick has applied (see fb_mixer_set_state). */
void fb_mixer_reclaim(fb_mixer *m);

/* Any thread, before participants are decoded: fn(ud, p) is called when p's
 * decode state is freed (on the thread freeing it, under the mixer's decode
 * lock; never the tick), so the owner of p's uplink queue can release it
 * too. The mixer no longer pops p's queue then, and it will not be decoded
 * again before fn returns. fn must not call the mixer. */
void fb_mixer_set_release_hook(fb_mixer *m, void (*fn)(void *ud, fb_participant *p), void *ud);

/* Any thread: shorthand for fb_mixer_set_state LIVE (1) or LISTEN (0). */
int fb_mixer_set_live(fb_mixer *m, fb_participant *p, int live);

/* Snapshot of the counters (histograms copied). */
void fb_mixer_get_stats(fb_mixer *m, fb_mixer_stats *out);

/* True while the tick thread is keeping time (last tick within 100 ms). */
int fb_mixer_healthy(fb_mixer *m);

#endif
