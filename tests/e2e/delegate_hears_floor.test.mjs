// A delegate joins from the page with a fake microphone playing B = 1000 Hz.
// The page must hear the floor (A = 440 Hz, builtin:tone:440) and not itself;
// the room PA (live remotes only) must carry B and never the floor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { e2e, readWav, receivedUntil, wavLevels, fmtLevels } from './harness.mjs';

const A = 440, B = 1000;

test('delegate_hears_floor', { timeout: 120000 }, (t) => e2e('delegate_hears_floor', async (h) => {
  const bridge = await h.startBridge();
  const ctx = await h.browser({ mic: await h.tone(B) });
  const page = await h.openPage(ctx, await h.token({ delegate: 'd1', name: 'Delegate One', speak: true }));
  await h.waitMedia(page);

  const shown = await page.evaluate(() => ({
    name: document.getElementById('who-name').textContent,
    role: window.floorbridge.role,
    pid: window.floorbridge.pid,
    micVisible: !document.getElementById('mic-section').hidden,
  }));
  assert.equal(shown.name, 'Delegate One');
  assert.equal(shown.role, 'delegate');
  assert.ok(Number.isInteger(shown.pid), `pid ${shown.pid}`);
  assert.ok(shown.micVisible, 'a delegate sees the microphone controls');

  const rx = await receivedUntil(page, [A, B], (l) => l[A] > -40);
  t.diagnostic(`page received: ${fmtLevels(rx)}`);
  assert.ok(rx[A] > -40, `the page hears the floor A: ${fmtLevels(rx)} (want A > -40 dB)`);
  assert.ok(rx[B] < rx[A] - 20, `the page must not hear its own B: ${fmtLevels(rx)}`);

  const stats = await page.evaluate(() => window.floorbridge.stats());
  t.diagnostic(`selected pair: ${JSON.stringify(stats.selectedPair)}; inbound: ${JSON.stringify(stats.inbound)}`);
  assert.ok(stats.inbound && stats.inbound.packetsReceived > 0, `RTP received: ${JSON.stringify(stats.inbound)}`);
  assert.ok(stats.outbound && stats.outbound.packetsSent > 0, `RTP sent: ${JSON.stringify(stats.outbound)}`);

  const exit = await h.stopBridge();
  assert.deepEqual([exit.code, exit.signal], [0, null], `bridge exit ${JSON.stringify(exit)}`);
  const pa = readWav(bridge.paWav);
  const last = wavLevels(pa, [A, B], -2.5);
  const all = wavLevels(pa, [A]);
  t.diagnostic(`PA ${pa.seconds.toFixed(1)} s, last 2.5 s: ${fmtLevels(last)}; whole: ${fmtLevels(all)}`);
  assert.ok(last[B] > -40, `PA (${pa.seconds.toFixed(1)} s) carries the delegate's B at the end: ${fmtLevels(last)}`);
  assert.ok(all[A] < -55, `PA never carries the floor A: ${fmtLevels(all)}`);
}));
