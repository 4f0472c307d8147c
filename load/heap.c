/*
 * heap.c — the min-heap of heap.h (array-backed, doubling).
 */
#include "load/heap.h"

#include <stdlib.h>

int ld_heap_push(ld_heap *h, uint64_t due, void *ptr) {
  if (h->n == h->cap) {
    size_t cap = h->cap ? h->cap * 2 : 1024;
    ld_heap_item *v = realloc(h->v, cap * sizeof *v);
    if (!v) return -1;
    h->v = v;
    h->cap = cap;
  }
  size_t i = h->n++;
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (h->v[p].due <= due) break;
    h->v[i] = h->v[p];
    i = p;
  }
  h->v[i] = (ld_heap_item){due, ptr};
  return 0;
}

uint64_t ld_heap_top(const ld_heap *h) { return h->n ? h->v[0].due : UINT64_MAX; }

ld_heap_item ld_heap_pop(ld_heap *h) {
  ld_heap_item top = h->v[0], last = h->v[--h->n];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= h->n) break;
    if (c + 1 < h->n && h->v[c + 1].due < h->v[c].due) c++;
    if (last.due <= h->v[c].due) break;
    h->v[i] = h->v[c];
    i = c;
  }
  if (h->n) h->v[i] = last;
  return top;
}

void ld_heap_free(ld_heap *h) {
  free(h->v);
  h->v = NULL;
  h->n = h->cap = 0;
}
