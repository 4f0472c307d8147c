/*
 * test_webrtc_loopback — the bridge and four WebRTC clients (client/rtc_client.h)
 * in one process over loopback, joined without signalling through
 * fb_bridge_join_webrtc():
 *
 *   floor A = builtin:tone:440
 *   B  live,      sends 1000 Hz (with the RFC 6464 audio-level extension)
 *   C  live,      sends 1700 Hz
 *   L  listening  (uplink allowed, not live), sends nothing
 *   O  observer   (uplink 0), sends 2300 Hz anyway
 *
 * Phases (every loop bounded; the whole test takes ~15 s):
 *   a) ICE + DTLS within 2 s per client; the bridge reports ice_connected and
 *      media_connected for each pid.
 *   b) mix-minus by tone detection: L hears A+B+C, B hears A+C not B, C hears
 *      A+B not C; O's tone reaches nobody; (after the bridge is freed) the PA
 *      file has B and C, not A, not O.
 *   g) every client received an SRTCP sender report from the bridge, and
 *      the bridge has released every client's DTLS state (its SRTCP
 *      authenticated), long before the 30 s fallback.
 *   c) B sends 200 junk datagrams (first byte 0x80) and 50 replays of one of
 *      its real packets on its own 5-tuple: nobody's downlink skips a beat, L
 *      still hears B, the bridge counted the datagrams.
 *   d) B rebinds to a new port (NAT rebinding): its media from the new
 *      port is dropped until its next (nominated) check, then the bridge
 *      follows: L hears B again within 1 s, B gets downlink on the new port.
 *   e) C stops its consent checks: "consent_lost" for C within 5 s + 2 s,
 *      nobody else loses consent.
 *   f) Binding requests with an unknown ufrag (and a known ufrag with the
 *      wrong remote part and password) from fresh sockets get no response.
 *   h) after fb_bridge_leave, a participant's checks go unanswered.
 *   i) a certificate that does not match the fingerprint fails the handshake
 *      on either side (dtls_failed, never media_connected).
 *   j) a lost ClientHello / a lost second flight is recovered by the
 *      retransmission timers.
 *   k) 16 clients join and leave while their handshakes are in flight (the
 *      DTLS thread may hold their records): every one is released
 *      (media_released) within 3 s, none reports media_connected after its
 *      leave, and L still hears B.
 */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audio_file.h"
#include "bridge/bridge.h"
#include "util/clock.h"
#include "check.h"
#include "client/rtc_client.h"
#include "codecs/audio.h"
#include "codecs/levels.h"
#include "codecs/synth.h"

#define HZ_A 440.0
#define HZ_B 1000.0
#define HZ_C 1700.0
#define HZ_O 2300.0
#define PRESENT -30.0  /* dB: a tone that is there */
#define ABSENT -50.0   /* dB: a tone that is not */
#define ABSENT_O -55.0 /* dB: the observer's tone must be well below */
#define PT 111
#define MS 1000000ull

/* ---- bridge events (called on bridge threads) ------------------------------ */

typedef struct {
  int pid;
  char event[32];
  uint64_t t;
} event_rec;

static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;
static event_rec events[512];
static int nevents;

static void on_event(void *ud, int pid, const char *event, const char *detail) {
  (void)ud;
  (void)detail;
  pthread_mutex_lock(&ev_lock);
  if (nevents < (int)(sizeof events / sizeof events[0])) {
    events[nevents].pid = pid;
    snprintf(events[nevents].event, sizeof events[nevents].event, "%s", event);
    events[nevents].t = fb_now_ns();
    nevents++;
  }
  pthread_mutex_unlock(&ev_lock);
}

/* Time of the first `event` for pid, 0 when none. */
static uint64_t event_time(int pid, const char *event) {
  uint64_t t = 0;
  pthread_mutex_lock(&ev_lock);
  for (int i = 0; i < nevents && !t; i++)
    if (events[i].pid == pid && strcmp(events[i].event, event) == 0) t = events[i].t;
  pthread_mutex_unlock(&ev_lock);
  return t;
}

/* ---- participants ------------------------------------------------------------ */

typedef struct {
  const char *name;
  fb_rtc_client *c;
  int pid;
  int sending;
  fb_tone tone;
} peer;

enum { B, C, L, O, NPEERS };
static peer peers[NPEERS];

static double db(const float *x, long n, double hz) {
  return n > 0 ? fb_tone_dbfs(x, (int)n, hz, FB_RATE) : -120.0;
}

/* The samples peer p received between pcm_total positions from and to. */
static const float *window(const peer *p, long long from, long long to, long *n) {
  long have;
  const float *pcm = fb_rtc_client_pcm(p->c, &have);
  long long total = fb_rtc_client_pcm_total(p->c);
  long long start = total - have; /* pcm_total of pcm[0] */
  if (from < start) from = start;
  if (to > total) to = total;
  *n = to > from ? (long)(to - from) : 0;
  return pcm ? pcm + (from - start) : NULL;
}

static long long pos(int i) { return fb_rtc_client_pcm_total(peers[i].c); }

/* One 20 ms step: receive whatever arrives until the tick time (poll on every
 * client fd, plus extra fds), then drive timers and send one frame each. */
static uint64_t next_tick;

static void step(void) {
  for (;;) {
    uint64_t now = fb_now_ns();
    if (now >= next_tick) break;
    struct pollfd pfd[NPEERS];
    for (int i = 0; i < NPEERS; i++)
      pfd[i] = (struct pollfd){.fd = fb_rtc_client_fd(peers[i].c), .events = POLLIN};
    int ms = (int)((next_tick - now + MS - 1) / MS);
    int r = poll(pfd, NPEERS, ms > 5 ? 5 : ms);
    if (r > 0) {
      uint64_t t = fb_now_ns();
      for (int i = 0; i < NPEERS; i++)
        if (pfd[i].revents & POLLIN) fb_rtc_client_on_readable(peers[i].c, t);
    }
  }
  uint64_t now = fb_now_ns();
  for (int i = 0; i < NPEERS; i++) {
    peer *p = &peers[i];
    fb_rtc_client_on_readable(p->c, now);
    fb_rtc_client_poll(p->c, now);
    if (p->sending && fb_rtc_client_state(p->c) == FB_RTC_CONNECTED) {
      float pcm[FB_FRAME];
      fb_tone_fill(&p->tone, pcm, FB_FRAME);
      fb_rtc_client_send_audio(p->c, pcm, now);
    }
  }
  next_tick += FB_TICK_NS;
  if (fb_now_ns() > next_tick + 100 * MS) next_tick = fb_now_ns(); /* do not burst after a stall */
}

static void run_ms(int ms) {
  for (int i = 0; i < ms / 20; i++) step();
}

static uint64_t status_counter(fb_bridge *b, const char *key) {
  char buf[2048], pat[64];
  fb_bridge_status_json(b, buf, sizeof buf);
  snprintf(pat, sizeof pat, "\"%s\":", key);
  const char *s = strstr(buf, pat);
  return s ? strtoull(s + strlen(pat), NULL, 10) : 0;
}

static fb_rtc_client_stats stats_of(const fb_rtc_client *c) {
  fb_rtc_client_stats st;
  fb_rtc_client_get_stats(c, &st);
  return st;
}

static fb_rtc_client_stats stats(int i) {
  fb_rtc_client_stats st;
  fb_rtc_client_get_stats(peers[i].c, &st);
  return st;
}

/* f) A client with made-up credentials for the bridge's port: polled for
 * 300 ms (it sends a check every 50 ms), it must receive nothing at all. */
static void probe_silence(fb_rtc_client_ctx *ctx, int port, const char *server_ufrag,
                          const char *what) {
  char err[256];
  fb_rtc_client *x = fb_rtc_client_new(ctx, "127.0.0.1", err, sizeof err);
  CHECK(x != NULL, "probe client: %s", err);
  if (!x) return;
  CHECK(fb_rtc_client_set_remote(x, "127.0.0.1", port, server_ufrag, "WrongPasswordWrongPassword",
                                 fb_rtc_client_ctx_fingerprint(ctx), PT) == 0,
        "probe set_remote: %s", fb_rtc_client_error(x));
  uint64_t end = fb_now_ns() + 300 * MS;
  int datagrams = 0;
  while (fb_now_ns() < end) {
    fb_rtc_client_poll(x, fb_now_ns());
    struct pollfd pfd = {.fd = fb_rtc_client_fd(x), .events = POLLIN};
    if (poll(&pfd, 1, 10) > 0) {
      uint8_t buf[1500];
      while (recv(pfd.fd, buf, sizeof buf, MSG_DONTWAIT) >= 0) datagrams++;
    }
  }
  fb_rtc_client_stats st;
  fb_rtc_client_get_stats(x, &st);
  printf("f) %s: %llu checks sent, %d datagrams received\n", what, (unsigned long long)st.stun_tx,
         datagrams);
  CHECK(st.stun_tx >= 5 && datagrams == 0 && fb_rtc_client_state(x) == FB_RTC_NEW,
        "%s: no response (%d datagrams to %llu checks)", what, datagrams,
        (unsigned long long)st.stun_tx);
  fb_rtc_client_free(x);
}

int main(void) {
  gst_init(NULL, NULL);
  uint64_t t_start = fb_now_ns();
  char dir[] = "/tmp/fb-webrtc-XXXXXX";
  if (!mkdtemp(dir)) return 1;
  char pa[256];
  snprintf(pa, sizeof pa, "%s/pa.wav", dir);

  fb_config cfg;
  fb_config_defaults(&cfg);
  snprintf(cfg.bind, sizeof cfg.bind, "127.0.0.1");
  cfg.media_port = 0;
  snprintf(cfg.floor_pipeline, sizeof cfg.floor_pipeline, "builtin:tone:440");
  snprintf(cfg.pa_pipeline, sizeof cfg.pa_pipeline, "wavenc ! filesink location=%s", pa);
  cfg.webrtc_consent_timeout_s = 5;
  char err[512] = "";
  fb_bridge *b = fb_bridge_new(&cfg, err, sizeof err);
  CHECK(b != NULL, "bridge starts: %s", err);
  if (!b) return CHECK_DONE();
  fb_bridge_set_event_cb(b, on_event, NULL);
  int port = fb_bridge_media_port(b);

  fb_rtc_client_ctx *ctx = fb_rtc_client_ctx_new(err, sizeof err);
  CHECK(ctx != NULL, "client context: %s", err);
  if (!ctx) {
    fb_bridge_free(b);
    return CHECK_DONE();
  }

  /* ---- join four clients without signalling ---- */
  static const struct {
    const char *name;
    int live, uplink;
    double hz;
    int level_ext;
  } who[NPEERS] = {
      [B] = {"b", 1, 1, HZ_B, 1},
      [C] = {"c", 1, 1, HZ_C, 0},
      [L] = {"l", 0, 1, 0, 0},
      [O] = {"o", 0, 0, HZ_O, 0},
  };
  char server_ufrag_l[16] = "";
  for (int i = 0; i < NPEERS; i++) {
    peer *p = &peers[i];
    p->name = who[i].name;
    p->c = fb_rtc_client_new(ctx, "127.0.0.1", err, sizeof err);
    CHECK(p->c != NULL, "client %s: %s", p->name, err);
    if (!p->c) return CHECK_DONE();
    fb_rtc_client_set_pcm_capacity(p->c, 40L * FB_RATE);
    if (who[i].hz > 0) {
      fb_tone_init(&p->tone, who[i].hz, 0.25f);
      p->sending = 1;
    }
    fb_webrtc_offer offer = {.ice_ufrag = fb_rtc_client_ufrag(p->c),
                             .ice_pwd = fb_rtc_client_pwd(p->c),
                             .fingerprint = fb_rtc_client_ctx_fingerprint(ctx),
                             .opus_pt = PT,
                             .audio_level_ext = who[i].level_ext};
    fb_webrtc_answer ans;
    int rc = fb_bridge_join_webrtc(b, p->name, who[i].live, who[i].uplink, &offer, &ans, &p->pid,
                                   err, sizeof err);
    CHECK(rc == 0, "join %s: %s", p->name, err);
    if (rc != 0) return CHECK_DONE();
    CHECK(ans.candidate_port == port && strcmp(ans.candidate_ip, "127.0.0.1") == 0,
          "%s: candidate %s:%d", p->name, ans.candidate_ip, ans.candidate_port);
    CHECK(fb_rtc_client_set_remote(p->c, ans.candidate_ip, ans.candidate_port, ans.ice_ufrag,
                                   ans.ice_pwd, ans.fingerprint, PT) == 0,
          "%s: set_remote: %s", p->name, fb_rtc_client_error(p->c));
    if (who[i].level_ext) fb_rtc_client_set_audio_level_ext(p->c, who[i].level_ext);
    if (i == L) snprintf(server_ufrag_l, sizeof server_ufrag_l, "%s", ans.ice_ufrag);
  }

  /* ---- a) ICE + DTLS ---- */
  next_tick = fb_now_ns();
  uint64_t deadline = fb_now_ns() + 3000 * MS;
  for (;;) {
    int done = 0;
    for (int i = 0; i < NPEERS; i++) {
      int s = fb_rtc_client_state(peers[i].c);
      done += s == FB_RTC_CONNECTED || s == FB_RTC_FAILED;
    }
    if (done == NPEERS || fb_now_ns() > deadline) break;
    step();
  }
  for (int i = 0; i < NPEERS; i++) {
    fb_rtc_client_stats st = stats(i);
    printf("a) %s: ICE %lld ms, ICE+DTLS %lld ms, %s, state %d %s\n", peers[i].name,
           (long long)st.ice_ms, (long long)st.dtls_ms, fb_rtc_client_srtp_profile(peers[i].c),
           fb_rtc_client_state(peers[i].c), fb_rtc_client_error(peers[i].c));
    CHECK(
        fb_rtc_client_state(peers[i].c) == FB_RTC_CONNECTED && st.dtls_ms >= 0 && st.dtls_ms < 2000,
        "%s connected within 2 s (state %d, %lld ms): %s", peers[i].name,
        fb_rtc_client_state(peers[i].c), (long long)st.dtls_ms, fb_rtc_client_error(peers[i].c));
    CHECK(st.mapped_port == fb_rtc_client_local_port(peers[i].c), "%s: mapped port %d vs %d",
          peers[i].name, st.mapped_port, fb_rtc_client_local_port(peers[i].c));
    CHECK(event_time(peers[i].pid, "ice_connected") != 0, "%s: ice_connected event", peers[i].name);
    CHECK(event_time(peers[i].pid, "media_connected") != 0, "%s: media_connected event",
          peers[i].name);
  }

  /* ---- b) mix-minus over 3 s, judged on the last 2 s ---- */
  run_ms(1000);
  long long mark[NPEERS];
  for (int i = 0; i < NPEERS; i++) mark[i] = pos(i);
  run_ms(2000);
  {
    long n[NPEERS];
    const float *x[NPEERS];
    for (int i = 0; i < NPEERS; i++) x[i] = window(&peers[i], mark[i], pos(i), &n[i]);
    for (int i = 0; i < NPEERS; i++)
      printf("b) %s hears: A %.1f  B %.1f  C %.1f  O %.1f dB (%ld samples)\n", peers[i].name,
             db(x[i], n[i], HZ_A), db(x[i], n[i], HZ_B), db(x[i], n[i], HZ_C), db(x[i], n[i], HZ_O),
             n[i]);
    CHECK(n[L] > FB_RATE * 3 / 2 && n[B] > FB_RATE * 3 / 2 && n[C] > FB_RATE * 3 / 2,
          "decoded audio: l %ld, b %ld, c %ld samples", n[L], n[B], n[C]);
    CHECK(db(x[L], n[L], HZ_A) > PRESENT && db(x[L], n[L], HZ_B) > PRESENT &&
              db(x[L], n[L], HZ_C) > PRESENT,
          "L hears A+B+C");
    CHECK(db(x[L], n[L], HZ_O) < ABSENT_O, "O's uplink is not in L's mix (%.1f dB)",
          db(x[L], n[L], HZ_O));
    CHECK(db(x[B], n[B], HZ_A) > PRESENT && db(x[B], n[B], HZ_C) > PRESENT, "B hears A and C");
    CHECK(db(x[B], n[B], HZ_B) < ABSENT, "B does not hear itself (%.1f dB)", db(x[B], n[B], HZ_B));
    CHECK(db(x[C], n[C], HZ_A) > PRESENT && db(x[C], n[C], HZ_B) > PRESENT, "C hears A and B");
    CHECK(db(x[C], n[C], HZ_C) < ABSENT, "C does not hear itself (%.1f dB)", db(x[C], n[C], HZ_C));
    CHECK(db(x[O], n[O], HZ_A) > PRESENT && db(x[O], n[O], HZ_B) > PRESENT &&
              db(x[O], n[O], HZ_O) < ABSENT_O,
          "O hears the meeting, not itself");
  }

  /* ---- g) RTCP sender reports ---- */
  for (int i = 0; i < NPEERS; i++) {
    fb_rtc_client_stats st = stats(i);
    printf(
        "g) %s: %llu SRTCP compounds, %llu sender reports, %llu RTP packets, gaps %llu, "
        "srtp failures %llu\n",
        peers[i].name, (unsigned long long)st.rtcp_rx, (unsigned long long)st.rtcp_sr_rx,
        (unsigned long long)st.rtp_packets_rx, (unsigned long long)st.seq_gaps,
        (unsigned long long)st.srtp_fail);
    CHECK(st.rtcp_sr_rx >= 1, "%s received a sender report", peers[i].name);
    CHECK(st.srtp_fail == 0 && st.seq_gaps == 0, "%s: clean downlink", peers[i].name);
  }
  {
    /* clients report every second; allow three */
    static char m[16384];
    int states = -1;
    uint64_t end = fb_now_ns() + 3000000000ull;
    do {
      fb_bridge_metrics(b, m, sizeof m);
      const char *g = strstr(m, "\nfloorbridge_dtls_states ");
      states = g ? atoi(g + strlen("\nfloorbridge_dtls_states ")) : -1;
      if (states != 0) usleep(20000);
    } while (states != 0 && fb_now_ns() < end);
    printf("g) DTLS states still held: %d\n", states);
    CHECK(states == 0, "every client's DTLS state released once its SRTCP arrived (%d held)",
          states);
  }

  /* ---- c) junk and replays on B's 5-tuple ---- */
  {
    size_t rl = 0;
    const uint8_t *real = fb_rtc_client_last_packet(peers[B].c, &rl);
    uint8_t replay[1700];
    CHECK(real && rl > 12 && rl <= sizeof replay, "B has sent a packet to replay");
    if (real) memcpy(replay, real, rl);
    fb_rtc_client_stats before[NPEERS];
    for (int i = 0; i < NPEERS; i++) before[i] = stats(i);
    uint64_t rx0 = status_counter(b, "rx_datagrams");
    long long m_l = pos(L);
    unsigned seed = 12345;
    int junk = 0, replays = 0;
    for (int t = 0; t < 75; t++) {
      if (t < 10) {
        for (int k = 0; k < 20; k++) {
          uint8_t g[256];
          size_t len = 20 + (size_t)(rand_r(&seed) % 180);
          for (size_t j = 0; j < len; j++) g[j] = (uint8_t)rand_r(&seed);
          g[0] = 0x80;
          junk += fb_rtc_client_send_raw(peers[B].c, g, len) == 0;
        }
        for (int k = 0; k < 5; k++) replays += fb_rtc_client_send_raw(peers[B].c, replay, rl) == 0;
      }
      step();
    }
    uint64_t rx1 = status_counter(b, "rx_datagrams");
    long n;
    const float *x = window(&peers[L], m_l, pos(L), &n);
    printf(
        "c) sent %d junk + %d replays; bridge rx_datagrams +%llu; L hears B %.1f dB, C %.1f "
        "dB over %ld samples\n",
        junk, replays, (unsigned long long)(rx1 - rx0), db(x, n, HZ_B), db(x, n, HZ_C), n);
    CHECK(junk == 200 && replays == 50, "junk sent");
    CHECK(rx1 - rx0 >= 250, "bridge received the junk (%llu)", (unsigned long long)(rx1 - rx0));
    CHECK(db(x, n, HZ_B) > PRESENT && db(x, n, HZ_C) > PRESENT, "L still hears B and C");
    for (int i = 0; i < NPEERS; i++) {
      fb_rtc_client_stats st = stats(i);
      uint64_t got = st.rtp_packets_rx - before[i].rtp_packets_rx;
      CHECK(st.seq_gaps == before[i].seq_gaps && got >= 70 && st.srtp_fail == 0,
            "%s: downlink unaffected (%llu packets, gaps %llu -> %llu)", peers[i].name,
            (unsigned long long)got, (unsigned long long)before[i].seq_gaps,
            (unsigned long long)st.seq_gaps);
    }
    CHECK(fb_rtc_client_state(peers[B].c) == FB_RTC_CONNECTED, "B still connected");
  }

  /* ---- d) NAT rebinding of B ----
   * As with a real NAT: B's media starts coming from the new port at once,
   * and the bridge (which only follows a nominated, authenticated check) drops
   * it until B's next check. A browser's next check may be a while away; here
   * B holds its checks for 300 ms, then checks at the fast interval. */
  {
    int old_port = fb_rtc_client_local_port(peers[B].c);
    fb_rtc_client_stats before = stats(B);
    long long m_l = pos(L), m_b = pos(B);
    uint64_t unknown0 = status_counter(b, "rx_unknown_source");
    uint64_t t0 = fb_now_ns();
    fb_rtc_client_stop_checks(peers[B].c, 1);
    CHECK(fb_rtc_client_rebind(peers[B].c) == 0, "rebind");
    int new_port = fb_rtc_client_local_port(peers[B].c);
    run_ms(300);
    uint64_t unknown1 = status_counter(b, "rx_unknown_source");
    fb_rtc_client_stop_checks(peers[B].c, 0);
    uint64_t t_check = fb_now_ns();
    long long m_l2 = pos(L);
    run_ms(1000);
    fb_rtc_client_stats st = stats(B);
    /* B's tone in L's audio, 100 ms windows from the rebind on */
    char levels[256] = "";
    size_t off = 0;
    int back_ms = -1;
    for (int w = 0; w < 13; w++) {
      long n;
      const float *x =
          window(&peers[L], m_l + (long long)w * 4800, m_l + (long long)(w + 1) * 4800, &n);
      double lv = db(x, n, HZ_B);
      off += (size_t)snprintf(levels + off, sizeof levels - off, " %.0f", lv);
      if (m_l + (long long)w * 4800 >= m_l2 && back_ms < 0 && n == 4800 && lv > PRESENT)
        back_ms = (int)((m_l + (long long)(w + 1) * 4800 - m_l2) * 1000 / FB_RATE);
    }
    long n, nb;
    const float *x = window(&peers[L], m_l2 + FB_RATE / 2, m_l2 + FB_RATE, &n);
    const float *xb = window(&peers[B], m_b + FB_RATE, m_b + FB_RATE * 13 / 10, &nb);
    printf(
        "d) B rebound %d -> %d (bridge sees %d); %llu of B's datagrams dropped as unknown "
        "before its check; %llu downlink packets on the new port in %.0f ms\n",
        old_port, new_port, st.mapped_port, (unsigned long long)(unknown1 - unknown0),
        (unsigned long long)(st.rtp_packets_rx - before.rtp_packets_rx), (fb_now_ns() - t0) / 1e6);
    printf(
        "d) B in L per 100 ms from the rebind (dB):%s; back %d ms after B's first check "
        "(checks resumed %.0f ms after the rebind); B hears A %.1f dB\n",
        levels, back_ms, (t_check - t0) / 1e6, db(xb, nb, HZ_A));
    CHECK(new_port != old_port && st.mapped_port == new_port, "bridge saw the new port");
    CHECK(unknown1 - unknown0 >= 10, "media from the new port was dropped before the check");
    CHECK(st.rtp_packets_rx - before.rtp_packets_rx >= 40, "B gets downlink on the new port");
    CHECK(back_ms > 0 && back_ms <= 1000 && db(x, n, HZ_B) > PRESENT,
          "L hears B again within 1 s of B's check");
    CHECK(db(xb, nb, HZ_A) > PRESENT, "B hears the floor after rebinding");
    CHECK(fb_rtc_client_state(peers[B].c) == FB_RTC_CONNECTED, "B still connected");
  }

  /* ---- e) consent freshness (with f running meanwhile) ---- */
  {
    fb_rtc_client_stop_checks(peers[C].c, 1);
    uint64_t t0 = fb_now_ns();
    probe_silence(ctx, port, "NoSuchUfrag", "unknown ufrag");
    probe_silence(ctx, port, server_ufrag_l, "L's ufrag, wrong remote ufrag and password");
    next_tick = fb_now_ns();
    while (!event_time(peers[C].pid, "consent_lost") && fb_now_ns() < t0 + 7500 * MS) step();
    uint64_t t_lost = event_time(peers[C].pid, "consent_lost");
    printf("e) consent_lost for C %.0f ms after its checks stopped (timeout 5 s)\n",
           t_lost ? (t_lost - t0) / 1e6 : -1.0);
    CHECK(t_lost != 0 && t_lost - t0 <= 7000 * MS, "consent_lost for C within 7 s");
    for (int i = 0; i < NPEERS; i++)
      if (i != C)
        CHECK(!event_time(peers[i].pid, "consent_lost"), "%s keeps consent", peers[i].name);
    fb_rtc_client_stats c0 = stats(C);
    run_ms(500);
    fb_rtc_client_stats c1 = stats(C);
    printf("e) after consent_lost the bridge sent C %llu more packets in 500 ms%s\n",
           (unsigned long long)(c1.rtp_packets_rx - c0.rtp_packets_rx),
           c1.rtp_packets_rx > c0.rtp_packets_rx ? " (RFC 7675 5.1: sending should stop)" : "");
  }

  /* ---- h) after leaving, checks go unanswered and media stops ---- */
  {
    CHECK(fb_bridge_leave(b, peers[O].pid) == 0, "O leaves");
    run_ms(100);
    fb_rtc_client_stats o0 = stats(O);
    fb_rtc_client_stop_checks(peers[O].c, 0); /* a check right away */
    run_ms(400);
    fb_rtc_client_stats o1 = stats(O);
    printf("h) after leave: O sent %llu checks, %llu answered, %llu RTP packets\n",
           (unsigned long long)(o1.stun_tx - o0.stun_tx),
           (unsigned long long)(o1.stun_ok - o0.stun_ok),
           (unsigned long long)(o1.rtp_packets_rx - o0.rtp_packets_rx));
    CHECK(o1.stun_tx > o0.stun_tx && o1.stun_ok == o0.stun_ok, "checks after leave unanswered");
    CHECK(o1.rtp_packets_rx == o0.rtp_packets_rx, "no media after leave");
  }

  /* ---- i) fingerprint mismatches, both directions ---- */
  int bad_pids[2] = {0, 0};
  for (int k = 0; k < 2; k++) {
    fb_rtc_client *x = fb_rtc_client_new(ctx, "127.0.0.1", err, sizeof err);
    CHECK(x != NULL, "client: %s", err);
    if (!x) break;
    /* k 0: the offer names a certificate the client does not have (the
     * bridge must refuse the client); k 1: the client expects another
     * certificate than the bridge's (the client must refuse the bridge). */
    const char *zero_fp =
        "sha-256 00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:"
        "00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00";
    fb_webrtc_offer offer = {.ice_ufrag = fb_rtc_client_ufrag(x),
                             .ice_pwd = fb_rtc_client_pwd(x),
                             .fingerprint = k == 0 ? zero_fp : fb_rtc_client_ctx_fingerprint(ctx),
                             .opus_pt = PT};
    fb_webrtc_answer ans;
    CHECK(fb_bridge_join_webrtc(b, k == 0 ? "badfp-offer" : "badfp-answer", 0, 1, &offer, &ans,
                                &bad_pids[k], err, sizeof err) == 0,
          "join: %s", err);
    fb_rtc_client_set_remote(x, ans.candidate_ip, ans.candidate_port, ans.ice_ufrag, ans.ice_pwd,
                             k == 0 ? ans.fingerprint : zero_fp, PT);
    uint64_t end = fb_now_ns() + 1500 * MS;
    while (fb_rtc_client_state(x) != FB_RTC_FAILED && fb_now_ns() < end) {
      fb_rtc_client_poll(x, fb_now_ns());
      struct pollfd pfd = {.fd = fb_rtc_client_fd(x), .events = POLLIN};
      if (poll(&pfd, 1, 5) > 0) fb_rtc_client_on_readable(x, fb_now_ns());
    }
    uint64_t ev_end = fb_now_ns() + 500 * MS;
    while (!event_time(bad_pids[k], "dtls_failed") && fb_now_ns() < ev_end) usleep(5000);
    printf("i) %s: client state %d (%s); bridge: dtls_failed %s, media_connected %s\n",
           k == 0 ? "offer fingerprint wrong" : "answer fingerprint wrong", fb_rtc_client_state(x),
           fb_rtc_client_error(x), event_time(bad_pids[k], "dtls_failed") ? "yes" : "no",
           event_time(bad_pids[k], "media_connected") ? "yes" : "no");
    CHECK(fb_rtc_client_state(x) == FB_RTC_FAILED, "mismatch %d: client fails", k);
    CHECK(
        event_time(bad_pids[k], "dtls_failed") != 0 && !event_time(bad_pids[k], "media_connected"),
        "mismatch %d: the bridge reports dtls_failed, never media_connected", k);
    fb_bridge_leave(b, bad_pids[k]);
    fb_rtc_client_free(x);
  }
  next_tick = fb_now_ns();

  /* ---- j) lost handshake datagrams: both retransmission timers ---- */
  {
    /* x[0] loses its ClientHello (the client's timer resends it); x[1]
     * loses its second flight (the bridge's timer resends its flight, or the
     * client's resends its own, whichever fires first). */
    fb_rtc_client *x[2] = {NULL, NULL};
    int xp[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
      x[k] = fb_rtc_client_new(ctx, "127.0.0.1", err, sizeof err);
      CHECK(x[k] != NULL, "client: %s", err);
      if (!x[k]) break;
      fb_webrtc_offer offer = {.ice_ufrag = fb_rtc_client_ufrag(x[k]),
                               .ice_pwd = fb_rtc_client_pwd(x[k]),
                               .fingerprint = fb_rtc_client_ctx_fingerprint(ctx),
                               .opus_pt = PT};
      fb_webrtc_answer ans;
      CHECK(fb_bridge_join_webrtc(b, k == 0 ? "lossy-hello" : "lossy-flight", 0, 1, &offer, &ans,
                                  &xp[k], err, sizeof err) == 0,
            "join: %s", err);
      fb_rtc_client_set_remote(x[k], ans.candidate_ip, ans.candidate_port, ans.ice_ufrag,
                               ans.ice_pwd, ans.fingerprint, PT);
      fb_rtc_client_drop_dtls(x[k], k, 1);
    }
    uint64_t end = fb_now_ns() + 4000 * MS;
    while (x[0] && x[1] && fb_now_ns() < end &&
           (fb_rtc_client_state(x[0]) != FB_RTC_CONNECTED ||
            fb_rtc_client_state(x[1]) != FB_RTC_CONNECTED || !stats_of(x[0]).rtp_packets_rx ||
            !stats_of(x[1]).rtp_packets_rx)) {
      struct pollfd pfd[2];
      for (int k = 0; k < 2; k++) {
        fb_rtc_client_poll(x[k], fb_now_ns());
        pfd[k] = (struct pollfd){.fd = fb_rtc_client_fd(x[k]), .events = POLLIN};
      }
      if (poll(pfd, 2, 5) > 0)
        for (int k = 0; k < 2; k++)
          if (pfd[k].revents & POLLIN) fb_rtc_client_on_readable(x[k], fb_now_ns());
    }
    for (int k = 0; k < 2 && x[k]; k++) {
      fb_rtc_client_stats st = stats_of(x[k]);
      printf(
          "j) %s: state %d, ICE+DTLS %lld ms, DTLS datagrams sent %llu / dropped %llu / "
          "received %llu, %llu RTP packets\n",
          k == 0 ? "ClientHello lost" : "second flight lost", fb_rtc_client_state(x[k]),
          (long long)st.dtls_ms, (unsigned long long)st.dtls_tx,
          (unsigned long long)st.dtls_dropped, (unsigned long long)st.dtls_rx,
          (unsigned long long)st.rtp_packets_rx);
      CHECK(fb_rtc_client_state(x[k]) == FB_RTC_CONNECTED && st.dtls_dropped == 1 &&
                st.rtp_packets_rx > 0,
            "lossy handshake %d recovers (%s)", k, fb_rtc_client_error(x[k]));
      fb_bridge_leave(b, xp[k]);
      fb_rtc_client_free(x[k]);
    }
    next_tick = fb_now_ns();
  }

  {
    enum { NK = 16 };
    fb_rtc_client *k_c[NK];
    int k_pid[NK], joined = 0;
    for (int k = 0; k < NK; k++) {
      k_c[k] = fb_rtc_client_new(ctx, "127.0.0.1", err, sizeof err);
      if (!k_c[k]) break;
      fb_webrtc_offer offer = {.ice_ufrag = fb_rtc_client_ufrag(k_c[k]),
                               .ice_pwd = fb_rtc_client_pwd(k_c[k]),
                               .fingerprint = fb_rtc_client_ctx_fingerprint(ctx),
                               .opus_pt = PT};
      fb_webrtc_answer ans;
      char name[16];
      snprintf(name, sizeof name, "k%02d", k);
      if (fb_bridge_join_webrtc(b, name, 0, 1, &offer, &ans, &k_pid[k], err, sizeof err) != 0) {
        fb_rtc_client_free(k_c[k]);
        break;
      }
      fb_rtc_client_set_remote(k_c[k], ans.candidate_ip, ans.candidate_port, ans.ice_ufrag,
                               ans.ice_pwd, ans.fingerprint, PT);
      joined++;
    }
    CHECK(joined == NK, "k) %d of %d joined (%s)", joined, NK, err);
    /* drive the clients until some have sent DTLS, then all leave at once */
    uint64_t end = fb_now_ns() + 1000 * MS;
    int in_dtls = 0;
    while (fb_now_ns() < end && in_dtls < joined / 2) {
      in_dtls = 0;
      for (int k = 0; k < joined; k++) {
        fb_rtc_client_poll(k_c[k], fb_now_ns());
        fb_rtc_client_on_readable(k_c[k], fb_now_ns());
        in_dtls += stats_of(k_c[k]).dtls_tx > 0;
      }
      usleep(1000);
    }
    uint64_t t_leave = fb_now_ns();
    for (int k = 0; k < joined; k++) fb_bridge_leave(b, k_pid[k]);
    /* the clients keep sending their flights into the void meanwhile */
    int released = 0;
    end = fb_now_ns() + 3000 * MS;
    while (released < joined && fb_now_ns() < end) {
      for (int k = 0; k < joined; k++) {
        fb_rtc_client_poll(k_c[k], fb_now_ns());
        fb_rtc_client_on_readable(k_c[k], fb_now_ns());
      }
      step();
      released = 0;
      for (int k = 0; k < joined; k++) released += event_time(k_pid[k], "media_released") != 0;
    }
    int late = 0;
    for (int k = 0; k < joined; k++) {
      uint64_t t = event_time(k_pid[k], "media_connected");
      late += t > t_leave;
    }
    printf("k) %d joined, %d in DTLS at the leave, %d released, %d connected after leaving\n",
           joined, in_dtls, released, late);
    CHECK(in_dtls > 0, "k) some handshakes were in flight at the leave");
    CHECK(released == joined, "k) every mid-handshake leave released (%d of %d)", released, joined);
    CHECK(late == 0, "k) no media_connected after a leave (%d)", late);
    for (int k = 0; k < joined; k++) fb_rtc_client_free(k_c[k]);
    next_tick = fb_now_ns();
    run_ms(600);
    long nb;
    const float *wb = window(&peers[L], pos(L) - 24000, pos(L), &nb);
    CHECK(wb && db(wb, nb, HZ_B) > PRESENT, "k) L still hears B (%.1f dB)",
          wb ? db(wb, nb, HZ_B) : -999.0);
  }

  /* a last stretch with B and C on the floor for the PA tail */
  run_ms(1500);
  char status[2048];
  fb_bridge_status_json(b, status, sizeof status);
  printf("status: %s\n", status);
  int dtls_failed = 0;
  pthread_mutex_lock(&ev_lock);
  for (int i = 0; i < nevents; i++)
    dtls_failed += strcmp(events[i].event, "dtls_failed") == 0 && events[i].pid != bad_pids[0] &&
                   events[i].pid != bad_pids[1];
  pthread_mutex_unlock(&ev_lock);
  CHECK(dtls_failed == 0, "no dtls_failed events (%d)", dtls_failed);
  fb_bridge_free(b); /* EOS: the PA file is finalised */

  float *pcm = NULL;
  long n = test_read_audio(pa, &pcm);
  CHECK(n > 48000 * 5, "PA file holds the meeting (%ld samples)", n);
  if (n > 48000 * 5) {
    long tail = 48000 * 2;
    const float *x = pcm + n - tail - 48000 / 2;
    printf("PA: A %.1f  B %.1f  C %.1f  O %.1f dB\n", db(x, tail, HZ_A), db(x, tail, HZ_B),
           db(x, tail, HZ_C), db(x, tail, HZ_O));
    CHECK(db(x, tail, HZ_B) > PRESENT && db(x, tail, HZ_C) > PRESENT, "PA has B and C");
    CHECK(db(x, tail, HZ_A) < ABSENT, "PA does not have the floor (%.1f dB)", db(x, tail, HZ_A));
    CHECK(db(x, tail, HZ_O) < ABSENT_O, "PA does not have the observer (%.1f dB)",
          db(x, tail, HZ_O));
  }
  free(pcm);

  for (int i = 0; i < NPEERS; i++) fb_rtc_client_free(peers[i].c);
  fb_rtc_client_ctx_free(ctx);
  unlink(pa);
  rmdir(dir);
  printf("total %.1f s\n", (fb_now_ns() - t_start) / 1e9);
  return CHECK_DONE();
}
