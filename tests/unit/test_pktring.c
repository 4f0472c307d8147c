/* test_pktring — SPSC ring: order, drop-when-full, and a two-thread run where
 * every packet arrives intact and in order. */
#include <pthread.h>
#include <string.h>

#include "mixer/pktring.h"
#include "check.h"

#define N 200000

static fb_pktring *ring;

static void *producer(void *arg) {
  (void)arg;
  for (uint32_t i = 0; i < N;) {
    uint8_t data[8];
    memcpy(data, &i, 4);
    memcpy(data + 4, &i, 4);
    if (fb_pktring_push(ring, (uint16_t)i, i, data, 8, i) == 0) i++;
  }
  return NULL;
}

int main(void) {
  fb_pktring *r = fb_pktring_new(5); /* rounds up to 8 */
  uint8_t d[4] = {1, 2, 3, 4};
  int pushed = 0;
  for (int i = 0; i < 10; i++) pushed += fb_pktring_push(r, (uint16_t)i, (uint32_t)i, d, 4, 0) == 0;
  CHECK(pushed == 8, "capacity 8, pushed %d", pushed);
  CHECK(fb_pktring_dropped(r) == 2, "two dropped when full");
  CHECK(fb_pktring_push(r, 0, 0, d, FB_MAX_OPUS + 1, 0) < 0, "oversize refused");
  for (int i = 0; i < 8; i++) {
    const fb_pkt *p = fb_pktring_peek(r);
    CHECK(p && p->seq == i && p->len == 4 && p->data[3] == 4, "in order %d", i);
    fb_pktring_pop(r);
  }
  CHECK(fb_pktring_peek(r) == NULL, "empty after draining");
  fb_pktring_free(r);

  ring = fb_pktring_new(64);
  pthread_t t;
  pthread_create(&t, NULL, producer, NULL);
  uint32_t expect = 0;
  int bad = 0;
  while (expect < N) {
    const fb_pkt *p = fb_pktring_peek(ring);
    if (!p) continue;
    uint32_t a, b;
    memcpy(&a, p->data, 4);
    memcpy(&b, p->data + 4, 4);
    if (a != expect || b != expect || p->ts != expect) bad++;
    fb_pktring_pop(ring);
    expect++;
  }
  pthread_join(t, NULL);
  CHECK(bad == 0, "%d packets corrupted or out of order across threads", bad);
  fb_pktring_free(ring);
  return CHECK_DONE();
}
