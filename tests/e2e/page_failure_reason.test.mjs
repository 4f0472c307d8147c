// The page never hides a failure. While its WebSocket cannot connect it shows
// the reason it has, which is not "connection lost": a server that answers
// HTTP but refuses the WebSocket (here: the per-address limit, the same
// symptom as a proxy or an HTTP/2 protocol error) reads differently from a
// server that cannot be reached at all. After more than 10 s of failing, the
// delegate is told what to check. The bridge logs each refused upgrade with
// its reason. Once the server takes the WebSocket again, the notice goes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { e2e, pageInfo } from './harness.mjs';

const failure = (page) => page.evaluate(() => window.floorbridge.failure);

test('page_failure_reason', { timeout: 120000 }, (t) => e2e('page_failure_reason', async (h) => {
  const bridge = await h.startBridge({ tls: true, sets: ['signalling.max_connections_per_ip=1'] });
  // one page takes the address's only WebSocket
  const ctx = await h.browser();
  const holder = await h.openPage(ctx, await h.token({ delegate: 'holder', name: 'Holder' }));
  await h.waitState(holder, 'media_connected', 20000);
  const token = await h.token({ delegate: 'd1', name: 'Waiting Delegate' });
  const page = await h.openPage(ctx, token);

  // refused upgrade, server up: "the server answers … but the WebSocket failed"
  await h.waitFor(page, 'a failure reason', () => window.floorbridge.failure && window.floorbridge.failure.kind !== 'lost');
  const f1 = await failure(page);
  const shown1 = await pageInfo(page);
  t.diagnostic(`refused: ${JSON.stringify(f1)}; notice "${shown1.notice}"`);
  assert.equal(f1.kind, 'refused', JSON.stringify(f1));
  assert.match(shown1.notice, /server answers \(HTTP 200\) but the WebSocket/, shown1.notice);
  assert.doesNotMatch(shown1.notice, /connection lost/i, 'a refused upgrade is not "connection lost"');
  assert.equal(f1.help, false, 'no checklist before 10 s');

  // after 10 s of failing: what to check
  await h.waitFor(page, 'the checklist after 10 s', () => window.floorbridge.failure && window.floorbridge.failure.help,
    null, 15000);
  const f2 = await failure(page);
  const shown2 = await pageInfo(page);
  t.diagnostic(`later: notice "${shown2.notice}"`);
  assert.ok(f2.help, JSON.stringify(f2));
  assert.match(shown2.notice, /Still not connected after \d+ s\. Check that/, shown2.notice);
  assert.ok(!/Check that/.test(shown1.notice), 'the checklist came later');

  // the bridge said why, rate-limited
  const lines = bridge.log.lines.filter((l) => /WebSocket upgrade refused: .*max_connections_per_ip/.test(l));
  assert.ok(lines.length >= 1, `the refusal is logged:\n${bridge.log.tail(20)}`);
  assert.ok(lines.length <= shown2.connects + 1, `at most one line per refused attempt: ${lines.length}`);

  // the server takes it again: connected, no notice, no failure
  await holder.close();
  await page.click('#retry');
  await h.waitState(page, 'media_connected', 20000);
  const f3 = await failure(page);
  const shown3 = await pageInfo(page);
  assert.equal(f3, null, `no failure once connected: ${JSON.stringify(f3)}`);
  assert.ok(!shown3.notice, `the notice is gone once connected: "${shown3.notice}"`);

  // the server goes away: unreachable, not "refused"
  await h.stopBridge();
  // (offline when the browser also sees no network: a loopback-only test machine)
  await h.waitFor(page, 'an unreachable reason', () => window.floorbridge.failure &&
    ['unreachable', 'offline'].includes(window.floorbridge.failure.kind), null, 20000);
  const shown4 = await pageInfo(page);
  t.diagnostic(`server gone: notice "${shown4.notice}"`);
  assert.match(shown4.notice, /Cannot reach 127\.0\.0\.1:\d+/, shown4.notice);
}));
