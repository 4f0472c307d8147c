// An observer listens only: the page never asks for the microphone (counted by
// an init script wrapping getUserMedia) and offers recvonly, so even though
// Chromium's fake microphone plays B, nothing of B reaches the room PA.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { e2e, readWav, receivedUntil, wavLevels, fmtLevels } from './harness.mjs';

const A = 440, B = 1000;

test('observer_listen_only', { timeout: 120000 }, (t) => e2e('observer_listen_only', async (h) => {
  const bridge = await h.startBridge();
  const ctx = await h.browser({ mic: await h.tone(B) });
  await ctx.addInitScript(() => {
    window.__gumCalls = 0;
    const md = navigator.mediaDevices;
    if (md && md.getUserMedia) {
      const orig = md.getUserMedia.bind(md);
      md.getUserMedia = (...args) => { window.__gumCalls++; return orig(...args); };
    }
    for (const k of ['getUserMedia', 'webkitGetUserMedia']) {
      if (navigator[k]) {
        const orig = navigator[k].bind(navigator);
        navigator[k] = (...args) => { window.__gumCalls++; return orig(...args); };
      }
    }
  });
  const page = await h.openPage(ctx, await h.token({ delegate: 'obs1', name: 'Observer', role: 'observer' }));
  await h.waitMedia(page);

  const rx = await receivedUntil(page, [A], (l) => l[A] > -40);
  t.diagnostic(`page received: ${fmtLevels(rx)}`);
  assert.ok(rx[A] > -40, `the observer hears the floor A: ${fmtLevels(rx)}`);

  const seen = await page.evaluate(() => ({
    gum: window.__gumCalls,
    role: window.floorbridge.role,
    micHidden: document.getElementById('mic-section').hidden,
    listenOnly: !document.getElementById('listen-only').hidden,
  }));
  assert.equal(seen.role, 'observer');
  assert.equal(seen.gum, 0, 'an observer page never calls getUserMedia');
  assert.ok(seen.micHidden && seen.listenOnly, `listen-only UI: ${JSON.stringify(seen)}`);
  const stats = await page.evaluate(() => window.floorbridge.stats());
  assert.ok(!stats.outbound || !stats.outbound.packetsSent, `no audio sent: ${JSON.stringify(stats.outbound)}`);

  const exit = await h.stopBridge();
  assert.deepEqual([exit.code, exit.signal], [0, null], `bridge exit ${JSON.stringify(exit)}`);
  const pa = readWav(bridge.paWav);
  const all = wavLevels(pa, [A, B]);
  t.diagnostic(`PA ${pa.seconds.toFixed(1)} s: ${fmtLevels(all)}`);
  assert.ok(all[B] < -55, `PA has no B from the observer (${pa.seconds.toFixed(1)} s): ${fmtLevels(all)}`);
  assert.ok(all[A] < -55, `PA never carries the floor A: ${fmtLevels(all)}`);
}));
