/*
 * ws_frame.h — encode one masked client-to-server WebSocket frame (RFC 6455
 * 5.2), shared by the test clients (tests/ws_client.h, the fault client).
 */
#ifndef FB_TEST_WS_FRAME_H
#define FB_TEST_WS_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Writes the frame for data[0..len) with opcode, FIN bit fin and mask into
 * out, which must hold len + 14 bytes; returns the frame's length. */
static inline size_t ws_frame_encode(unsigned char *out, int opcode, int fin,
                                     const unsigned char mask[4], const void *data, size_t len) {
  size_t n = 0;
  out[n++] = (unsigned char)((fin ? 0x80 : 0) | opcode);
  if (len < 126) {
    out[n++] = (unsigned char)(0x80 | len);
  } else if (len < 65536) {
    out[n++] = 0x80 | 126;
    out[n++] = (unsigned char)(len >> 8);
    out[n++] = (unsigned char)len;
  } else {
    out[n++] = 0x80 | 127;
    for (int i = 7; i >= 0; i--) out[n++] = (unsigned char)((uint64_t)len >> (8 * i));
  }
  memcpy(out + n, mask, 4);
  n += 4;
  for (size_t i = 0; i < len; i++) out[n + i] = ((const unsigned char *)data)[i] ^ mask[i % 4];
  return n + len;
}

#endif
