/*
 * load.h — floorbridge-load: the types the load tool's files share.
 *
 * Shape (two threads, no thread per participant):
 *
 *   signalling thread (main)  libwebsockets client context: every WebSocket,
 *                             tokens, join/offer/answer, the chair, the ramp,
 *                             churn, the run's clock (lws_sul timers) and the
 *                             bridge probes at the window edges (ws.c, chair.c)
 *   media thread              one epoll over every participant's UDP socket,
 *                             a min-heap of client timers, the 20 ms speaker
 *                             tick, uplink impairment, downlink continuity and
 *                             marker detection (media.c, marker.c)
 *
 * A session (ld_sess) is one connection attempt of one participant: one
 * WebSocket and one fb_rtc_client. The signalling thread creates it, builds
 * the offer from the client's credentials, and after the answer hands the
 * client to the media thread through a command queue (ld_media_post); from
 * then on only the media thread touches the client. A session is freed when
 * both threads have let go of it (refs). Churn makes new sessions for the
 * same participant (ld_part).
 *
 * Results flow one way: the media thread appends each finished session's
 * numbers to ld_results under a mutex; join times and latencies go to sample
 * arrays (ld_samples) owned by the thread that writes them until the end.
 */
#ifndef FB_LOAD_H
#define FB_LOAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "client/rtc_client.h"
#include "load/marker.h"

#define LD_MS 1000000ull
#define LD_S 1000000000ull

typedef enum { LD_STEADY = 0, LD_STORM, LD_CHURN, LD_IMPAIRED, LD_WEBCAST } ld_scenario;

typedef enum { LD_FLOOR_AUTO = 0, LD_FLOOR_CHAIR, LD_FLOOR_TOKEN } ld_floor_mode;

typedef struct {
  /* target */
  char url[256];  /* ws://127.0.0.1:8080/ws */
  char host[128]; /* from url */
  int port;
  char path[128];
  int tls;          /* wss:// */
  char bind_ip[64]; /* local address of the UDP sockets */
  int allow_remote;
  /* meeting */
  char secret[512];
  char meeting[64];
  ld_floor_mode floor;
  /* load */
  ld_scenario scenario;
  int n;             /* participants (delegates), the chair not counted */
  int speakers;      /* live speakers at once */
  int pool;          /* speakers that send (rotated through the floor) */
  double rotate_s;   /* one turn ends and another starts every rotate_s */
  double ramp_per_s; /* joins started per second (<= 0: all at once) */
  double duration_s; /* measured window after the ramp and settle */
  double settle_s;   /* wait after the last join before measuring */
  double join_timeout_s;
  double churn_per_s; /* churn: leaves (each followed by a rejoin) per second */
  double rejoin_ms;
  /* impairment of the speakers' uplink */
  double loss_pct, reorder_pct;
  double jitter_ms;
  /* listeners */
  double decode_pct;
  int decode_min, decode_max;
  double gap_ms; /* a downlink gap longer than this is counted (60) */
  int light;     /* non-decoding sessions skip SRTP (fb_rtc_client_set_light) */
  /* output and probes */
  char json_path[512];
  int bridge_pid;
  char metrics_url[256];
  char control[256];
  int assert_ok;        /* --assert: exit 1 unless the correctness checks pass */
  double assert_gap_ms; /* --assert: no listener gap above this (200) */
  int verbose;
  uint32_t seed;
} ld_opts;

/* A growing array of doubles (join times, latencies). */
typedef struct {
  double *v;
  size_t n, cap;
} ld_samples;

int ld_samples_add(ld_samples *s, double x);
void ld_samples_free(ld_samples *s);
/* Quantile q (0..1) by nearest rank on a sorted copy; NAN when empty. */
double ld_samples_quantile(const ld_samples *s, double q);

/* Roles of a participant. */
typedef enum { LD_LISTENER = 0, LD_SPEAKER, LD_CHAIR } ld_role;

/* Session states (signalling thread). */
typedef enum {
  SS_IDLE = 0,
  SS_CONNECTING,
  SS_OPEN,   /* WebSocket up, join sent */
  SS_JOINED, /* joined, offer sent */
  SS_MEDIA,  /* answer applied, client handed to the media thread */
  SS_CLOSING,
  SS_CLOSED,
  SS_FAILED
} ld_sess_state;

typedef struct ld_part ld_part;
typedef struct ld_sess ld_sess;
typedef struct ld_out ld_out;

struct ld_out {
  ld_out *next;
  size_t len;
  unsigned char buf[]; /* LWS_PRE bytes, then the text */
};

struct ld_sess {
  ld_part *part;
  atomic_int refs; /* signalling + media */
  int gen;         /* 0 first join, 1.. rejoins */
  /* ---- signalling thread ---- */
  struct lws *wsi;
  ld_sess_state state;
  int failed_counted;
  char fail_why[160];
  uint64_t t_connect, t_open, t_joined, t_answer;
  char *rx; /* message being gathered */
  size_t rxlen, rxcap;
  int rx_skip; /* message too big: skipped to its end */
  ld_out *outq, *outq_tail;
  int close_after_send;
  int left; /* "left" received */
  int pid;
  fb_rtc_client *c; /* until handed to the media thread */
  /* ---- set before the hand-over, read by the media thread ---- */
  int decode; /* sampled listener: decrypt + decode + markers */
  int speaker;
  /* ---- media thread ---- */
  fb_rtc_client *mc; /* set by the hand-over, then media thread only */
  int registered, removed;
  int slot;           /* index in the media thread's list */
  int holds;          /* heap entries + delayed packets naming it */
  atomic_int outcome; /* join: 0 open, 1 audio arrived, 2 failed */
  uint64_t heap_due;
  uint64_t markers_at_first; /* markers sent before its first audio */
  uint64_t rx_seen;          /* rtp_packets_rx at the last look */
  uint64_t last_rx_ns;       /* arrival of the last downlink batch */
  uint64_t first_rx_ns;
  int media_failed;
  int gaps, gaps_window, gaps_over_assert;
  double max_gap_ms;
  int markers;
  ld_detector det;
};

struct ld_part {
  int index; /* 0..n-1; the chair is -1 */
  ld_role role;
  char delegate[32];
  int decode;         /* a sampled listener */
  ld_sess *sess;      /* current session (signalling thread) */
  int sessions;       /* started so far */
  uint64_t rejoin_at; /* churn: reconnect at this time (0: no) */
  int fails;          /* churn: failed or dropped sessions in a row (backoff) */
  /* chair rotation (signalling thread) */
  int live;
  uint64_t live_since;
  int requested;
};

/* What a finished session leaves behind (media thread -> report). */
typedef struct {
  int index;
  ld_role role;
  int decode;
  int joined; /* got downlink audio */
  double join_ms;
  uint64_t rx, lost, late, srtp_fail;
  int gaps, gaps_window, gaps_over_assert;
  double max_gap_ms;
  int markers, markers_expected;
  int media_failed;
  char error[160];
} ld_result;

/* Everything the threads share. */
typedef struct {
  ld_opts o;
  fb_rtc_client_ctx *ctx;
  ld_signal sig;  /* the speakers' pre-encoded signal */
  ld_part *parts; /* n */
  ld_part chair;
  /* run clock (CLOCK_MONOTONIC ns) */
  uint64_t t_start, t_window0, t_window1;
  atomic_int window_open; /* 1 while measuring */
  atomic_int stop_media;
  atomic_int webcast_on; /* chair switched to webcast-only */
  atomic_ullong webcast_since;
  /* counters (either thread) */
  atomic_int joins_started, joins_ok, joins_failed, leaves;
  int dropped;              /* joined sessions whose WebSocket the bridge closed */
  atomic_int sessions_live; /* sessions with media right now */
  /* media thread results */
  pthread_mutex_t res_lock;
  ld_result *res;
  size_t nres, capres;
  ld_samples join_ms;     /* media thread */
  ld_samples lat_ms;      /* media thread, window only */
  ld_samples lag_ms;      /* media thread: how late the speaker tick ran */
  uint64_t markers_sent;  /* media thread */
  uint64_t markers_stray; /* detections matching no recent marker */
  uint64_t webcast_leaks; /* markers heard after the switch to webcast */
  uint64_t up_sent, up_dropped, up_delayed, up_reordered; /* speakers' uplink */
  uint64_t tool_cpu_ns0, tool_cpu_ns1;
  ld_samples connect_ms; /* signalling thread: connect -> WebSocket open */
  ld_samples joined_ms;  /* open -> joined */
  ld_samples answer_ms;  /* open -> answer */
  struct lws_context *lws_ctx;
  int settle_started;
  uint64_t t_joins_done;
  /* chair (signalling thread) */
  int chair_ready;    /* joined and floor control probed (or given up) */
  int chair_protocol; /* 1 grant/end_turn work; 0 tokens with speak */
  int grants, grant_errors, end_turns, end_turn_errors, mode_switches;
  char chair_error[80];                   /* the first refusal the chair got */
  uint64_t chair_rx_bytes, chair_rx_msgs; /* what the bridge sent the chair */
  int chair_dropped;                      /* the bridge closed the chair's WebSocket */
  char floor_note[160];
  /* failures by reason (signalling thread) */
  char first_error[200];
} ld_run;

/* ---- media.c (media thread) ---- */
int ld_media_start(ld_run *r, char *err, size_t errlen);
/* Hand a session's client to the media thread (takes a reference). */
void ld_media_add(ld_run *r, ld_sess *s);
/* Ask the media thread to finish a session: free its client, record its
 * result, drop its reference. */
void ld_media_remove(ld_run *r, ld_sess *s);
/* Stop the thread after finishing every session it still holds. */
void ld_media_stop(ld_run *r);
void ld_result_add(ld_run *r, const ld_result *x);

/* Count a join once, as it first ends: ok (downlink audio) or failed. */
void ld_join_done(ld_run *r, ld_sess *s, int ok, const char *why);

/* ---- ws.c (signalling thread) ---- */
typedef struct ld_probe_window ld_probe_window;
int ld_ws_run(ld_run *r, ld_probe_window *pw, char *err, size_t errlen);
void ld_ws_interrupt(void);
void ld_sess_unref(ld_sess *s);
void ld_ws_free_sessions(void);

/* ---- chair.c (signalling thread) ---- */
struct lws_context;
void ld_chair_on_joined(ld_run *r);
void ld_chair_on_reply(ld_run *r, const char *type, const char *code, const char *request);
void ld_chair_speaker_joined(ld_run *r, ld_part *p);
void ld_chair_speaker_left(ld_run *r, ld_part *p);
void ld_chair_tick(ld_run *r, uint64_t now);
void ld_chair_webcast(ld_run *r);
/* Queue a text message on a session (signalling thread). */
int ld_ws_send(ld_sess *s, const char *text);

/* ---- report.c ---- */
int ld_report(ld_run *r, const ld_probe_window *w);

#endif
