/*
 * test_cli.c — the floorbridge command line, run as a real process: help,
 * version, --check-config on the demo config and on broken files, --set,
 * usage errors and their exit codes. The bridge itself is not started here.
 *
 * Each run spawns $FB_BINARY with stdout and stderr redirected to temporary
 * files (no pipes, so a chatty child can never block), waits, and reads both.
 */
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

extern char **environ;

static const char *binary;
static char out[16384], errout[16384];

static void slurp(int fd, char *buf, size_t len) {
  lseek(fd, 0, SEEK_SET);
  ssize_t n = read(fd, buf, len - 1);
  buf[n > 0 ? n : 0] = '\0';
  close(fd);
}

/* Run the binary with the given arguments (NULL-terminated); returns the exit
 * status (or 128 + signal), with stdout in out and stderr in errout. */
static int run(const char *arg, ...) {
  char *argv[32] = {(char *)binary};
  int argc = 1;
  va_list ap;
  va_start(ap, arg);
  for (const char *a = arg; a && argc < 31; a = va_arg(ap, const char *)) argv[argc++] = (char *)a;
  va_end(ap);
  argv[argc] = NULL;

  char outpath[] = "/tmp/fb-cli-out-XXXXXX", errpath[] = "/tmp/fb-cli-err-XXXXXX";
  int ofd = mkstemp(outpath), efd = mkstemp(errpath);
  unlink(outpath);
  unlink(errpath);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, ofd, 1);
  posix_spawn_file_actions_adddup2(&fa, efd, 2);
  pid_t pid;
  int status = -1;
  int rc = posix_spawn(&pid, binary, &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  CHECK(rc == 0, "spawn %s: %s", binary, strerror(rc));
  if (rc == 0) waitpid(pid, &status, 0);
  slurp(ofd, out, sizeof out);
  slurp(efd, errout, sizeof errout);
  if (rc != 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Write text to a fresh temporary config; returns its path (static buffer). */
static const char *write_conf(const char *text) {
  static char path[64];
  strcpy(path, "/tmp/fb-cli-XXXXXX.conf");
  int fd = mkstemps(path, 5);
  CHECK(fd >= 0, "mkstemps");
  if (fd < 0) return "/nonexistent";
  size_t len = strlen(text);
  CHECK(write(fd, text, len) == (ssize_t)len, "write %s", path);
  close(fd);
  return path;
}

int main(void) {
  binary = getenv("FB_BINARY");
  const char *src = getenv("FB_SOURCE_DIR");
  if (!binary || !src || access(binary, X_OK) != 0) {
    fprintf(stderr, "test_cli: set FB_BINARY and FB_SOURCE_DIR (ctest does)\n");
    return 1;
  }
  char demo[1024], want[1200];
  snprintf(demo, sizeof demo, "%s/configs/demo.conf", src);

  int rc = run("--help", NULL);
  CHECK(rc == 0, "--help exit %d", rc);
  CHECK(strstr(out, "--check-config") && strstr(out, "--config") && strstr(out, "--set"),
        "--help text: %s", out);

  rc = run("--version", NULL);
  CHECK(rc == 0, "--version exit %d", rc);
  CHECK(strcmp(out, "floorbridge " FB_VERSION "\n") == 0, "--version printed '%s'", out);

  rc = run(NULL);
  CHECK(rc == 2, "no arguments: exit %d", rc);
  CHECK(strstr(errout, "usage:") && !out[0], "no arguments: usage on stderr: '%s'", errout);

  rc = run("--check-config", demo, NULL);
  CHECK(rc == 0, "demo.conf: exit %d, stderr: %s", rc, errout);
  snprintf(want, sizeof want, "%s: ok\n", demo);
  CHECK(strcmp(out, want) == 0, "demo.conf: stdout '%s'", out);

  rc = run("--check-config", demo, "--set", "mixer.bitrate=24000", "-s", "bridge.media_port=0",
           "--set", "participant.desk.remote=127.0.0.1:5004", NULL);
  CHECK(rc == 0, "demo.conf + --set: exit %d, stderr: %s", rc, errout);

  rc = run("--set", "mixer.bitrate=fast", "--check-config", demo, NULL);
  CHECK(rc == 2, "bad --set: exit %d", rc);
  CHECK(strstr(errout, "--set mixer.bitrate: ") && strstr(errout, "'fast'"), "bad --set: '%s'",
        errout);

  rc = run("--check-config", demo, "--set", "participant.desk.live=true", NULL);
  CHECK(rc == 2 && strstr(errout, "[participant desk]") && strstr(errout, "remote"),
        "participant without remote: exit %d, '%s'", rc, errout);

  const char *bad = write_conf("# a broken config\n[mixer]\ncomplexity = 5\nbitrate = fast\n");
  rc = run("--check-config", bad, NULL);
  CHECK(rc == 2, "bad file: exit %d", rc);
  snprintf(want, sizeof want, "%s:4: [mixer] bitrate: ", bad);
  CHECK(strstr(errout, want) != NULL, "bad file: want '%s' in '%s'", want, errout);
  CHECK(!out[0], "bad file: nothing on stdout: '%s'", out);
  unlink(bad);

  bad = write_conf(
      "[bridge]\nmedia_port = 40000\n[mixer]\nmax_live = 1\n"
      "[participant a]\nremote = 127.0.0.1:5000\nlive = yes\n"
      "[participant b]\nremote = 127.0.0.1:5002\nlive = yes\n");
  rc = run("--check-config", bad, NULL);
  CHECK(rc == 2 && strstr(errout, "max_live"), "too many live: exit %d, '%s'", rc, errout);
  unlink(bad);

  bad = write_conf("[mixer]\nbitrate = 24000\n");
  rc = run("--check-config", bad, "--log-level", "loud", NULL);
  CHECK(rc == 2 && strstr(errout, "--log-level"), "bad --log-level: exit %d, '%s'", rc, errout);
  rc = run("--check-config", bad, "--log-level", "debug", NULL);
  CHECK(rc == 0, "--log-level debug: exit %d, '%s'", rc, errout);
  unlink(bad);

  rc = run("--check-config", "/nonexistent/floorbridge.conf", NULL);
  CHECK(rc == 2 && strstr(errout, "/nonexistent/floorbridge.conf"), "missing file: %d '%s'", rc,
        errout);

  rc = run("--bogus", NULL);
  CHECK(rc == 2, "unknown option: exit %d", rc);
  rc = run("--check-config", NULL);
  CHECK(rc == 2, "--check-config without FILE: exit %d", rc);
  rc = run("--check-config", demo, "extra", NULL);
  CHECK(rc == 2 && strstr(errout, "extra"), "stray argument: exit %d '%s'", rc, errout);
  rc = run("--config", demo, "--check-config", demo, NULL);
  CHECK(rc == 2, "--config with --check-config: exit %d", rc);
  rc = run("--set", "mixer.bitrate=24000", NULL);
  CHECK(rc == 2, "--set alone: exit %d", rc);
  rc = run("frobnicate", NULL);
  CHECK(rc == 2 && strstr(errout, "unknown command 'frobnicate'"), "unknown command: %d '%s'", rc,
        errout);

  return CHECK_DONE();
}
