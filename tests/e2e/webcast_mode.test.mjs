// Webcast-only mode from the console: the delegate page shows the webcast
// banner and no request button, stops sending audio, a raw request_floor is
// refused with webcast_only, and the live delegate is off the floor (the
// PA's last second has no B). Back to interactive, a request works again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { e2e, sleep, readWav, wavLevels, fmtLevels, CONSOLE_VIEWPORT } from './harness.mjs';

const B = 1000;

const packetsSent = async (page) => {
  const s = await page.evaluate(() => window.floorbridge.stats());
  return s && s.outbound ? s.outbound.packetsSent || 0 : 0;
};

test('webcast_mode', { timeout: 120000 }, (t) => e2e('webcast_mode', async (h) => {
  const bridge = await h.startBridge();
  const [chairCtx, delCtx] = await Promise.all([
    h.browser({ viewport: CONSOLE_VIEWPORT }),
    h.tone(B).then((mic) => h.browser({ mic })),
  ]);
  const [chairTok, delTok] = await Promise.all([
    h.token({ delegate: 'wcm-chair', name: 'Chair Webcast', role: 'chair' }),
    h.token({ delegate: 'wcm-d1', name: 'Delegate Webcast' }),
  ]);
  const [con, page] = await Promise.all([h.openConsole(chairCtx, chairTok), h.openPage(delCtx, delTok)]);
  await Promise.all([h.waitMedia(con), h.waitMedia(page)]);

  await h.waitDelegate(page, 'a request button', (v) => v.request && !v.request.disabled);
  await page.click('#request');
  await h.waitConsoleRow(con, 'wcm-d1', { state: 'queued' });
  await h.consoleAction(con, 'wcm-d1', 'grant');
  await h.waitDelegate(page, 'live', (v) => v.banner === 'live');
  await sleep(2000); // B reaches the PA

  // Webcast only (with the console's confirmation).
  await h.consoleSetMode(con, 'webcast');
  const wc = await h.waitDelegate(page, 'the webcast banner', (v) => v.banner === 'webcast');
  assert.match(wc.title, /webcast only/i);
  assert.equal(wc.request, null, `no request button in webcast mode: ${JSON.stringify(wc.request)}`);
  await h.waitConsoleRow(con, 'wcm-d1', { state: 'listening' });
  await Promise.all([h.shot(page, 'delegate-webcast', { fullPage: true }), h.shot(con, 'console-webcast')]);
  const cs = await h.consoleState(con);
  assert.equal(cs.mode, 'webcast');
  assert.equal(cs.rows.find((r) => r.delegate === 'wcm-d1').actions.grant, false, 'no Give floor in webcast mode');

  const n = await page.evaluate(() => window.floorbridge.errors.length);
  assert.ok(await h.pageSend(page, { type: 'request_floor' }));
  await h.waitError(page, 'webcast_only', { after: n });

  // The page sends no audio (the sender has no track).
  await sleep(500);
  const p0 = await packetsSent(page);
  await sleep(1500);
  const p1 = await packetsSent(page);
  t.diagnostic(`RTP packets sent by the delegate in webcast mode over 1.5 s: ${p1 - p0}`);
  assert.ok(p1 - p0 < 5, `the page does not send audio in webcast mode (${p1 - p0} packets in 1.5 s)`);
  await sleep(1000);

  // Back to interactive: requests work again.
  await h.consoleSetMode(con, 'interactive');
  await h.waitDelegate(page, 'listening with a request button',
    (v) => v.banner === 'listening' && v.request && !v.request.disabled);
  await page.click('#request');
  await h.waitDelegate(page, 'queued', (v) => v.banner === 'queued');
  await h.waitFor(con, 'the queue to show the delegate', () => !!document.querySelector('#queue-list li[data-delegate="wcm-d1"]'));
  const p2 = await packetsSent(page);
  await sleep(1000);
  const p3 = await packetsSent(page);
  assert.ok(p3 - p2 > 20, `the page sends audio again in interactive mode (${p3 - p2} packets in 1 s)`);

  const exit = await h.stopBridge();
  assert.deepEqual([exit.code, exit.signal], [0, null], `bridge exit ${JSON.stringify(exit)}`);
  const pa = readWav(bridge.paWav);
  const all = wavLevels(pa, [B]);
  const last = wavLevels(pa, [B], -1.0);
  t.diagnostic(`PA ${pa.seconds.toFixed(1)} s: max B ${fmtLevels(all)}; last 1 s ${fmtLevels(last)}`);
  assert.ok(all[B] > -40, `the PA carried B while live: ${fmtLevels(all)}`);
  assert.ok(last[B] < -55, `no B in the PA's last second (off the floor since the webcast switch): ${fmtLevels(last)}`);
}));
