/*
 * check.h — the tests' tiny assertion kit. Each CHECK prints what failed with
 * file and line and counts; a test program returns non-zero when any failed.
 */
#ifndef FB_CHECK_H
#define FB_CHECK_H

#include <stdio.h>

static int fb_check_failures = 0;
static int fb_check_count = 0;

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    fb_check_count++;                                                          \
    if (!(cond)) {                                                             \
      fb_check_failures++;                                                     \
      fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                            \
      fprintf(stderr, "\n");                                                   \
    }                                                                          \
  } while (0)

/* Call at the end of main: prints a summary and returns the exit status. */
#define CHECK_DONE()                                                                           \
  (fprintf(stderr, "%s: %d checks, %d failed\n", __FILE__, fb_check_count, fb_check_failures), \
   fb_check_failures ? 1 : 0)

#endif
