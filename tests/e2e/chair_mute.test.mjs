// The chair mutes a live delegate from the console: the delegate's page
// disables its unmute button and says why; the delegate's own attempt to
// unmute (a raw {"type":"mute","on":false} on the page's WebSocket) is refused
// with chair_muted; the room PA stops carrying the delegate's B.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { e2e, sleep, readWav, wavLevels, fmtLevels, CONSOLE_VIEWPORT } from './harness.mjs';

const B = 1000;

test('chair_mute', { timeout: 120000 }, (t) => e2e('chair_mute', async (h) => {
  const bridge = await h.startBridge();
  const [chairCtx, delCtx] = await Promise.all([
    h.browser({ viewport: CONSOLE_VIEWPORT }),
    h.tone(B).then((mic) => h.browser({ mic })),
  ]);
  const [chairTok, delTok] = await Promise.all([
    h.token({ delegate: 'cmu-chair', name: 'Chair Mute', role: 'chair' }),
    h.token({ delegate: 'cmu-d1', name: 'Delegate Mute' }),
  ]);
  const [con, page] = await Promise.all([h.openConsole(chairCtx, chairTok), h.openPage(delCtx, delTok)]);
  await Promise.all([h.waitMedia(con), h.waitMedia(page)]);

  await h.waitDelegate(page, 'a request button', (v) => v.request && !v.request.disabled);
  await page.click('#request');
  await h.waitConsoleRow(con, 'cmu-d1', { state: 'queued' });
  await h.consoleAction(con, 'cmu-d1', 'grant');
  await h.waitDelegate(page, 'live', (v) => v.banner === 'live');
  const unmuted = await h.delegateState(page);
  assert.ok(!unmuted.mute.disabled, `the delegate's own mute button works while live: ${JSON.stringify(unmuted.mute)}`);
  await sleep(2000); // B reaches the PA

  // Chair: Mute.
  await h.consoleAction(con, 'cmu-d1', 'mute');
  const muted = await h.waitDelegate(page, 'muted by the chair', (v) => v.banner === 'chair-muted' && v.mute.disabled);
  assert.match(muted.title, /muted by the chair/i);
  assert.match(muted.mute.text, /muted by the chair/i);
  assert.match(muted.mute.hint, /only the chair can unmute/i, 'the page explains why unmute is disabled');
  await h.shot(page, 'delegate-chair-muted', { fullPage: true });
  const row = await h.waitConsoleRow(con, 'cmu-d1', { state: 'muted' });
  assert.equal(row.actions.unmute, true, `the console offers Unmute: ${JSON.stringify(row)}`);

  // The delegate tries anyway, on the page's own WebSocket.
  const nErr = (await page.evaluate(() => window.floorbridge.errors.length));
  assert.ok(await h.pageSend(page, { type: 'mute', on: false }), 'sent on the page socket');
  const err = await h.waitError(page, 'chair_muted', { after: nErr });
  assert.equal(typeof err.message, 'string');
  await sleep(300);
  const still = await h.delegateState(page);
  assert.equal(still.banner, 'chair-muted', `still muted by the chair: ${JSON.stringify(still)}`);
  assert.equal((await page.evaluate(() => window.floorbridge.state)), 'media_connected', 'the refusal does not disturb the connection');
  await sleep(2200);

  const exit = await h.stopBridge();
  assert.deepEqual([exit.code, exit.signal], [0, null], `bridge exit ${JSON.stringify(exit)}`);
  const pa = readWav(bridge.paWav);
  const all = wavLevels(pa, [B]);
  const last = wavLevels(pa, [B], -1.0);
  t.diagnostic(`PA ${pa.seconds.toFixed(1)} s: max B ${fmtLevels(all)}; last 1 s ${fmtLevels(last)}`);
  assert.ok(all[B] > -40, `the PA carried B before the mute: ${fmtLevels(all)}`);
  assert.ok(last[B] < -55, `no B in the PA's last second while muted: ${fmtLevels(last)}`);
}));
