/*
 * reaper.h — frees participants that have left, once nothing can reach them.
 *
 * A participant that leaves is taken out of the bridge's registry, the
 * address map (fb_net_unroute) and the mixer (fb_mixer_remove_async) at once,
 * by the caller, without waiting. The net thread may still be handling the
 * batch that found it, and the tick may not have applied the removal yet, so
 * it is freed later: the reaper thread looks every few milliseconds whether
 * both have let go (fb_net_quiescent, fb_mixer_applied_seq) and then calls the
 * owner's release function (which frees the WebRTC state and the participant
 * and tells signalling). Nobody waits for the reaper: the signalling loop and
 * the control socket go on at once.
 */
#ifndef FB_REAPER_H
#define FB_REAPER_H

#include <stdint.h>

#include "mixer/mixer.h"
#include "net/net.h"
#include "mixer/participant.h"

typedef struct fb_reaper fb_reaper;

/* Called on the reaper thread (or in fb_reaper_free) once neither the net
 * thread nor the mixer can reach p: free it. */
typedef void (*fb_reaper_release_fn)(void *ud, fb_participant *p);

/* Start the reaper thread ("fb-reaper"). NULL when out of memory or no
 * thread could start. */
fb_reaper *fb_reaper_new(fb_net *net, fb_mixer *mixer, fb_reaper_release_fn fn, void *ud);

/* Any thread: release p once fb_net_quiescent(net_token) and
 * fb_mixer_applied_seq() >= mixer_seq. Never waits, never allocates (p's
 * own reap_* fields are the list node). */
void fb_reaper_add(fb_reaper *r, fb_participant *p, uint64_t net_token, uint64_t mixer_seq);

/* Participants waiting to be released. */
int fb_reaper_pending(fb_reaper *r);

/* Stop the thread and release everything still waiting. Only after the net
 * thread and the mixer have stopped (nothing can reach any of them then). */
void fb_reaper_free(fb_reaper *r);

#endif
