/*
 * revoke.h — revoked tokens: a plain file the secretariat edits (one entry a
 * line: "jti:<token id>" or a bare token id for one token, "delegate:<id>"
 * for all of a delegate's tokens; '#' comments). Re-read whenever its
 * modification time, size or inode changes, so a leaked link can be revoked during
 * the meeting without a restart. Signalling thread only.
 */
#ifndef FB_REVOKE_H
#define FB_REVOKE_H

#include "signalling/token.h"

typedef struct fb_revoked fb_revoked;

/* Watch path (may not exist yet: then nothing is revoked). NULL on OOM. */
fb_revoked *fb_revoked_new(const char *path);

/* Free; NULL is allowed. */
void fb_revoked_free(fb_revoked *r);

/* Read the file again if it changed since the last look. 1 when it did
 * (so connected sessions should be checked again), 0 when not. The meeting
 * calls this once a second: a delegate revoked while connected is
 * disconnected within a second or two. */
int fb_revoked_refresh(fb_revoked *r);

/* 1 when t is revoked (by its jti or its delegate), else 0. Reloads the file
 * first if it changed. */
int fb_revoked_check(fb_revoked *r, const fb_token *t);

#endif
