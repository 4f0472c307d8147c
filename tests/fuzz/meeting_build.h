/*
 * meeting_build.h — fuzz_meeting's message builder (meeting_build.c).
 */
#ifndef FB_FUZZ_MEETING_BUILD_H
#define FB_FUZZ_MEETING_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "signalling/token.h"

/* What is left of the fuzzer's input. */
typedef struct {
  const uint8_t *p;
  size_t n;
} fb_ms_input;

/* The next byte of the input, 0 once it is used up. */
uint8_t fb_ms_next(fb_ms_input *in);

/* One message (type and fields from the input; join tokens from tokens[0..ntok-1])
 * as JSON text to free(), or NULL when out of memory. */
char *fb_ms_build(fb_ms_input *in, char tokens[][FB_TOKEN_MAX + 1], int ntok);

#endif
