/* test_hist — histogram quantiles land within one bucket of the truth. */
#include "util/hist.h"
#include "check.h"

int main(void) {
  fb_hist h = {0};
  CHECK(fb_hist_quantile(&h, 0.5) == 0, "empty histogram reads 0");
  for (int i = 1; i <= 1000; i++) fb_hist_add(&h, (uint64_t)i * 10000); /* 10 µs .. 10 ms */
  uint64_t p50 = fb_hist_quantile(&h, 0.5), p99 = fb_hist_quantile(&h, 0.99);
  CHECK(p50 >= 5000000 * 0.95 && p50 <= 5000000 * 1.15, "p50 %llu ns ~ 5 ms",
        (unsigned long long)p50);
  CHECK(p99 >= 9900000 * 0.95 && p99 <= 10000000, "p99 %llu ns ~ 9.9 ms (capped at max)",
        (unsigned long long)p99);
  CHECK(h.max_ns == 10000000 && h.count == 1000, "max and count exact");
  fb_hist_add(&h, 3600ull * 1000000000ull);
  CHECK(fb_hist_quantile(&h, 1.0) == 3600ull * 1000000000ull, "huge value kept by max");
  fb_hist_reset(&h);
  CHECK(h.count == 0, "reset empties");
  return CHECK_DONE();
}
