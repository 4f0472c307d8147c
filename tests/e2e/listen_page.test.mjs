// The public webcast page (web/listen.html): "webcast not running" while
// /webcast/index.m3u8 is 404 (no [webcast] dir); once the bridge writes the
// webcast (HLS in [webcast] dir, served at /webcast/), the page finds it and,
// with the browser's native HLS, plays it — the meeting's floor tone A is in
// what it plays — (or, without native HLS, gives the playlist's address for a
// player). The page uses nothing but its own origin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import { e2e, toneDb, fmtDb } from './harness.mjs';

const A = 440; // the floor (builtin:tone:440): the webcast is the full mix

test('listen_page', { timeout: 90000 }, (t) => e2e('listen_page', async (h) => {
  const bridge = await h.startBridge();
  const ctx = await h.browser();
  const page = await ctx.newPage();
  const origin = new URL(bridge.url).origin;
  const foreign = [];
  page.on('request', (r) => { if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) foreign.push(r.url()); });
  await page.goto(`${bridge.url}/listen.html`, { timeout: 15000 });

  const status = () => page.evaluate(() => ({
    status: document.getElementById('status').textContent,
    native: window.listenPage.native,
    player: !document.getElementById('player').hidden,
    noNative: !document.getElementById('no-native').hidden,
    url: document.getElementById('playlist-url').textContent,
  }));
  await h.waitFor(page, '"Webcast not running"', () => /not running/i.test(document.getElementById('status').textContent));
  const off = await status();
  assert.ok(!off.player && !off.noNative, `nothing to play while off the air: ${JSON.stringify(off)}`);
  await h.shot(page, 'listen-off', { fullPage: true });

  // The same bridge with a webcast: HLS (2 s segments) in the temp dir.
  await h.restartBridge({ sets: [`webcast.dir=${path.join(h.tmp, 'hls')}`] });
  await h.waitFor(page, '"Webcast running"', () => {
    if (!window.lastCheck || Date.now() - window.lastCheck > 500) { // look now, not in 10 s
      window.lastCheck = Date.now();
      window.listenPage.check();
    }
    const s = document.getElementById('status').textContent;
    return /running/i.test(s) && !/not running/i.test(s);
  }, null, 15000);
  const on = await status();
  t.diagnostic(`native HLS: ${on.native}`);
  assert.equal(on.url, `${origin}/webcast/index.m3u8`);
  assert.ok(on.native ? on.player : on.noNative, `a player, or the playlist's address: ${JSON.stringify(on)}`);
  if (on.native) {
    await page.click('#play');
    const played = await h.waitFor(page, 'the webcast to play', () => {
      const a = document.getElementById('audio');
      return !a.paused && a.currentTime > 1 ? a.currentTime : null;
    }, null, 20000);
    t.diagnostic(`played ${played.toFixed(1)} s of the webcast`);
    // What it plays: tap the element into WebAudio for ~1.5 s.
    const got = await page.evaluate(async () => {
      const a = document.getElementById('audio');
      const c = new AudioContext();
      const an = c.createAnalyser();
      an.fftSize = 32768;
      c.createMediaElementSource(a).connect(an);
      an.connect(c.destination);
      await c.resume();
      await new Promise((r) => setTimeout(r, 1500));
      const buf = new Float32Array(an.fftSize);
      an.getFloatTimeDomainData(buf);
      return { rate: c.sampleRate, samples: Array.from(buf) };
    });
    const level = toneDb(Float32Array.from(got.samples), got.rate, A);
    t.diagnostic(`the webcast carries A at ${fmtDb(level)}`);
    assert.ok(level > -40, `the webcast plays the meeting (floor A ${fmtDb(level)})`);
  }
  await h.shot(page, 'listen-on', { fullPage: true });
  assert.deepEqual(foreign, [], 'no external resources');
}));
