// Two live delegates in two Chromium processes (the fake microphone file is
// per process): B = 1000 Hz and C = 1700 Hz. Each hears the floor A and the
// other delegate, never themselves (mix-minus); the PA carries both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { e2e, readWav, receivedUntil, wavLevels, fmtLevels } from './harness.mjs';

const A = 440, B = 1000, C = 1700;

test('two_browsers_mix_minus', { timeout: 150000 }, (t) => e2e('two_browsers_mix_minus', async (h) => {
  const bridge = await h.startBridge();
  const [toneB, toneC] = await Promise.all([h.tone(B), h.tone(C)]);
  const [ctx1, ctx2] = await Promise.all([h.browser({ mic: toneB }), h.browser({ mic: toneC })]);
  const [tok1, tok2] = await Promise.all([
    h.token({ delegate: 'd1', name: 'Delegate B', speak: true }),
    h.token({ delegate: 'd2', name: 'Delegate C', speak: true }),
  ]);
  const p1 = await h.openPage(ctx1, tok1);
  const p2 = await h.openPage(ctx2, tok2);
  await Promise.all([h.waitMedia(p1), h.waitMedia(p2)]);

  const [rx1, rx2] = await Promise.all([
    receivedUntil(p1, [A, B, C], (l) => l[A] > -40 && l[C] > -40),
    receivedUntil(p2, [A, B, C], (l) => l[A] > -40 && l[B] > -40),
  ]);
  t.diagnostic(`delegate 1 received: ${fmtLevels(rx1)}; delegate 2 received: ${fmtLevels(rx2)}`);
  assert.ok(rx1[A] > -40 && rx1[C] > -40, `delegate 1 hears A and C: ${fmtLevels(rx1)}`);
  assert.ok(rx1[B] < rx1[C] - 20, `delegate 1 does not hear itself (B < C - 20 dB): ${fmtLevels(rx1)}`);
  assert.ok(rx2[A] > -40 && rx2[B] > -40, `delegate 2 hears A and B: ${fmtLevels(rx2)}`);
  assert.ok(rx2[C] < rx2[B] - 20, `delegate 2 does not hear itself (C < B - 20 dB): ${fmtLevels(rx2)}`);

  const exit = await h.stopBridge();
  assert.deepEqual([exit.code, exit.signal], [0, null], `bridge exit ${JSON.stringify(exit)}`);
  const pa = readWav(bridge.paWav);
  const last = wavLevels(pa, [B, C], -2.5);
  const all = wavLevels(pa, [A]);
  t.diagnostic(`PA ${pa.seconds.toFixed(1)} s, last 2.5 s: ${fmtLevels(last)}; whole: ${fmtLevels(all)}`);
  assert.ok(last[B] > -40 && last[C] > -40, `PA carries both delegates: ${fmtLevels(last)}`);
  assert.ok(all[A] < -55, `PA never carries the floor A: ${fmtLevels(all)}`);
}));
