/*
 * turn.h — TURN REST credentials (draft-uberti-behave-turn-rest, as coturn's
 * use-auth-secret implements it) and the "ice_servers" list of "joined".
 *
 *   username   = "<unix expiry>:<delegate>"     expiry = now + ttl
 *   credential = base64(HMAC-SHA1(secret, username))
 *
 * The TURN server holds the same secret and checks the HMAC and the expiry;
 * nothing is stored per delegate. Thread-safe.
 */
#ifndef FB_TURN_H
#define FB_TURN_H

#include <jansson.h>
#include <stddef.h>

/* base64(HMAC-SHA1(secret, username)) into out (at least 29 bytes). 0 or -1. */
int fb_turn_credential(const char *secret, const char *username, char *out, size_t outlen);

/* The RTCPeerConnection iceServers for one delegate: [] when urls is empty;
 * [{"urls": [...]}] when there is no secret (stun: only); else
 * [{"urls": [...], "username": .., "credential": ..}]. urls is
 * comma-separated (blanks around entries ignored). A new reference, or NULL
 * when out of memory. */
json_t *fb_turn_ice_servers(const char *urls, const char *secret, int ttl_s, const char *delegate,
                            long long now);

#endif
