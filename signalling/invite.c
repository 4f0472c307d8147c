/*
 * invite.c — `floorbridge invite` (see invite.h for what it does).
 *
 * Three steps, in this order, so that a bad list or a failed write leaves
 * every file as it was: (1) read and check everything — the list, the
 * previous import, the revoked file — and decide each person's link; (2)
 * write each output beside its final name; (3) rename them into place, the
 * revocations first (a dropped delegate is locked out before anyone could
 * read a new list that no longer names them).
 */
#include "signalling/invite.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "signalling/registration.h"
#include "signalling/token.h"

#define MAX_LIST (16 << 20)       /* bytes: far above any meeting's registration list */
#define EARLIEST_ZONE (14 * 3600) /* UTC+14: where a day starts first */
#define LATEST_ZONE (12 * 3600)   /* UTC-12: where it ends last */
#define LATE_REQUEST (24 * 3600)  /* interactive participation asked for at least this ahead */
#define MARK "# floorbridge invite"

typedef struct {
  char id[64];
  char jti[17];
  char fp[17];
  int dropped;
  char *link;
  int seen; /* in the new list */
} issued;

typedef struct {
  issued *v;
  int n;
} issued_list;

typedef struct {
  const char *meeting, *csv, *out, *revoked, *secret_file;
  char url[1024]; /* --url without a trailing '/' */
  const char *from_s, *to_s;
  int allow_late;
  long long from, to, opens; /* nbf, exp; opens: the meeting's start for the 24 h rule */
} options;

/* ---- small file helpers ------------------------------------------------- */

/* The whole file, NUL-terminated, in *out (caller frees). 0, 1 when it does
 * not exist, -1 on any other error (printed). */
static int read_all(const char *path, char **out, size_t *len) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) {
    if (errno == ENOENT) return 1;
    fprintf(stderr, "invite: cannot open %s: %s\n", path, strerror(errno));
    return -1;
  }
  char *buf = malloc(MAX_LIST + 1);
  size_t n = buf ? fread(buf, 1, MAX_LIST + 1, f) : 0;
  int err = !buf || ferror(f);
  fclose(f);
  if (err || n > MAX_LIST) {
    fprintf(stderr, "invite: cannot read %s: %s\n", path, err ? "read error" : "larger than 16 MB");
    free(buf);
    return -1;
  }
  buf[n] = 0;
  *out = buf;
  *len = n;
  return 0;
}

/* A temporary file beside path. mode 0600, or (like != 0) the mode, owner
 * and group of path itself when it exists (else 0644): the revoked file is
 * read by the service's user, and replacing it must not lock that user out.
 * NULL on error (printed). */
static FILE *open_beside(const char *path, char *tmp, size_t cap, int like) {
  snprintf(tmp, cap, "%s.tmp%ld", path, (long)getpid());
  struct stat st;
  int have = like && stat(path, &st) == 0;
  mode_t mode = have ? st.st_mode & 07777 : like ? 0644 : 0600;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd >= 0 && have) {
    if (fchown(fd, st.st_uid, st.st_gid) < 0 && geteuid() == 0)
      fprintf(stderr, "invite: cannot keep the owner of %s: %s\n", path, strerror(errno));
    fchmod(fd, mode); /* open() applied the umask */
  }
  FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
  if (!f) {
    fprintf(stderr, "invite: cannot write %s: %s\n", tmp, strerror(errno));
    if (fd >= 0) close(fd);
  }
  return f;
}

/* Flush, sync and close; 0 or -1 (printed). */
static int finish(FILE *f, const char *tmp) {
  int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
  bad |= fclose(f) != 0;
  if (bad) fprintf(stderr, "invite: cannot write %s: %s\n", tmp, strerror(errno));
  return bad ? -1 : 0;
}

/* ---- the previous import ------------------------------------------------- */

static void issued_free(issued_list *l) {
  for (int i = 0; i < l->n; i++) free(l->v[i].link);
  free(l->v);
  memset(l, 0, sizeof *l);
}

/* issued.tsv: "# comment" lines, then ID TAB JTI TAB FP TAB issued|dropped TAB LINK. */
static int issued_load(const char *path, const char *meeting, issued_list *l) {
  char *text;
  size_t len;
  memset(l, 0, sizeof *l);
  int rc = read_all(path, &text, &len);
  if (rc) return rc > 0 ? 0 : -1;
  int lineno = 0;
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    lineno++;
    if (line[0] == '#') {
      char m[80];
      if (sscanf(line, "# meeting %79s", m) == 1 && strcmp(m, meeting) != 0) {
        fprintf(stderr, "invite: %s is the import of meeting %s, not %s (another --out?)\n", path,
                m, meeting);
        free(text);
        return -1;
      }
      continue;
    }
    char *f[5], *s2 = NULL;
    int nf = 0;
    for (char *t = strtok_r(line, "\t", &s2); t && nf < 5; t = strtok_r(NULL, "\t", &s2))
      f[nf++] = t;
    issued *grown = nf == 5 ? realloc(l->v, (size_t)(l->n + 1) * sizeof *grown) : NULL;
    if (!grown || strlen(f[0]) >= 64 || strlen(f[1]) >= 17 || strlen(f[2]) >= 17) {
      fprintf(stderr, "invite: %s:%d: not a line this command wrote (edit nothing in it)\n", path,
              lineno);
      free(text);
      return -1;
    }
    l->v = grown;
    issued *e = &l->v[l->n++];
    memset(e, 0, sizeof *e);
    snprintf(e->id, sizeof e->id, "%s", f[0]);
    snprintf(e->jti, sizeof e->jti, "%s", f[1]);
    snprintf(e->fp, sizeof e->fp, "%s", f[2]);
    e->dropped = strcmp(f[3], "dropped") == 0;
    e->link = strdup(f[4]);
    if (!e->link) {
      free(text);
      return -1;
    }
  }
  free(text);
  return 0;
}

static issued *issued_find(issued_list *l, const char *id) {
  for (int i = 0; i < l->n; i++)
    if (strcmp(l->v[i].id, id) == 0) return &l->v[i];
  return NULL;
}

/* ---- decisions ------------------------------------------------------------ */

/* What the token says of a person, hashed: equal fingerprints, same link. */
static void fingerprint(const fb_token *t, char out[17]) {
  char buf[512];
  int n = snprintf(buf, sizeof buf, "%s\n%s\n%d\n%lld\n%lld", t->name, fb_role_name(t->role),
                   t->speak, t->nbf, t->exp);
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256((const unsigned char *)buf, (size_t)n, md);
  for (int i = 0; i < 8; i++) snprintf(out + 2 * i, 3, "%02x", md[i]);
}

typedef struct {
  fb_reg_row *row;
  int listen_only; /* after the 24 h rule */
  int late;        /* downgraded by the 24 h rule */
  char jti[17];
  char fp[17];
  char *link;       /* owned */
  const char *what; /* "new", "unchanged", "changed", "back" */
} invitation;

static const char *iso(long long t, char *buf, size_t cap) {
  time_t tt = (time_t)t;
  struct tm tm;
  gmtime_r(&tt, &tm);
  strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

static int decide(const options *o, const char *secret, fb_reg_list *reg, issued_list *prev,
                  invitation *inv) {
  for (int i = 0; i < reg->nrows; i++) {
    fb_reg_row *r = &reg->rows[i];
    invitation *v = &inv[i];
    v->row = r;
    v->listen_only = !r->interactive;
    if (r->interactive && r->role == FB_ROLE_DELEGATE && r->requested_at &&
        r->requested_at > o->opens - LATE_REQUEST && !o->allow_late) {
      v->listen_only = 1;
      v->late = 1;
    }
    fb_token t;
    memset(&t, 0, sizeof t);
    snprintf(t.meeting, sizeof t.meeting, "%s", o->meeting);
    snprintf(t.delegate, sizeof t.delegate, "%s", r->id);
    snprintf(t.name, sizeof t.name, "%s", r->name);
    t.role = v->listen_only && r->role == FB_ROLE_DELEGATE ? FB_ROLE_OBSERVER : r->role;
    t.nbf = o->from;
    t.exp = o->to;
    fingerprint(&t, v->fp);
    issued *p = issued_find(prev, r->id);
    if (p) p->seen = 1;
    if (p && !p->dropped && strcmp(p->fp, v->fp) == 0) {
      v->what = "unchanged";
      snprintf(v->jti, sizeof v->jti, "%s", p->jti);
      v->link = strdup(p->link);
      if (!v->link) return -1;
      continue;
    }
    v->what = !p ? "new" : p->dropped ? "back" : "changed";
    if (fb_token_new_jti(t.jti)) {
      fprintf(stderr, "invite: no randomness for token ids\n");
      return -1;
    }
    memcpy(v->jti, t.jti, sizeof v->jti); /* 16 hex digits and the NUL */
    char jwt[FB_TOKEN_MAX + 1];
    if (fb_token_mint(secret, &t, jwt, sizeof jwt) != 0) {
      fprintf(stderr, "invite: %s:%d: could not sign a token for %s\n", o->csv, r->line, r->id);
      return -1;
    }
    size_t cap = strlen(o->url) + strlen(jwt) + 32;
    v->link = malloc(cap);
    if (!v->link) return -1;
    snprintf(v->link, cap, "%s%s#token=%s", o->url, r->role == FB_ROLE_CHAIR ? "/chair.html" : "/",
             jwt);
  }
  return 0;
}

/* ---- the revoked file --------------------------------------------------- */

/* Is line one of ours for this delegate ("delegate:ID  # floorbridge invite ...")? */
static int our_delegate_line(const char *line, const char *id) {
  size_t n = strlen(id);
  return strncmp(line, "delegate:", 9) == 0 && strncmp(line + 9, id, n) == 0 &&
         (line[9 + n] == ' ' || line[9 + n] == '\t') && strstr(line, MARK);
}

/* Write the new revoked file to tmp: the old lines (minus our lines for
 * delegates who are back), then what this import revokes. Returns the number
 * of revocations added, or -1. */
static int write_revoked(const options *o, const char *old, const invitation *inv, int ninv,
                         issued_list *prev, const char *tmp, FILE *f) {
  int added = 0;
  char today[32];
  iso((long long)time(NULL), today, sizeof today);
  for (const char *line = old; line && *line;) {
    const char *nl = strchr(line, '\n');
    size_t n = nl ? (size_t)(nl - line) : strlen(line);
    char *copy = strndup(line, n);
    if (!copy) return -1;
    int keep = 1;
    for (int i = 0; i < ninv && keep; i++)
      if (!strcmp(inv[i].what, "back") && our_delegate_line(copy, inv[i].row->id)) keep = 0;
    if (keep) fprintf(f, "%s\n", copy);
    free(copy);
    line = nl ? nl + 1 : NULL;
  }
  for (int i = 0; i < ninv; i++) {
    issued *p = issued_find(prev, inv[i].row->id);
    if (p && strcmp(inv[i].what, "unchanged") != 0) { /* changed or back: the old token goes */
      fprintf(f, "jti:%s  %s %s %s: %s's previous link\n", p->jti, MARK, o->meeting, today, p->id);
      added++;
    }
  }
  for (int i = 0; i < prev->n; i++)
    if (!prev->v[i].seen && !prev->v[i].dropped) {
      fprintf(f, "delegate:%s  %s %s %s: dropped from the registration list\n", prev->v[i].id, MARK,
              o->meeting, today);
      added++;
    }
  return finish(f, tmp) < 0 ? -1 : added;
}

/* ---- the outputs ----------------------------------------------------------- */

static void csv_field(FILE *f, const char *s, int last) {
  csv_fwrite(f, s, strlen(s));
  fputc(last ? '\n' : ',', f);
}

static int write_invitations(const options *o, const invitation *inv, int n, FILE *f,
                             const char *tmp) {
  char from[32], to[32];
  iso(o->from, from, sizeof from);
  iso(o->to, to, sizeof to);
  fputs("delegate_id,name,email,role,participation,valid_from,valid_until,link\n", f);
  for (int i = 0; i < n; i++) {
    const fb_reg_row *r = inv[i].row;
    csv_field(f, r->id, 0);
    csv_field(f, r->name, 0);
    csv_field(f, r->email, 0);
    csv_field(f, fb_role_name(r->role), 0);
    csv_field(f, inv[i].listen_only ? "listen-only" : "interactive", 0);
    csv_field(f, from, 0);
    csv_field(f, to, 0);
    csv_field(f, inv[i].link, 1);
  }
  return finish(f, tmp);
}

static int write_issued(const options *o, const invitation *inv, int n, issued_list *prev, FILE *f,
                        const char *tmp) {
  fprintf(f,
          "# meeting %s\n# written by floorbridge invite: the memory of the last import; "
          "do not edit\n",
          o->meeting);
  for (int i = 0; i < n; i++)
    fprintf(f, "%s\t%s\t%s\tissued\t%s\n", inv[i].row->id, inv[i].jti, inv[i].fp, inv[i].link);
  for (int i = 0; i < prev->n;
       i++) /* dropped: remembered, so that coming back revokes the old link */
    if (!prev->v[i].seen)
      fprintf(f, "%s\t%s\t%s\tdropped\t%s\n", prev->v[i].id, prev->v[i].jti, prev->v[i].fp,
              prev->v[i].link);
  return finish(f, tmp);
}

/* ---- options --------------------------------------------------------------- */

static void usage(FILE *f) {
  fprintf(f,
          "usage: floorbridge invite --meeting M --csv FILE --url https://HOST[:PORT]\n"
          "                          --from DATE --to DATE [--out DIR] [--revoked-file PATH]\n"
          "                          [--secret-file PATH] [--allow-late]\n"
          "  FILE     the registration list: UTF-8 CSV, header delegate_id,name,role,email,\n"
          "           participation[,requested_at] (example: configs/registrations.example.csv)\n"
          "  DATE     YYYY-MM-DD (the whole day, every time zone) or YYYY-MM-DDTHH:MM:SSZ\n"
          "  DIR      where invitations.csv (for the mail merge) and issued.tsv go\n"
          "           (default invitations-M)\n"
          "  PATH     --revoked-file: the meeting's [meeting] revoked_file, required when a\n"
          "           person was dropped or changed since the last import\n"
          "  The secret comes from --secret-file or FLOORBRIDGE_TOKEN_SECRET.\n");
}

static int parse_options(int argc, char **argv, options *o) {
  static const struct option opts[] = {
      {"meeting", required_argument, NULL, 'm'},
      {"csv", required_argument, NULL, 'c'},
      {"url", required_argument, NULL, 'u'},
      {"out", required_argument, NULL, 'o'},
      {"from", required_argument, NULL, 'f'},
      {"to", required_argument, NULL, 't'},
      {"revoked-file", required_argument, NULL, 'r'},
      {"secret-file", required_argument, NULL, 's'},
      {"allow-late", no_argument, NULL, 'L'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case 'm': o->meeting = optarg; break;
    case 'c': o->csv = optarg; break;
    case 'u': snprintf(o->url, sizeof o->url, "%s", optarg); break;
    case 'o': o->out = optarg; break;
    case 'f': o->from_s = optarg; break;
    case 't': o->to_s = optarg; break;
    case 'r': o->revoked = optarg; break;
    case 's': o->secret_file = optarg; break;
    case 'L': o->allow_late = 1; break;
    case 'h': usage(stdout); return 1;
    default: usage(stderr); return -1;
    }
  }
  if (optind < argc || !o->meeting || !o->csv || !o->url[0] || !o->from_s || !o->to_s) {
    fprintf(stderr, "invite: --meeting, --csv, --url, --from and --to are required\n");
    usage(stderr);
    return -1;
  }
  if (!o->meeting[0] || strlen(o->meeting) >= 64 || strpbrk(o->meeting, " \t\n/")) {
    fprintf(stderr, "invite: --meeting must be 1..63 bytes without spaces or '/'\n");
    return -1;
  }
  size_t ul = strlen(o->url);
  while (ul && o->url[ul - 1] == '/') ul--; /* "https://host/" and "https://host" alike */
  if ((strncmp(o->url, "https://", 8) != 0 && strncmp(o->url, "http://", 7) != 0) ||
      strpbrk(o->url, " \t\n#?")) {
    fprintf(stderr, "invite: --url must be the bridge's address, https://HOST[:PORT]\n");
    return -1;
  }
  o->url[ul] = 0;
  int from_day, to_day;
  if (fb_reg_parse_time(o->from_s, &o->from, &from_day) ||
      fb_reg_parse_time(o->to_s, &o->to, &to_day)) {
    fprintf(stderr, "invite: --from and --to must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ\n");
    return -1;
  }
  o->opens = o->from;
  if (from_day) o->from -= EARLIEST_ZONE;
  if (to_day) o->to += 86400 + LATEST_ZONE;
  if (o->to <= o->from || o->to - o->from > 366LL * 86400) {
    fprintf(stderr, "invite: --to must be after --from, and at most a year later\n");
    return -1;
  }
  return 0;
}

/* ---- the command --------------------------------------------------------- */

static void report(const options *o, const invitation *inv, int n, issued_list *prev, int revoked,
                   const char *dir) {
  int counts[4] = {0};
  static const char *const kinds[4] = {"new", "unchanged", "changed", "back"};
  for (int i = 0; i < n; i++) {
    for (int k = 0; k < 4; k++) counts[k] += strcmp(inv[i].what, kinds[k]) == 0;
    if (inv[i].late)
      printf(
          "%s:%d: %s asked for interactive participation less than 24 h before the meeting: "
          "invited listen-only (--allow-late to keep interactive)\n",
          o->csv, inv[i].row->line, inv[i].row->id);
    if (strcmp(inv[i].what, "unchanged") != 0)
      printf("%s:%d: %s %s (%s, %s)\n", o->csv, inv[i].row->line, inv[i].what, inv[i].row->id,
             fb_role_name(inv[i].row->role), inv[i].listen_only ? "listen-only" : "interactive");
  }
  for (int i = 0; i < prev->n; i++)
    if (!prev->v[i].seen && !prev->v[i].dropped)
      printf("revoked %s: no longer on the registration list\n", prev->v[i].id);
  printf(
      "%s: %d invitations (%d new, %d unchanged, %d changed, %d back), %d revocations; "
      "mail merge: %s/invitations.csv\n",
      o->meeting, n, counts[0], counts[1], counts[2], counts[3], revoked, dir);
}

int fb_invite_cli(int argc, char **argv) {
  options o;
  memset(&o, 0, sizeof o);
  int rc = parse_options(argc, argv, &o);
  if (rc) return rc > 0 ? 0 : 2;
  char dir[512], state[600], mails[600], rtmp[600], stmp[600], mtmp[600];
  if (o.out)
    snprintf(dir, sizeof dir, "%s", o.out);
  else
    snprintf(dir, sizeof dir, "invitations-%s", o.meeting);
  snprintf(state, sizeof state, "%s/issued.tsv", dir);
  snprintf(mails, sizeof mails, "%s/invitations.csv", dir);
  rtmp[0] = stmp[0] = mtmp[0] = 0;

  char secret[4097];
  char *list = NULL, *old_revoked = NULL;
  size_t len = 0, rlen = 0;
  fb_reg_list reg;
  issued_list prev;
  invitation *inv = NULL;
  memset(&reg, 0, sizeof reg);
  memset(&prev, 0, sizeof prev);
  int status = 2;

  /* (1) read and decide */
  if (fb_token_secret_load("invite", o.secret_file, secret, sizeof secret)) goto out;
  int r = read_all(o.csv, &list, &len);
  if (r) {
    if (r > 0) fprintf(stderr, "invite: %s: no such file\n", o.csv);
    goto out;
  }
  r = fb_reg_parse(list, len, &reg);
  if (r < 0) {
    fprintf(stderr, "invite: out of memory reading %s\n", o.csv);
    goto out;
  }
  if (r > 0) {
    for (int i = 0; i < reg.nproblems; i++)
      fprintf(stderr, "%s:%d: %s: %s\n", o.csv, reg.problems[i].line, reg.problems[i].code,
              reg.problems[i].message);
    fprintf(stderr, "invite: %d problem%s in %s; nothing written\n", reg.nproblems,
            reg.nproblems == 1 ? "" : "s", o.csv);
    goto out;
  }
  if (issued_load(state, o.meeting, &prev) < 0) goto out;
  inv = calloc((size_t)reg.nrows, sizeof *inv);
  if (!inv || decide(&o, secret, &reg, &prev, inv) < 0) goto out;
  int revocations = 0;
  for (int i = 0; i < reg.nrows; i++)
    revocations += issued_find(&prev, inv[i].row->id) && strcmp(inv[i].what, "unchanged") != 0;
  for (int i = 0; i < prev.n; i++) revocations += !prev.v[i].seen && !prev.v[i].dropped;
  if (revocations && !o.revoked) {
    fprintf(stderr,
            "invite: %d earlier link%s must be revoked (people dropped or changed since "
            "the last import): give --revoked-file, the meeting's [meeting] revoked_file; "
            "nothing written\n",
            revocations, revocations == 1 ? "" : "s");
    goto out;
  }
  if (o.revoked && read_all(o.revoked, &old_revoked, &rlen) < 0) goto out;

  /* (2) write beside */
  if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
    fprintf(stderr, "invite: cannot create %s: %s\n", dir, strerror(errno));
    goto out;
  }
  FILE *f;
  int added = 0;
  if (o.revoked) {
    if (!(f = open_beside(o.revoked, rtmp, sizeof rtmp, 1))) goto out;
    if ((added = write_revoked(&o, old_revoked, inv, reg.nrows, &prev, rtmp, f)) < 0) goto out;
  }
  if (!(f = open_beside(state, stmp, sizeof stmp, 0)) ||
      write_issued(&o, inv, reg.nrows, &prev, f, stmp) < 0)
    goto out;
  if (!(f = open_beside(mails, mtmp, sizeof mtmp, 0)) ||
      write_invitations(&o, inv, reg.nrows, f, mtmp) < 0)
    goto out;

  /* (3) into place: revocations first */
  if ((o.revoked && rename(rtmp, o.revoked) < 0) || rename(stmp, state) < 0 ||
      rename(mtmp, mails) < 0) {
    fprintf(stderr, "invite: cannot rename into %s: %s\n", dir, strerror(errno));
    goto out;
  }
  rtmp[0] = stmp[0] = mtmp[0] = 0;
  report(&o, inv, reg.nrows, &prev, added, dir);
  status = 0;
out:
  if (rtmp[0]) unlink(rtmp);
  if (stmp[0]) unlink(stmp);
  if (mtmp[0]) unlink(mtmp);
  for (int i = 0; inv && i < reg.nrows; i++) free(inv[i].link);
  free(inv);
  issued_free(&prev);
  fb_reg_free(&reg);
  free(list);
  free(old_revoked);
  OPENSSL_cleanse(secret, sizeof secret);
  return status;
}
