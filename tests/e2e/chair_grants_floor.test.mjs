// The chair gives the floor from the console and ends the turn. A delegate
// (fake microphone B = 1000 Hz, no "speak" claim) asks with "Request to
// speak"; the console's queue shows them; "Give floor" puts them on the
// floor (the page says so, the room PA carries B); "End turn" takes them off
// (the page says so; the PA's last second, >= 2 s later, has no B).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { e2e, sleep, readWav, wavLevels, fmtLevels, CONSOLE_VIEWPORT } from './harness.mjs';

const B = 1000;

test('chair_grants_floor', { timeout: 120000 }, (t) => e2e('chair_grants_floor', async (h) => {
  const bridge = await h.startBridge();
  const [chairCtx, delCtx] = await Promise.all([
    h.browser({ viewport: CONSOLE_VIEWPORT }),
    h.tone(B).then((mic) => h.browser({ mic })),
  ]);
  const [chairTok, delTok] = await Promise.all([
    h.token({ delegate: 'cgf-chair', name: 'Chair Grant', role: 'chair' }),
    h.token({ delegate: 'cgf-d1', name: 'Delegate Grant' }),
  ]);
  const [con, page] = await Promise.all([h.openConsole(chairCtx, chairTok), h.openPage(delCtx, delTok)]);
  await Promise.all([h.waitMedia(con), h.waitMedia(page)]);

  // Listening, with a request button.
  const before = await h.waitDelegate(page, 'listening with a request button',
    (v) => v.floorVisible && v.banner === 'listening' && v.request && v.request.text === 'Request to speak' && !v.request.disabled);
  assert.match(before.title, /listening/i);
  await h.waitConsoleRow(con, 'cgf-d1', { state: 'listening' });

  // Request → queued on the page and on the console.
  await page.click('#request');
  const queued = await h.waitDelegate(page, 'queued, 1st', (v) => v.banner === 'queued' && /1st in the queue/.test(v.detail));
  assert.equal(queued.request.text, 'Withdraw');
  await h.waitFor(con, 'the console queue to show the delegate', () => {
    const li = document.querySelector('#queue-list li[data-delegate="cgf-d1"]');
    return li && li.querySelector('.q-name').textContent === 'Delegate Grant' && li.querySelector('.q-pos').textContent === '1.';
  });
  await h.waitConsoleRow(con, 'cgf-d1', { state: 'queued' });

  // Give floor (from the queue panel) → live.
  await con.click('#queue-list li[data-delegate="cgf-d1"] button[data-act="grant"]');
  const live = await h.waitDelegate(page, '"You have the floor"', (v) => v.banner === 'live');
  assert.match(live.title, /you have the floor/i);
  await h.waitConsoleRow(con, 'cgf-d1', { state: 'live' });
  const q = await h.consoleState(con);
  assert.equal(q.queue.length, 0, `the queue is empty once granted: ${JSON.stringify(q.queue)}`);
  await sleep(2500); // B reaches the PA while live

  // End turn → listening; the PA stops carrying B.
  await h.consoleAction(con, 'cgf-d1', 'end_turn');
  await h.waitDelegate(page, 'listening again', (v) => v.banner === 'listening' && v.request && v.request.text === 'Request to speak');
  await h.waitConsoleRow(con, 'cgf-d1', { state: 'listening' });
  await sleep(2500);

  const exit = await h.stopBridge();
  assert.deepEqual([exit.code, exit.signal], [0, null], `bridge exit ${JSON.stringify(exit)}`);
  const pa = readWav(bridge.paWav);
  const all = wavLevels(pa, [B]);
  const last = wavLevels(pa, [B], -1.0);
  t.diagnostic(`PA ${pa.seconds.toFixed(1)} s: max B ${fmtLevels(all)}; last 1 s ${fmtLevels(last)}`);
  assert.ok(all[B] > -40, `the PA carried B while the delegate had the floor: ${fmtLevels(all)}`);
  assert.ok(last[B] < -55, `no B in the PA's last second, >= 2 s after the turn ended: ${fmtLevels(last)}`);
}));
