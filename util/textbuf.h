/*
 * textbuf.h — append formatted text to a bounded buffer, as the /metrics
 * exposition does from the bridge and from signalling. A write that does not
 * fit is cut short (buf stays NUL-terminated); *off then reaches len and
 * later writes do nothing.
 */
#ifndef FB_TEXTBUF_H
#define FB_TEXTBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* Append printf-style text at buf + *off (buf holds len bytes) and advance
 * *off by what snprintf reports. */
__attribute__((format(printf, 4, 5))) static inline void fb_appendf(char *buf, size_t len,
                                                                    size_t *off, const char *fmt,
                                                                    ...) {
  if (*off >= len) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf + *off, len - *off, fmt, ap);
  va_end(ap);
  *off += n > 0 ? (size_t)n : 0;
}

#endif
