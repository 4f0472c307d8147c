/*
 * bridge.h — the assembled bridge: config -> GStreamer edges, net, mixer,
 * participants, control socket. main.c and the integration tests use only this.
 *
 * Participants are registered by name. Plain-RTP participants (room systems,
 * SIP gateways, the load and test tools) come from the config or are added at
 * run time (control socket, or this API).
 */
#ifndef FB_BRIDGE_H
#define FB_BRIDGE_H

#include <stddef.h>
#include "config/config.h"
#include "mixer/mixer.h"
#include "net/net.h"

typedef struct fb_bridge fb_bridge;

/* Build and start everything described by cfg. NULL with a message in err. */
fb_bridge *fb_bridge_new(const fb_config *cfg, char *err, size_t errlen);

/* Stop every thread, finalise outputs (EOS), free. */
void fb_bridge_free(fb_bridge *b);

/* Add a plain-RTP participant sending from / receiving at host:port.
 * Returns 0 or -1 with a message (duplicate name, address in use, full). */
int fb_bridge_add_rtp(fb_bridge *b, const char *name, const char *host, int port, int live, int pt,
                      char *err, size_t errlen);

/* Remove a participant by name. Returns 0 or -1 when unknown. */
int fb_bridge_remove(fb_bridge *b, const char *name);

/* Put a participant on the floor or back to listening. Returns 0 or -1 with a
 * message (unknown, too many live). */
int fb_bridge_set_live(fb_bridge *b, const char *name, int live, char *err, size_t errlen);

/* Write a one-line JSON status (ticks, missed, tick p50/p99, latency p50/p99,
 * participants, live, floor underruns/restarts, net counters) into buf. */
void fb_bridge_status_json(fb_bridge *b, char *buf, size_t len);

/* Write the participant list, one per line: "name live|listening rx tx". */
void fb_bridge_list(fb_bridge *b, char *buf, size_t len);

/* ---- browsers (WebRTC) ------------------------------------------------ */

/* What the bridge needs from a browser's SDP offer (parsed by signalling). */
typedef struct {
  const char *ice_ufrag;   /* the browser's a=ice-ufrag */
  const char *ice_pwd;     /* the browser's a=ice-pwd */
  const char *fingerprint; /* "sha-256 AB:CD:..." from a=fingerprint */
  int opus_pt;             /* the offer's payload type for opus/48000/2 */
  int audio_level_ext;     /* extmap id of ssrc-audio-level (RFC 6464), 0 if absent */
} fb_webrtc_offer;

/* What signalling needs to build the SDP answer. */
typedef struct {
  char ice_ufrag[16]; /* ours (ICE-lite) */
  char ice_pwd[32];
  char fingerprint[128]; /* "sha-256 AB:CD:..." of our DTLS certificate */
  char candidate_ip[64]; /* host candidate: the media port's public address */
  int candidate_port;
  uint32_t ssrc; /* our downlink SSRC */
} fb_webrtc_answer;

/* Add a browser participant. name is for logs and lists (made unique by the
 * caller, e.g. "delegate-id#7"). live: on the floor from the start. uplink: 0
 * for listen-only participants (observers): their uplink is dropped in the
 * transport, never decoded. On success fills *ans and *pid (the handle for
 * fb_bridge_leave) and returns 0; else -1 with "code: message" in err. Media
 * flows once the browser's ICE checks and DTLS handshake complete. */
int fb_bridge_join_webrtc(fb_bridge *b, const char *name, int live, int uplink,
                          const fb_webrtc_offer *offer, fb_webrtc_answer *ans, int *pid, char *err,
                          size_t errlen);

/* Remove a participant by handle (any transport). Returns 0 or -1 if unknown. */
int fb_bridge_leave(fb_bridge *b, int pid);

/* Put a participant on the floor / back to listening by handle. */
int fb_bridge_set_live_pid(fb_bridge *b, int pid, int live, char *err, size_t errlen);

/* Set a participant's media state by handle: FB_MEDIA_LISTEN, FB_MEDIA_LIVE
 * or FB_MEDIA_MEASURE (decoded and scored, never mixed: mic check, muted).
 * uplink = 0 drops the participant's uplink in the transport before any
 * decode (webcast-only sessions, observers) and forces LISTEN. Returns 0 or
 * -1 with "code: message" (unknown_participant, floor_full). */
int fb_bridge_set_media(fb_bridge *b, int pid, fb_media_state state, int uplink, char *err,
                        size_t errlen);

/* The latest quality score of a participant's uplink (valid == 0 when it has
 * not been decoded long enough, e.g. a listener). Returns 0 or -1 if unknown. */
int fb_bridge_quality(fb_bridge *b, int pid, fb_quality *out);

/* Prometheus text exposition (version 0.0.4) of the media counters: mixer
 * ticks, missed ticks, tick duration histogram, packets, uplink loss and
 * jitter, floor alerts, participants by media state. Appends to buf (at most
 * len bytes, NUL-terminated); returns bytes written. */
size_t fb_bridge_metrics(fb_bridge *b, char *buf, size_t len);

/* Events for the signalling layer, called on whichever bridge thread noticed
 * (net, gst), possibly with that thread's locks held: the callee must only
 * queue them for its own thread and must not call back into the bridge.
 * event is one of "ice_connected", "media_connected", "consent_lost",
 * "dtls_failed", "dtls_closed", "floor_lost", "floor_restored",
 * "output_error"; pid is 0 for meeting-wide events. */
typedef void (*fb_bridge_event_cb)(void *ud, int pid, const char *event, const char *detail);

/* Register the one event callback (NULL to clear). Callbacks are serialised;
 * when this returns, no call to the previous callback is in progress. */
void fb_bridge_set_event_cb(fb_bridge *b, fb_bridge_event_cb cb, void *ud);

/* True while the mixer ticks on time (for /healthz). */
int fb_bridge_healthy(fb_bridge *b);

/* The bound media port (useful with media_port = 0). */
int fb_bridge_media_port(fb_bridge *b);

/* The mixer (for tests and stats). */
fb_mixer *fb_bridge_mixer(fb_bridge *b);

/* Count of floor-lost alerts raised so far. */
int fb_bridge_floor_alerts(fb_bridge *b);

#endif
