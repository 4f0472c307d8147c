// The demo's own configuration (configs/demo.conf) over TLS with the
// self-signed certificate flow of scripts/demo: the chair console, a delegate
// page and an observer page open together in ONE browser context, so they
// share the origin's connections as a person's browser does. Every page must
// be connected and hearing the floor (the demo's synthetic speech) within 2 s
// of starting its WebSocket (page load and Chromium's start are reported, not
// judged), and the pages must have been fetched over TLS with the
// protocol the server offers (http/1.1 only: see signalling/server.c).
//
// Before this test existed, every browser test ran over plain http:// and the
// demo's links failed in Chromium (WebSocket over HTTP/2, RFC 8441:
// net::ERR_HTTP2_PROTOCOL_ERROR). Prints each page's join time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { e2e, rmsDb, sampleReceived, CONSOLE_VIEWPORT } from './harness.mjs';

const JOIN_BUDGET_MS = 2000;

test('tls_demo_pages', { timeout: 120000 }, (t) => e2e('tls_demo_pages', async (h) => {
  const bridge = await h.startBridge({ config: 'configs/demo.conf', tls: true });
  assert.match(bridge.url, /^https:\/\//, `the bridge serves TLS: ${bridge.url}`);
  const mint = (delegate, name, role) => h.token({ meeting: 'demo', delegate, name, role, ttl: 3600 });
  const [chairTok, delTok, obsTok] = await Promise.all([
    mint('chair-1', 'Chair', 'chair'), mint('del-fr', 'Delegate of France', 'delegate'),
    mint('obs-1', 'Observer', 'observer')]);

  const ctx = await h.browser({ mic: await h.tone(1000), viewport: CONSOLE_VIEWPORT });
  // all three at once, as a person opening the demo's three links
  const pages = await Promise.all([
    h.openConsole(ctx, chairTok, { raw: false }),
    h.openPage(ctx, delTok, { raw: false }),
    h.openPage(ctx, obsTok, { raw: false }),
  ]);
  const names = ['chair console', 'delegate page', 'observer page'];
  await Promise.all(pages.map((p) => h.waitMedia(p, 10000)));

  const rows = [];
  for (const [i, p] of pages.entries()) {
    const info = await p.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      return {
        url: location.href.split('#')[0], proto: nav && nav.nextHopProtocol, state: window.floorbridge.state,
        role: window.floorbridge.role, firstAudio: window.floorbridge.timings.firstAudio,
        failure: window.floorbridge.failure, connects: window.floorbridge.connects,
        timings: Object.fromEntries(Object.entries(window.floorbridge.timings).map(([k, v]) => [k, Math.round(v)])),
      };
    });
    rows.push({ name: names[i], ...info });
    t.diagnostic(`${names[i]}: ${info.proto} ${info.url}, role ${info.role}, first audio ${Math.round(info.firstAudio)} ms ` +
      `after navigation, ${info.connects} WebSocket connection(s); timings ${JSON.stringify(info.timings)}`);
    assert.match(info.url, /^https:\/\//, `${names[i]} is served over TLS`);
    assert.equal(info.proto, 'http/1.1', `${names[i]}: the server offers only http/1.1 in ALPN`);
    assert.equal(info.state, 'media_connected', `${names[i]} state`);
    assert.equal(info.connects, 1, `${names[i]} connected at the first attempt (no retry loop)`);
    assert.equal(info.failure, null, `${names[i]} shows no failure`);
    const join = info.timings.firstAudio - info.timings.wsStart;
    rows[i].join = join;
    assert.ok(join < JOIN_BUDGET_MS,
      `${names[i]} hears audio ${join} ms after its WebSocket started (budget ${JOIN_BUDGET_MS} ms)`);
  }
  assert.deepEqual(rows.map((r) => r.role), ['chair', 'delegate', 'observer']);

  // what they hear is the floor (the demo's synthetic speech), not silence
  for (const [i, p] of pages.entries()) {
    const s = await sampleReceived(p, 2000, 250);
    const levels = s.chunks.map((c) => rmsDb(c));
    const loudest = Math.max(...levels);
    t.diagnostic(`${names[i]} received RMS per window: ${levels.map((x) => x.toFixed(0)).join(' ')} dB`);
    assert.ok(loudest > -35, `${names[i]} hears the floor speech (loudest window ${loudest.toFixed(1)} dB, want > -35)`);
  }
  console.log('tls_demo_pages: WebSocket start → first audio (after navigation): ' +
    rows.map((r) => `${r.name} ${r.join} ms (${Math.round(r.firstAudio)} ms)`).join(', '));
}));
