// As delegate_hears_floor, but the page may only use TURN relays
// (#relay=1 → iceTransportPolicy "relay") through our own coturn on
// 127.0.0.1; the bridge hands out TURN REST credentials from [turn] secret.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { e2e, readWav, receivedUntil, wavLevels, fmtLevels } from './harness.mjs';

const A = 440, B = 1000;

test('relay_via_turn', { timeout: 120000 }, (t) => e2e('relay_via_turn', async (h) => {
  const turn = await h.startTurn();
  const bridge = await h.startBridge({ turn });
  const ctx = await h.browser({ mic: await h.tone(B) });
  const page = await h.openPage(ctx, await h.token({ delegate: 'd1', name: 'Relayed Delegate', speak: true }),
    { relay: true });
  await h.waitMedia(page);

  const rx = await receivedUntil(page, [A, B], (l) => l[A] > -40);
  t.diagnostic(`page received: ${fmtLevels(rx)}`);
  assert.ok(rx[A] > -40, `the relayed page hears the floor A: ${fmtLevels(rx)}`);

  const stats = await page.evaluate(() => window.floorbridge.stats());
  const pair = stats && stats.selectedPair;
  t.diagnostic(`selected pair: ${JSON.stringify(pair)}`);
  assert.ok(pair && pair.local, `a selected candidate pair: ${JSON.stringify(stats)}`);
  assert.equal(pair.local.type, 'relay', `local candidate is a relay: ${JSON.stringify(pair)}`);

  const exit = await h.stopBridge();
  assert.deepEqual([exit.code, exit.signal], [0, null], `bridge exit ${JSON.stringify(exit)}`);
  const pa = readWav(bridge.paWav);
  const last = wavLevels(pa, [B], -2.5);
  const all = wavLevels(pa, [A]);
  t.diagnostic(`PA ${pa.seconds.toFixed(1)} s, last 2.5 s: ${fmtLevels(last)}; whole: ${fmtLevels(all)}`);
  assert.ok(last[B] > -40, `PA carries the relayed delegate's B: ${fmtLevels(last)}`);
  assert.ok(all[A] < -55, `PA never carries the floor A: ${fmtLevels(all)}`);
}));
