// 20 sequential joins of one delegate, a new page each, in one Chromium,
// over TLS as every deployment is (self-signed certificate, as the demo):
// WebSocket start (so the TLS handshake counts) and WebSocket open → first
// received audio above -50 dB, from the page's own instrumentation
// (window.floorbridge.timings). Prints p50/p95/max; asserts only that every
// join got audio (the numbers are reported, not judged).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { e2e, receivedUntil, fmtLevels } from './harness.mjs';

const A = 440, B = 1000, JOINS = 20;

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

test('join_time', { timeout: 240000 }, () => e2e('join_time', async (h) => {
  await h.startBridge({ tls: true });
  const ctx = await h.browser({ mic: await h.tone(B) });
  const token = await h.token({ delegate: 'd1', name: 'Repeat Joiner', speak: true });
  const rows = [];
  for (let i = 0; i < JOINS; i++) {
    const page = await h.openPage(ctx, token);
    await h.waitMedia(page);
    const tm = await page.evaluate(() => window.floorbridge.timings);
    if (i === 0 || i === JOINS - 1) {
      const rx = await receivedUntil(page, [A], (l) => l[A] > -40, 3, 800);
      assert.ok(rx[A] > -40, `join ${i + 1} hears the floor A: ${fmtLevels(rx)}`);
    }
    await page.close();
    rows.push({
      start: tm.firstAudio - tm.wsStart,
      total: tm.firstAudio - tm.wsOpen,
      ws: tm.wsOpen - tm.wsStart,
      joined: tm.joined - tm.wsOpen,
      answer: tm.answer - tm.joined,
      ice: tm.iceConnected - tm.answer,
      connected: tm.connected - tm.answer,
      audio: tm.firstAudio - tm.connected,
    });
  }
  assert.equal(rows.length, JOINS);
  const ms = (x) => `${Math.round(x)} ms`;
  const line = (k) => `${k.padEnd(9)} p50 ${ms(pct(rows.map((r) => r[k]), 50))}  p95 ${ms(pct(rows.map((r) => r[k]), 95))}  max ${ms(Math.max(...rows.map((r) => r[k])))}`;
  const report = [
    `join_time: ${JOINS} joins over TLS; start = WebSocket start → first audio, total = WebSocket open → first audio (above -50 dB)`,
    line('start'),
    line('total'),
    '  phases: ws = connect → open, joined = open → joined, answer = joined → answer (mic, offer, server),',
    '          ice = answer → ICE connected, connected = answer → DTLS connected, audio = connected → first audio',
    ...['ws', 'joined', 'answer', 'ice', 'connected', 'audio'].map((k) => `  ${line(k)}`),
  ].join('\n');
  console.log(report);
  assert.ok(rows.every((r) => Number.isFinite(r.total) && r.total > 0), 'every join measured first audio');
}));
