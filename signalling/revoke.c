/*
 * revoke.c — the revoked-token list (see revoke.h). A few hundred entries at
 * most in practice: a linear scan per join is plenty.
 */
#include "signalling/revoke.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/log.h"

typedef struct {
  int delegate; /* 1: matches a delegate id, 0: a token id */
  char id[128];
} entry;

struct fb_revoked {
  char path[512];
  struct timespec mtime;
  off_t size;
  ino_t ino; /* a file renamed into place is a new inode */
  int loaded;
  int unreadable; /* the last open failed (logged once) */
  entry *e;
  int n, cap;
};

fb_revoked *fb_revoked_new(const char *path) {
  fb_revoked *r = calloc(1, sizeof *r);
  if (r) snprintf(r->path, sizeof r->path, "%s", path);
  return r;
}

void fb_revoked_free(fb_revoked *r) {
  if (!r) return;
  free(r->e);
  free(r);
}

/* Read the file again if it changed: 1 when it did (or went away), else 0. */
static int reload(fb_revoked *r) {
  struct stat st;
  if (stat(r->path, &st) < 0) {
    int had = r->loaded;
    if (r->n)
      fb_log(FB_LOG_WARN, "signalling", "revoked_file %s is gone: nothing revoked", r->path);
    r->n = 0;
    r->loaded = 0;
    return had;
  }
  if (r->loaded && st.st_mtim.tv_sec == r->mtime.tv_sec && st.st_mtim.tv_nsec == r->mtime.tv_nsec &&
      st.st_size == r->size && st.st_ino == r->ino)
    return 0;
  FILE *f = fopen(r->path, "r");
  if (!f) {
    /* a file the bridge cannot read revokes nothing: say so loudly, once */
    if (!r->unreadable)
      fb_log(FB_LOG_ALERT, "signalling",
             "revoked_file %s cannot be read (%m): revocations in "
             "it are NOT applied; make it readable by the bridge's user",
             r->path);
    r->unreadable = 1;
    return 0;
  }
  r->unreadable = 0;
  r->n = 0;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    char *hash = strchr(line, '#');
    if (hash) *hash = 0;
    char *s = line;
    while (*s == ' ' || *s == '\t') s++;
    size_t len = strcspn(s, " \t\r\n");
    s[len] = 0;
    if (!*s) continue;
    entry e = {0};
    if (strncmp(s, "delegate:", 9) == 0) {
      e.delegate = 1;
      s += 9;
    } else if (strncmp(s, "jti:", 4) == 0) {
      s += 4;
    }
    if (!*s || strlen(s) >= sizeof e.id) continue;
    snprintf(e.id, sizeof e.id, "%s", s);
    if (r->n == r->cap) {
      r->cap = r->cap ? 2 * r->cap : 32;
      entry *grown = realloc(r->e, (size_t)r->cap * sizeof *grown);
      if (!grown) break;
      r->e = grown;
    }
    r->e[r->n++] = e;
  }
  fclose(f);
  r->mtime = st.st_mtim;
  r->size = st.st_size;
  r->ino = st.st_ino;
  r->loaded = 1;
  fb_log(FB_LOG_INFO, "signalling", "revoked_file %s: %d entries", r->path, r->n);
  return 1;
}

int fb_revoked_refresh(fb_revoked *r) {
  if (!r || !r->path[0]) return 0;
  return reload(r);
}

int fb_revoked_check(fb_revoked *r, const fb_token *t) {
  if (!r || !r->path[0]) return 0;
  reload(r);
  for (int i = 0; i < r->n; i++) {
    const entry *e = &r->e[i];
    if (e->delegate ? strcmp(e->id, t->delegate) == 0 : (t->jti[0] && strcmp(e->id, t->jti) == 0))
      return 1;
  }
  return 0;
}
