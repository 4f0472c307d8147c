/*
 * heap.h — a binary min-heap of (time, pointer) for the media thread's
 * timers. Entries are never removed early: the owner keeps the time it
 * expects (ld_sess.heap_due) and ignores entries that no longer match when
 * they pop ("lazy deletion"), so a reschedule is one push.
 */
#ifndef FB_LOAD_HEAP_H
#define FB_LOAD_HEAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint64_t due;
  void *ptr;
} ld_heap_item;

typedef struct {
  ld_heap_item *v;
  size_t n, cap;
} ld_heap;

/* 0, or -1 when out of memory. */
int ld_heap_push(ld_heap *h, uint64_t due, void *ptr);
/* The earliest item's time, UINT64_MAX when empty. */
uint64_t ld_heap_top(const ld_heap *h);
/* Remove and return the earliest item (h must not be empty). */
ld_heap_item ld_heap_pop(ld_heap *h);
void ld_heap_free(ld_heap *h);

#endif
