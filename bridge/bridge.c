/*
 * bridge.c — assembles the bridge from its config and owns the participant
 * registry (see bridge.h).
 *
 * Start order follows the data flow backwards so nothing produces into a
 * consumer that does not exist yet: GStreamer thread, outputs, floor input,
 * mixer, net, then the static participants and the control socket. Stop order
 * is the reverse, and the outputs get EOS last so recordings are complete.
 *
 * The registry (name -> participant) is guarded by one mutex; it is touched by
 * the control socket and the signalling thread — never by the tick. Joins go
 * through admit(), leaves through depart(): the participant leaves the
 * registry, the address map and the mixer's table at once, and the reaper
 * frees it once the net thread and the tick have let go, so no caller ever
 * waits for a tick. "media_released" tells signalling when that happened.
 */
#include "bridge/bridge.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/stat.h>
#include <math.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "bridge/control.h"
#include "util/log.h"
#include "media/media_io.h"
#include "bridge/reaper.h"
#include "util/textbuf.h"
#include "webrtc/webrtc.h"

struct fb_bridge {
  fb_config cfg;
  fb_gst *gst;
  fb_floor_input *floor;
  fb_output *pa;
  fb_output *rec;
  fb_output *webcast;
  fb_net *net;
  fb_mixer *mixer;
  fb_webrtc *rtc;
  fb_reaper *reaper;
  fb_control *ctl;

  pthread_mutex_t lock;
  fb_participant **parts;
  int nparts, capparts;
  int next_id;

  atomic_int floor_alerts;
  /* The event callback has its own lock: events are emitted from the net
   * thread while it holds the net lock, and b->lock is held around calls
   * that take the net lock, so sharing b->lock would invert the order. */
  pthread_mutex_t ev_lock;
  fb_bridge_event_cb event_cb; /* under ev_lock */
  void *event_ud;
};

/* The callback runs under ev_lock, so once fb_bridge_set_event_cb(NULL)
 * returns no callback is still running with the old data. */
static void emit(fb_bridge *b, int pid, const char *event, const char *detail) {
  pthread_mutex_lock(&b->ev_lock);
  if (b->event_cb) b->event_cb(b->event_ud, pid, event, detail ? detail : "");
  pthread_mutex_unlock(&b->ev_lock);
}

/* Control thread (the mixer's release hook): p is no longer decoded, so its
 * uplink queue goes too; fb_participant_want_uplink makes a new one when needed. */
static void release_uplink(void *ud, fb_participant *p) {
  fb_bridge *b = ud;
  fb_net_release_uplink(b->net, p);
}

/* Reaper thread (or fb_bridge_free): nothing can reach p any more. */
static void release_participant(void *ud, fb_participant *p) {
  fb_bridge *b = ud;
  int id = p->id;
  if (p->rtc) fb_webrtc_detach(b->rtc, p);
  fb_participant_free(p);
  if (id) emit(b, id, "media_released", "");
}

/* net thread: a browser's transport changed state. */
static void on_webrtc_event(void *ud, fb_participant *p, const char *event, const char *detail) {
  emit(ud, p->id, event, detail);
}

/* gst thread: media_io has already logged the alert itself. */
static void on_media_event(void *ud, fb_media_event ev, const char *detail) {
  fb_bridge *b = ud;
  switch (ev) {
  case FB_EV_FLOOR_LOST:
    atomic_fetch_add(&b->floor_alerts, 1);
    emit(b, 0, "floor_lost", detail);
    break;
  case FB_EV_FLOOR_STARTED: emit(b, 0, "floor_restored", detail); break;
  case FB_EV_OUTPUT_ERROR: emit(b, 0, "output_error", detail); break;
  }
}

/* With media bound to a wildcard and no [webrtc] public_ip, the ICE host
 * candidate is the address the default route leaves from: a UDP socket
 * "connected" to a documentation address (nothing is sent) reports it. That
 * is what browsers can reach on a server that is not behind NAT; behind NAT
 * only public_ip (or TURN) helps, so the choice is logged. No route (a
 * loopback-only host): 127.0.0.1, with a warning. */
static void choose_candidate(fb_config *cfg) {
  char ip[64];
  fb_config_candidate_ip(cfg, ip, sizeof ip);
  int v6 = strchr(cfg->bind, ':') != NULL;
  if (cfg->webrtc_public_ip[0] || (strcmp(cfg->bind, "0.0.0.0") && strcmp(cfg->bind, "::")))
    return; /* a configured or bound address is used as it is */
  struct sockaddr_storage ss = {0};
  socklen_t len = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
  if (v6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(9);
    inet_pton(AF_INET6, "2001:db8::1", &a->sin6_addr);
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    a->sin_family = AF_INET;
    a->sin_port = htons(9);
    inet_pton(AF_INET, "192.0.2.1", &a->sin_addr);
  }
  int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int ok = fd >= 0 && connect(fd, (struct sockaddr *)&ss, len) == 0 &&
           getsockname(fd, (struct sockaddr *)&ss, &len) == 0;
  if (fd >= 0) close(fd);
  const void *addr = v6 ? (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr
                        : (const void *)&((struct sockaddr_in *)&ss)->sin_addr;
  if (ok && inet_ntop(v6 ? AF_INET6 : AF_INET, addr, ip, sizeof ip)) {
    snprintf(cfg->webrtc_public_ip, sizeof cfg->webrtc_public_ip, "%s", ip);
    fb_log(FB_LOG_INFO, "bridge",
           "ICE host candidate %s (the default route's address; behind "
           "NAT set [webrtc] public_ip)",
           ip);
  } else {
    fb_log(FB_LOG_WARN, "bridge",
           "media binds %s but this host has no default route: browsers "
           "are offered %s, which only this machine reaches; set [webrtc] public_ip",
           cfg->bind, ip);
  }
}

fb_bridge *fb_bridge_new(const fb_config *cfg, char *err, size_t errlen) {
  fb_bridge *b = calloc(1, sizeof *b);
  if (!b) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  b->cfg = *cfg;
  choose_candidate(&b->cfg);
  pthread_mutex_init(&b->lock, NULL);
  pthread_mutex_init(&b->ev_lock, NULL);
  char e[512] = "";

  b->gst = fb_gst_start(on_media_event, b);
  if (!b->gst) {
    snprintf(err, errlen, "GStreamer could not start");
    goto fail;
  }
  if (cfg->pa_pipeline[0] &&
      !(b->pa = fb_output_new(b->gst, "pa", cfg->pa_pipeline, e, sizeof e))) {
    snprintf(err, errlen, "[pa] pipeline: %s", e);
    goto fail;
  }
  if (cfg->rec_pipeline[0] &&
      !(b->rec = fb_output_new(b->gst, "recording", cfg->rec_pipeline, e, sizeof e))) {
    snprintf(err, errlen, "[recording] pipeline: %s", e);
    goto fail;
  }
  if (cfg->floor_pipeline[0] &&
      !(b->floor = fb_floor_input_new(b->gst, cfg->floor_pipeline, cfg->floor_restart_ms,
                                      cfg->floor_stall_ms, e, sizeof e))) {
    snprintf(err, errlen, "[floor] pipeline: %s", e);
    goto fail;
  }

  fb_mixer_config mc = {
      .bitrate = cfg->bitrate,
      .complexity = cfg->complexity,
      .max_live = cfg->max_live,
      .max_participants = cfg->max_participants,
      .per_participant_encode = cfg->per_participant_encode,
      .jitter_max_ms = cfg->jitter_max_ms,
      .limiter_threshold = (float)pow(10.0, cfg->limiter_threshold_db / 20.0),
      .tick_cpu = cfg->tick_cpu,
      .tick_priority = cfg->tick_priority,
  };
  b->mixer = fb_mixer_new(&mc, b->floor, b->pa, b->rec);
  if (b->mixer && cfg->webcast_dir[0]) {
    /* The public webcast: the full mix as HLS (AAC in MPEG-TS, 2 s segments,
     * a 12 s live window) written where signalling serves /webcast/. */
    char desc[FB_PIPELINE_MAX + 256];
    if (mkdir(cfg->webcast_dir, 0755) < 0 && errno != EEXIST) {
      snprintf(err, errlen, "[webcast] dir '%s': %s", cfg->webcast_dir, strerror(errno));
      goto fail;
    }
    snprintf(desc, sizeof desc,
             "audio/x-raw,channels=2 ! voaacenc bitrate=96000 ! aacparse ! hlssink2 "
             "location=\"%s/segment%%05d.ts\" playlist-location=\"%s/index.m3u8\" "
             "target-duration=2 playlist-length=6 max-files=10",
             cfg->webcast_dir, cfg->webcast_dir);
    if (!(b->webcast = fb_output_new(b->gst, "webcast", desc, e, sizeof e))) {
      snprintf(err, errlen, "[webcast]: %s", e);
      goto fail;
    }
    fb_mixer_add_output(b->mixer, b->webcast);
  }
  if (!b->mixer || fb_mixer_start(b->mixer) < 0) {
    snprintf(err, errlen, "mixer could not start");
    goto fail;
  }
  b->net = fb_net_new(cfg->bind, cfg->media_port, e, sizeof e);
  if (!b->net) {
    snprintf(err, errlen, "%s", e);
    goto fail;
  }
  fb_mixer_set_release_hook(b->mixer, release_uplink, b);
  b->rtc = fb_webrtc_new(b->net, cfg->webrtc_consent_timeout_s, on_webrtc_event, b, e, sizeof e);
  if (!b->rtc) {
    snprintf(err, errlen, "WebRTC transport: %s", e);
    goto fail;
  }
  b->reaper = fb_reaper_new(b->net, b->mixer, release_participant, b);
  if (!b->reaper) {
    snprintf(err, errlen, "the reaper thread could not start");
    goto fail;
  }
  fb_net_start(b->net);

  for (int i = 0; i < cfg->n_participants; i++) {
    const fb_participant_config *pc = &cfg->participants[i];
    if (fb_bridge_add_rtp(b, pc->name, pc->host, pc->port, pc->live, pc->payload_type, e,
                          sizeof e) < 0) {
      snprintf(err, errlen, "[participant %s]: %s", pc->name, e);
      goto fail;
    }
  }
  if (cfg->control_socket[0] && !(b->ctl = fb_control_start(b, cfg->control_socket, e, sizeof e))) {
    snprintf(err, errlen, "control socket: %s", e);
    goto fail;
  }
  return b;

fail:
  fb_bridge_free(b);
  return NULL;
}

void fb_bridge_free(fb_bridge *b) {
  if (!b) return;
  if (b->ctl) fb_control_stop(b->ctl);
  if (b->net) fb_net_stop(b->net);
  fb_webrtc_stop(b->rtc);
  if (b->mixer) fb_mixer_stop(b->mixer);
  fb_reaper_free(b->reaper); /* releases whoever was still leaving */
  fb_mixer_free(b->mixer);
  for (int i = 0; i < b->nparts; i++) {
    if (b->parts[i]->rtc) fb_webrtc_detach(b->rtc, b->parts[i]);
    fb_participant_free(b->parts[i]);
  }
  fb_webrtc_free(b->rtc);
  free(b->parts);
  fb_net_free(b->net);
  if (b->floor) fb_floor_input_free(b->floor);
  if (b->pa) fb_output_free(b->pa);
  if (b->rec) fb_output_free(b->rec);
  if (b->webcast) fb_output_free(b->webcast);
  if (b->gst) fb_gst_stop(b->gst);
  pthread_mutex_destroy(&b->lock);
  pthread_mutex_destroy(&b->ev_lock);
  free(b);
}

/* Caller holds b->lock. */
static int find(fb_bridge *b, const char *name) {
  for (int i = 0; i < b->nparts; i++)
    if (strcmp(b->parts[i]->name, name) == 0) return i;
  return -1;
}

static int resolve(const char *host, int port, struct sockaddr_storage *out, socklen_t *outlen) {
  struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICSERV};
  struct addrinfo *ai = NULL;
  char ps[16];
  snprintf(ps, sizeof ps, "%d", port);
  if (getaddrinfo(host, ps, &hints, &ai) != 0 || !ai) return -1;
  memcpy(out, ai->ai_addr, ai->ai_addrlen);
  *outlen = ai->ai_addrlen;
  freeaddrinfo(ai);
  return 0;
}

/* The one way in: both transports' joins end here. p is new and not yet
 * routed (a plain-RTP p has its address set, a WebRTC p is attached but
 * unbound). Registers p under its unique name, routes a plain-RTP p by its
 * address, tells the transport whether to queue its uplink and queues it
 * for the mixer. On failure nothing of p is left registered or routed, and
 * the caller frees it. addr names a plain-RTP p's address in messages. */
static int admit(fb_bridge *b, fb_participant *p, int live, const char *addr, char *err,
                 size_t errlen) {
  int rc = -1, routed = 0;
  pthread_mutex_lock(&b->lock);
  if (b->nparts == b->capparts) {
    int cap = b->capparts ? 2 * b->capparts : 64;
    fb_participant **grown = realloc(b->parts, (size_t)cap * sizeof *grown);
    if (grown) b->parts = grown, b->capparts = cap;
  }
  if (b->nparts == b->capparts) {
    snprintf(err, errlen, "full: out of memory");
  } else if (find(b, p->name) >= 0) {
    snprintf(err, errlen, "duplicate: participant '%s' exists", p->name);
  } else if (!p->rtc && fb_net_add_peer(b->net, p) < 0) {
    snprintf(err, errlen, "duplicate: %s is already a participant's address", addr);
  } else {
    routed = !p->rtc;
    if (live) fb_participant_want_uplink(p, 1);
    if (fb_mixer_add(b->mixer, p, live) < 0) {
      snprintf(err, errlen, live ? "too_many_live: the floor is full" : "full: meeting is full");
    } else {
      p->id = ++b->next_id;
      b->parts[b->nparts++] = p;
      rc = 0;
    }
  }
  pthread_mutex_unlock(&b->lock);
  if (rc < 0 && routed) fb_net_remove_peer(b->net, p);
  return rc;
}

/* The one way out (p already taken out of the registry): stop routing to
 * it, take it out of the mix, and let the reaper free it. Never waits. */
static void depart(fb_bridge *b, fb_participant *p) {
  uint64_t token = fb_net_unroute(b->net, p);
  uint64_t seq = fb_mixer_remove_async(b->mixer, p);
  fb_reaper_add(b->reaper, p, token, seq);
}

static int check_name(const char *name, char *err, size_t errlen) {
  if (name[0] && strlen(name) < FB_NAME_MAX) return 0;
  snprintf(err, errlen, "bad_argument: name must be 1..%d characters", FB_NAME_MAX - 1);
  return -1;
}

int fb_bridge_add_rtp(fb_bridge *b, const char *name, const char *host, int port, int live, int pt,
                      char *err, size_t errlen) {
  if (check_name(name, err, errlen) < 0) return -1;
  if (port <= 0 || port > 65535 || pt < 96 || pt > 127) {
    snprintf(err, errlen, "bad_argument: port 1..65535 and payload type 96..127");
    return -1;
  }
  fb_participant *p = fb_participant_new(name, pt, fb_net_transport(b->net));
  if (!p) {
    snprintf(err, errlen, "full: out of memory");
    return -1;
  }
  if (resolve(host, port, &p->addr, &p->addrlen) < 0) {
    snprintf(err, errlen, "bad_argument: cannot resolve '%s'", host);
    fb_participant_free(p);
    return -1;
  }
  char addr[300];
  snprintf(addr, sizeof addr, "%s:%d", host, port);
  if (admit(b, p, live, addr, err, errlen) < 0) {
    fb_participant_free(p);
    return -1;
  }
  fb_log(FB_LOG_INFO, "bridge", "participant %s joined over RTP from %s:%d (%s)", name, host, port,
         live ? "live" : "listening");
  return 0;
}

/* Take the participant at registry index i out (b->lock held). */
static fb_participant *unregister(fb_bridge *b, int i) {
  fb_participant *p = b->parts[i];
  b->parts[i] = b->parts[--b->nparts];
  return p;
}

int fb_bridge_remove(fb_bridge *b, const char *name) {
  pthread_mutex_lock(&b->lock);
  int i = find(b, name);
  fb_participant *p = i >= 0 ? unregister(b, i) : NULL;
  pthread_mutex_unlock(&b->lock);
  if (!p) return -1;
  depart(b, p);
  fb_log(FB_LOG_INFO, "bridge", "participant %s left", name);
  return 0;
}

int fb_bridge_set_live(fb_bridge *b, const char *name, int live, char *err, size_t errlen) {
  pthread_mutex_lock(&b->lock);
  int i = find(b, name);
  if (i < 0) {
    pthread_mutex_unlock(&b->lock);
    snprintf(err, errlen, "unknown_participant: no participant '%s'", name);
    return -1;
  }
  fb_participant *p = b->parts[i];
  if (live) fb_participant_want_uplink(p, 1);
  int rc = fb_mixer_set_live(b->mixer, p, live);
  if (rc < 0) {
    fb_participant_want_uplink(p, 0);
    snprintf(err, errlen, "too_many_live: at most %d participants may be live", b->cfg.max_live);
  } else if (!live) {
    fb_participant_want_uplink(p, 0);
  }
  pthread_mutex_unlock(&b->lock);
  if (rc == 0)
    fb_log(FB_LOG_INFO, "bridge", "participant %s %s", name, live ? "is live" : "is listening");
  return rc;
}

void fb_bridge_status_json(fb_bridge *b, char *buf, size_t len) {
  fb_mixer_stats st;
  fb_mixer_get_stats(b->mixer, &st);
  fb_net_stats ns;
  fb_net_get_stats(b->net, &ns);
  uint64_t under = 0, restarts = 0, dropped = 0;
  if (b->floor) fb_floor_input_stats(b->floor, &under, &restarts, &dropped);
  snprintf(buf, len,
           "{\"ticks\":%llu,\"missed_ticks\":%llu,\"tick_p50_us\":%.1f,\"tick_p99_us\":%.1f,"
           "\"tick_max_us\":%.1f,\"latency_p50_ms\":%.2f,\"latency_p99_ms\":%.2f,"
           "\"latency_samples\":%llu,\"participants\":%d,\"live\":%d,\"encodes\":%llu,"
           "\"packets_sent\":%llu,\"floor_underruns\":%llu,\"floor_restarts\":%llu,"
           "\"floor_alerts\":%d,\"rx_datagrams\":%llu,\"rx_unknown_source\":%llu,"
           "\"rx_malformed\":%llu,\"tx_errors\":%llu,\"healthy\":%s}",
           (unsigned long long)st.ticks, (unsigned long long)st.missed_ticks,
           fb_hist_quantile(&st.tick_ns, 0.5) / 1e3, fb_hist_quantile(&st.tick_ns, 0.99) / 1e3,
           st.tick_ns.max_ns / 1e3, fb_hist_quantile(&st.latency_ns, 0.5) / 1e6,
           fb_hist_quantile(&st.latency_ns, 0.99) / 1e6, (unsigned long long)st.latency_ns.count,
           st.participants, st.live, (unsigned long long)st.encodes,
           (unsigned long long)st.packets_sent, (unsigned long long)under,
           (unsigned long long)restarts, atomic_load(&b->floor_alerts),
           (unsigned long long)ns.rx_datagrams, (unsigned long long)ns.rx_unknown_source,
           (unsigned long long)ns.rx_malformed, (unsigned long long)ns.tx_errors,
           fb_mixer_healthy(b->mixer) ? "true" : "false");
}

void fb_bridge_list(fb_bridge *b, char *buf, size_t len) {
  size_t off = 0;
  buf[0] = 0;
  pthread_mutex_lock(&b->lock);
  for (int i = 0; i < b->nparts && off + 1 < len; i++) {
    fb_participant *p = b->parts[i];
    int n = snprintf(buf + off, len - off, "%s%s %s rx=%llu tx=%llu", off ? "\n" : "", p->name,
                     atomic_load(&p->want_uplink) ? "live" : "listening",
                     (unsigned long long)atomic_load(&p->rx_packets),
                     (unsigned long long)__atomic_load_n(&p->tx_packets, __ATOMIC_RELAXED));
    if (n < 0) break;
    off += (size_t)n;
  }
  pthread_mutex_unlock(&b->lock);
  if (off >= len) buf[len - 1] = 0;
}

int fb_bridge_media_port(fb_bridge *b) { return fb_net_port(b->net); }

fb_mixer *fb_bridge_mixer(fb_bridge *b) { return b->mixer; }

int fb_bridge_floor_alerts(fb_bridge *b) { return atomic_load(&b->floor_alerts); }

/* ---- browsers (WebRTC) --------------------------------------------------- */

int fb_bridge_join_webrtc(fb_bridge *b, const char *name, int live, int uplink,
                          const fb_webrtc_offer *offer, fb_webrtc_answer *ans, int *pid, char *err,
                          size_t errlen) {
  if (check_name(name, err, errlen) < 0) return -1;
  if (offer->opus_pt < 96 || offer->opus_pt > 127) {
    snprintf(err, errlen, "no_audio: Opus payload type %d is not dynamic", offer->opus_pt);
    return -1;
  }
  if (!uplink) live = 0; /* listen-only participants never reach the mix */
  fb_participant *p = fb_participant_new(name, offer->opus_pt, fb_webrtc_transport(b->rtc));
  if (!p) {
    snprintf(err, errlen, "full: out of memory");
    return -1;
  }
  memset(ans, 0, sizeof *ans);
  if (fb_webrtc_attach(b->rtc, p, offer->ice_ufrag, offer->fingerprint, offer->audio_level_ext,
                       ans->ice_ufrag, sizeof ans->ice_ufrag, ans->ice_pwd, sizeof ans->ice_pwd,
                       err, errlen) < 0) {
    fb_participant_free(p);
    return -1;
  }
  if (admit(b, p, live, NULL, err, errlen) < 0) {
    /* its STUN user exists: a check may be in the batch being handled */
    fb_net_remove_peer(b->net, p);
    fb_webrtc_detach(b->rtc, p);
    fb_participant_free(p);
    return -1;
  }
  snprintf(ans->fingerprint, sizeof ans->fingerprint, "%s", fb_webrtc_fingerprint(b->rtc));
  fb_config_candidate_ip(&b->cfg, ans->candidate_ip, sizeof ans->candidate_ip);
  ans->candidate_port = fb_net_port(b->net);
  ans->ssrc = p->ssrc;
  *pid = p->id;
  fb_log(FB_LOG_INFO, "bridge", "participant %s joining over WebRTC (%s)", name,
         live     ? "live"
         : uplink ? "listening"
                  : "listen-only");
  return 0;
}

int fb_bridge_leave(fb_bridge *b, int pid) {
  fb_participant *p = NULL;
  pthread_mutex_lock(&b->lock);
  for (int i = 0; i < b->nparts && !p; i++)
    if (b->parts[i]->id == pid) p = unregister(b, i);
  pthread_mutex_unlock(&b->lock);
  if (!p) return -1;
  char name[FB_NAME_MAX];
  snprintf(name, sizeof name, "%s", p->name); /* p is the reaper's after depart */
  depart(b, p);
  fb_log(FB_LOG_INFO, "bridge", "participant %s left", name);
  return 0;
}

int fb_bridge_set_live_pid(fb_bridge *b, int pid, int live, char *err, size_t errlen) {
  pthread_mutex_lock(&b->lock);
  char name[FB_NAME_MAX] = "";
  for (int i = 0; i < b->nparts; i++)
    if (b->parts[i]->id == pid) snprintf(name, sizeof name, "%s", b->parts[i]->name);
  pthread_mutex_unlock(&b->lock);
  if (!name[0]) {
    snprintf(err, errlen, "unknown_participant: no participant %d", pid);
    return -1;
  }
  return fb_bridge_set_live(b, name, live, err, errlen);
}

void fb_bridge_set_event_cb(fb_bridge *b, fb_bridge_event_cb cb, void *ud) {
  pthread_mutex_lock(&b->ev_lock);
  b->event_cb = cb;
  b->event_ud = ud;
  pthread_mutex_unlock(&b->ev_lock);
}

int fb_bridge_healthy(fb_bridge *b) { return fb_mixer_healthy(b->mixer); }

/* Caller holds b->lock. */
static fb_participant *find_pid(fb_bridge *b, int pid) {
  for (int i = 0; i < b->nparts; i++)
    if (b->parts[i]->id == pid) return b->parts[i];
  return NULL;
}

int fb_bridge_set_media(fb_bridge *b, int pid, fb_media_state state, int uplink, char *err,
                        size_t errlen) {
  pthread_mutex_lock(&b->lock);
  fb_participant *p = find_pid(b, pid);
  if (!p) {
    pthread_mutex_unlock(&b->lock);
    snprintf(err, errlen, "unknown_participant: no participant %d", pid);
    return -1;
  }
  if (!uplink) state = FB_MEDIA_LISTEN;
  int rc = fb_mixer_set_state(b->mixer, p, state);
  if (rc < 0)
    snprintf(err, errlen, "floor_full: at most %d participants may be live", b->cfg.max_live);
  else
    fb_participant_want_uplink(p, state != FB_MEDIA_LISTEN && uplink);
  pthread_mutex_unlock(&b->lock);
  return rc;
}

int fb_bridge_quality(fb_bridge *b, int pid, fb_quality *out) {
  pthread_mutex_lock(&b->lock);
  fb_participant *p = find_pid(b, pid);
  if (p) fb_participant_quality(p, out);
  pthread_mutex_unlock(&b->lock);
  return p ? 0 : -1;
}

size_t fb_bridge_metrics(fb_bridge *b, char *buf, size_t len) {
  fb_mixer_stats st;
  fb_mixer_get_stats(b->mixer, &st);
  fb_net_stats ns;
  fb_net_get_stats(b->net, &ns);
  uint64_t under = 0, restarts = 0, dropped = 0;
  if (b->floor) fb_floor_input_stats(b->floor, &under, &restarts, &dropped);
  size_t off = 0;
#define OUT(...) fb_appendf(buf, len, &off, __VA_ARGS__)
  OUT("# HELP floorbridge_mixer_ticks_total Mixer ticks run.\n"
      "# TYPE floorbridge_mixer_ticks_total counter\nfloorbridge_mixer_ticks_total %llu\n",
      (unsigned long long)st.ticks);
  OUT("# HELP floorbridge_mixer_missed_ticks_total Ticks skipped because the mixer ran late.\n"
      "# TYPE floorbridge_mixer_missed_ticks_total counter\n"
      "floorbridge_mixer_missed_ticks_total %llu\n",
      (unsigned long long)st.missed_ticks);
  OUT("# HELP floorbridge_mixer_tick_seconds Work per tick.\n"
      "# TYPE floorbridge_mixer_tick_seconds histogram\n");
  static const double bounds[] = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05};
  for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++) {
    /* ticks whose bucket lies wholly at or below the bound */
    uint64_t c = 0;
    for (int k = 0; k < FB_HIST_BUCKETS; k++)
      if ((double)fb_hist_bucket_upper_ns(k) / 1e9 <= bounds[i]) c += st.tick_ns.buckets[k];
    OUT("floorbridge_mixer_tick_seconds_bucket{le=\"%g\"} %llu\n", bounds[i],
        (unsigned long long)c);
  }
  OUT("floorbridge_mixer_tick_seconds_bucket{le=\"+Inf\"} %llu\n"
      "floorbridge_mixer_tick_seconds_sum %.6f\nfloorbridge_mixer_tick_seconds_count %llu\n",
      (unsigned long long)st.tick_ns.count, st.tick_ns.sum_ns / 1e9,
      (unsigned long long)st.tick_ns.count);
  OUT("# HELP floorbridge_bridge_latency_seconds Uplink arrival to the downlink send carrying it.\n"
      "# TYPE floorbridge_bridge_latency_seconds summary\n"
      "floorbridge_bridge_latency_seconds{quantile=\"0.5\"} %.6f\n"
      "floorbridge_bridge_latency_seconds{quantile=\"0.99\"} %.6f\n",
      fb_hist_quantile(&st.latency_ns, 0.5) / 1e9, fb_hist_quantile(&st.latency_ns, 0.99) / 1e9);
  OUT("# TYPE floorbridge_packets_sent_total counter\nfloorbridge_packets_sent_total %llu\n",
      (unsigned long long)st.packets_sent);
  OUT("# TYPE floorbridge_encodes_total counter\nfloorbridge_encodes_total %llu\n",
      (unsigned long long)st.encodes);
  OUT("# TYPE floorbridge_datagrams_received_total counter\n"
      "floorbridge_datagrams_received_total %llu\n",
      (unsigned long long)ns.rx_datagrams);
  OUT("# TYPE floorbridge_datagrams_dropped_total counter\n"
      "floorbridge_datagrams_dropped_total{reason=\"unknown_source\"} %llu\n"
      "floorbridge_datagrams_dropped_total{reason=\"malformed\"} %llu\n"
      "floorbridge_datagrams_dropped_total{reason=\"dtls_queue_full\"} %llu\n",
      (unsigned long long)ns.rx_unknown_source, (unsigned long long)ns.rx_malformed,
      (unsigned long long)(b->rtc ? fb_webrtc_dtls_dropped(b->rtc) : 0));
  OUT("# TYPE floorbridge_send_errors_total counter\nfloorbridge_send_errors_total %llu\n",
      (unsigned long long)ns.tx_errors);
  OUT("# HELP floorbridge_dtls_states Browsers still holding DTLS handshake state.\n"
      "# TYPE floorbridge_dtls_states gauge\nfloorbridge_dtls_states %d\n",
      b->rtc ? fb_webrtc_dtls_states(b->rtc) : 0);
  OUT("# TYPE floorbridge_floor_alerts_total counter\nfloorbridge_floor_alerts_total %d\n"
      "# TYPE floorbridge_floor_underruns_total counter\nfloorbridge_floor_underruns_total %llu\n",
      atomic_load(&b->floor_alerts), (unsigned long long)under);
  /* per-state counts and uplink loss/jitter over the decoded participants */
  int n_listen = 0, n_decoding = 0;
  double loss_sum = 0, jitter_sum = 0;
  int scored = 0;
  pthread_mutex_lock(&b->lock);
  for (int i = 0; i < b->nparts; i++) {
    fb_participant *p = b->parts[i];
    fb_quality q;
    fb_participant_quality(p, &q);
    int want = atomic_load(&p->want_uplink);
    if (want)
      n_decoding++;
    else
      n_listen++;
    if (q.valid && want) {
      loss_sum += q.loss_pct;
      jitter_sum += q.jitter_ms;
      scored++;
    }
  }
  pthread_mutex_unlock(&b->lock);
  OUT("# HELP floorbridge_media_participants Participants by media state (decoding = live or mic check).\n"
      "# TYPE floorbridge_media_participants gauge\n"
      "floorbridge_media_participants{media=\"listening\"} %d\n"
      "floorbridge_media_participants{media=\"decoding\"} %d\n",
      n_listen, n_decoding);
  OUT("# TYPE floorbridge_uplink_loss_percent gauge\nfloorbridge_uplink_loss_percent %.3f\n"
      "# TYPE floorbridge_uplink_jitter_ms gauge\nfloorbridge_uplink_jitter_ms %.3f\n",
      scored ? loss_sum / scored : 0, scored ? jitter_sum / scored : 0);
#undef OUT
  return off < len ? off : len - 1;
}
