/*
 * test_demo_run — the real binary with configs/demo.conf (outputs redirected
 * into a temp folder with --set): it starts, answers on the control socket,
 * takes a plain-RTP participant at run time, refuses bad commands with stable
 * codes, stops cleanly on SIGTERM, and leaves a finalised recording that
 * carries the synthetic speech-like floor.
 */
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audio_file.h"
#include "check.h"
#include "codecs/levels.h"

extern char **environ;

static int ctl(const char *path, const char *cmd, char *reply, size_t len) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    close(fd);
    return -1;
  }
  char line[512];
  snprintf(line, sizeof line, "%s\n", cmd);
  if (write(fd, line, strlen(line)) < 0) {
    close(fd);
    return -1;
  }
  size_t n = 0;
  while (n + 1 < len) {
    ssize_t r = read(fd, reply + n, len - 1 - n);
    if (r <= 0) break;
    n += (size_t)r;
    if (reply[n - 1] == '\n') break;
  }
  reply[n] = 0;
  close(fd);
  return 0;
}

int main(void) {
  const char *bin = getenv("FB_BINARY"), *src = getenv("FB_SOURCE_DIR");
  if (!bin || !src) {
    fprintf(stderr, "FB_BINARY and FB_SOURCE_DIR must be set (ctest sets them)\n");
    return 1;
  }
  gst_init(NULL, NULL);
  char dir[] = "/tmp/fb-demo-XXXXXX";
  if (!mkdtemp(dir)) return 1;
  char conf[512], sock[256], rec[256], pa[256], set_sock[300], set_rec[400], set_pa[400];
  snprintf(conf, sizeof conf, "%s/configs/demo.conf", src);
  snprintf(sock, sizeof sock, "%s/ctl.sock", dir);
  snprintf(rec, sizeof rec, "%s/rec.ogg", dir);
  snprintf(pa, sizeof pa, "%s/pa.wav", dir);
  snprintf(set_sock, sizeof set_sock, "bridge.control_socket=%s", sock);
  snprintf(set_rec, sizeof set_rec,
           "recording.pipeline=opusenc bitrate=64000 ! oggmux ! filesink location=%s", rec);
  snprintf(set_pa, sizeof set_pa, "pa.pipeline=wavenc ! filesink location=%s", pa);
  char *argv[] = {(char *)bin,
                  "--config",
                  conf,
                  "--set",
                  set_sock,
                  "--set",
                  set_rec,
                  "--set",
                  set_pa,
                  "--set",
                  "bridge.media_port=0",
                  "--set",
                  "signalling.port=0",
                  NULL};
  pid_t pid;
  CHECK(posix_spawn(&pid, bin, NULL, NULL, argv, environ) == 0, "spawned %s", bin);

  char reply[2048] = "";
  int up = 0;
  for (int i = 0; i < 100 && !up; i++) {
    usleep(50000);
    up = ctl(sock, "status", reply, sizeof reply) == 0;
  }
  CHECK(up, "control socket answers");
  sleep(2);
  ctl(sock, "status", reply, sizeof reply);
  printf("status: %s", reply);
  CHECK(strncmp(reply, "ok {", 4) == 0 && strstr(reply, "\"healthy\":true"), "healthy status");
  ctl(sock, "add gw1 127.0.0.1:5999 listen", reply, sizeof reply);
  CHECK(strncmp(reply, "ok added gw1", 12) == 0, "add at run time: %s", reply);
  ctl(sock, "add gw1 127.0.0.1:5998", reply, sizeof reply);
  CHECK(strncmp(reply, "error duplicate", 15) == 0, "duplicate name refused: %s", reply);
  ctl(sock, "live nobody on", reply, sizeof reply);
  CHECK(strncmp(reply, "error unknown_participant", 25) == 0, "unknown refused: %s", reply);
  ctl(sock, "frobnicate", reply, sizeof reply);
  CHECK(strncmp(reply, "error bad_command", 17) == 0, "bad command refused: %s", reply);
  ctl(sock, "list", reply, sizeof reply);
  CHECK(strncmp(reply, "ok 1: gw1 listening rx=", 23) == 0 && strstr(reply, " tx=") != NULL,
        "listed: %s", reply);
  ctl(sock, "remove gw1", reply, sizeof reply);
  CHECK(strncmp(reply, "ok removed", 10) == 0, "removed: %s", reply);

  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "clean exit on SIGTERM (status %d)", status);
  CHECK(access(sock, F_OK) != 0, "control socket removed on exit");

  float *pcm = NULL;
  long n = test_read_audio(rec, &pcm);
  CHECK(n > 48000, "recording decodes (%ld samples)", n);
  if (n > 48000) {
    double level = fb_level_dbfs(pcm, (int)n);
    printf("recording level %.1f dBFS over %.2f s\n", level, n / 48000.0);
    CHECK(level > -45 && level < -3, "the speech-like floor is in the recording (%.1f dBFS)",
          level);
  }
  free(pcm);
  unlink(rec);
  unlink(pa);
  rmdir(dir);
  return CHECK_DONE();
}
