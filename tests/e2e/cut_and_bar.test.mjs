// Cut and bar: the chair cuts a live delegate with a reason; the delegate's
// page shows "barred" and the reason; a cut belongs to the delegate, not the
// connection, so after a page reload they are still barred and a request is
// refused with barred; once the chair allows them they can request again.
// While live, the console shows the delegate's MOS (1..4.5) within 5 s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { e2e, CONSOLE_VIEWPORT } from './harness.mjs';

const B = 1000;

test('cut_and_bar', { timeout: 120000 }, (t) => e2e('cut_and_bar', async (h) => {
  await h.startBridge();
  const [chairCtx, delCtx] = await Promise.all([
    h.browser({ viewport: CONSOLE_VIEWPORT }),
    h.tone(B).then((mic) => h.browser({ mic })),
  ]);
  const [chairTok, delTok] = await Promise.all([
    h.token({ delegate: 'cab-chair', name: 'Chair Cut', role: 'chair' }),
    h.token({ delegate: 'cab-d1', name: 'Delegate Cut' }),
  ]);
  const [con, page] = await Promise.all([h.openConsole(chairCtx, chairTok), h.openPage(delCtx, delTok)]);
  await Promise.all([h.waitMedia(con), h.waitMedia(page)]);

  await h.waitDelegate(page, 'a request button', (v) => v.request && !v.request.disabled);
  await page.click('#request');
  await h.waitConsoleRow(con, 'cab-d1', { state: 'queued' });
  await h.consoleAction(con, 'cab-d1', 'grant');
  await h.waitDelegate(page, 'live', (v) => v.banner === 'live');

  // The console scores the live speaker.
  const scored = await h.waitFor(con, 'a MOS for the live delegate on the console', () => {
    const el = document.querySelector('#parts-body tr[data-delegate="cab-d1"] .mos');
    return el && /^[0-9.]+$/.test(el.textContent) ? Number(el.textContent) : null;
  }, null, 5000);
  t.diagnostic(`console MOS for the live delegate: ${scored}`);
  assert.ok(scored >= 1 && scored <= 4.5, `MOS between 1 and 4.5: ${scored}`);

  // Cut with a reason.
  await h.consoleCut(con, 'cab-d1', 'poor audio');
  const barred = await h.waitDelegate(page, 'barred with the reason', (v) => v.banner === 'barred');
  assert.match(barred.title, /barred/i);
  assert.match(`${barred.title} ${barred.detail}`, /poor audio/);
  assert.ok(barred.request && barred.request.disabled, `no request while barred: ${JSON.stringify(barred.request)}`);
  await h.shot(page, 'delegate-barred', { fullPage: true });
  const row = await h.waitConsoleRow(con, 'cab-d1', { state: 'barred' });
  assert.equal(row.reason, 'poor audio');
  assert.equal(row.actions.allow, true, `the console offers Allow: ${JSON.stringify(row.actions)}`);

  // Reconnecting does not lift the bar.
  await page.reload({ timeout: 15000 });
  await h.waitState(page, 'media_connected');
  const again = await h.waitDelegate(page, 'still barred after a reload', (v) => v.banner === 'barred');
  assert.match(`${again.title} ${again.detail}`, /poor audio/);
  const n = await page.evaluate(() => window.floorbridge.errors.length);
  assert.ok(await h.pageSend(page, { type: 'request_floor' }));
  await h.waitError(page, 'barred', { after: n });
  await h.waitConsoleRow(con, 'cab-d1', { state: 'barred', connected: true });

  // The chair allows: the delegate may ask again.
  await h.consoleAction(con, 'cab-d1', 'allow');
  await h.waitDelegate(page, 'listening with an enabled request button',
    (v) => v.banner === 'listening' && v.request && !v.request.disabled && v.request.text === 'Request to speak');
  await page.click('#request');
  await h.waitDelegate(page, 'queued', (v) => v.banner === 'queued');
  await h.shot(page, 'delegate-queued', { fullPage: true });
  await h.waitFor(con, 'the queue to show the delegate again', () => !!document.querySelector('#queue-list li[data-delegate="cab-d1"]'));
}));
