// The page keeps a delegate in the meeting: after the bridge goes away and
// comes back (same URL), it reconnects by itself with the same token and hears
// the floor again. When the same delegate joins from a second page, the first
// shows "replaced" and stays stopped (no tug of war between two tabs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { e2e, sleep, pageInfo, receivedUntil, fmtLevels } from './harness.mjs';

const A = 440, B = 1000;

test('page_reconnect', { timeout: 120000 }, (t) => e2e('page_reconnect', async (h) => {
  await h.startBridge();
  const ctx = await h.browser({ mic: await h.tone(B) });
  const token = await h.token({ delegate: 'd1', name: 'Returning Delegate', speak: true });
  const page = await h.openPage(ctx, token);
  await h.waitMedia(page);
  const before = await page.evaluate(() => ({ delegate: window.floorbridge.delegate, connects: window.floorbridge.connects }));

  // The bridge goes away: the page says so and retries with backoff.
  await h.restartBridge();
  await h.waitMedia(page, 30000);
  const after = await page.evaluate(() => ({
    delegate: window.floorbridge.delegate, connects: window.floorbridge.connects, events: window.floorbridge.events,
  }));
  assert.equal(after.delegate, before.delegate, 'same identity after reconnecting');
  assert.ok(after.connects > before.connects, `reconnected: ${JSON.stringify(after)}`);
  const rx = await receivedUntil(page, [A], (l) => l[A] > -40);
  t.diagnostic(`after reconnect (${after.connects} connections): ${fmtLevels(rx)}`);
  assert.ok(rx[A] > -40, `hears the floor again: ${fmtLevels(rx)}`);

  // Same delegate from a second page: the first is replaced and stays stopped.
  const second = await h.openPage(ctx, token);
  await h.waitMedia(second);
  await h.waitState(page, 'failed', 5000);
  const connects = (await pageInfo(page)).connects;
  await sleep(2500); // > the first backoff step
  const first = await pageInfo(page);
  assert.equal(first.state, 'failed', JSON.stringify(first));
  assert.equal(first.connects, connects, `the replaced page does not reconnect: ${JSON.stringify(first)}`);
  assert.match(first.error || '', /replaced/, JSON.stringify(first));
  const rx2 = await receivedUntil(second, [A], (l) => l[A] > -40);
  assert.ok(rx2[A] > -40, `the second page hears the floor: ${fmtLevels(rx2)}`);
}));
