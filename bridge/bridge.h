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
#include "bridge/config.h"
#include "bridge/mixer.h"
#include "bridge/net.h"

typedef struct fb_bridge fb_bridge;

/* Build and start everything described by cfg. NULL with a message in err. */
fb_bridge *fb_bridge_new(const fb_config *cfg, char *err, size_t errlen);

/* Stop every thread, finalise outputs (EOS), free. */
void fb_bridge_free(fb_bridge *b);

/* Add a plain-RTP participant sending from / receiving at host:port.
 * Returns 0 or -1 with a message (duplicate name, address in use, full). */
int fb_bridge_add_rtp(fb_bridge *b, const char *name, const char *host, int port, int live,
                      int pt, char *err, size_t errlen);

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

/* The bound media port (useful with media_port = 0). */
int fb_bridge_media_port(fb_bridge *b);

/* The mixer (for tests and stats). */
fb_mixer *fb_bridge_mixer(fb_bridge *b);

/* Count of floor-lost alerts raised so far. */
int fb_bridge_floor_alerts(fb_bridge *b);

#endif
