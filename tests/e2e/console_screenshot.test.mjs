// Screenshots of the chair console at 1366×768 with participants in every
// state: a live delegate in a real browser (scored: MOS bars), a muted one,
// two queued, a barred one (reason), one listening, an observer, and a few
// chat messages; the live delegate is selected (details drawer). The extra
// participants are raw protocol clients (no media). The main screenshot is
// also copied to docs/console.png when FB_UPDATE_DOCS=1. FB_E2E_SHOTS=DIR
// copies every screenshot there too (harness shot()).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { e2e, sleep, REPO, CONSOLE_VIEWPORT } from './harness.mjs';

const B = 1000;

test('console_screenshot', { timeout: 120000 }, (t) => e2e('console_screenshot', async (h) => {
  await h.startBridge();
  const [chairCtx, delCtx] = await Promise.all([
    h.browser({ viewport: CONSOLE_VIEWPORT }),
    h.tone(B).then((mic) => h.browser({ mic })),
  ]);
  const people = {
    chair: { name: 'Chair of Study Group 12', role: 'chair' },
    amina: { name: 'Dr. Amina Diallo (Senegal)' },
    kenji: { name: 'Mr. Kenji Watanabe (Japan)' },
    laura: { name: 'Ms. Laura Pérez García (Spain)' },
    ivan: { name: 'Mr. Ivan Petrov (Russian Federation)' },
    chen: { name: 'Ms. Chen Wei (China)' },
    ana: { name: 'Ms. Ana Souza (Brazil)' },
    press: { name: 'Press office', role: 'observer' },
  };
  const id = (k) => `css-${k}`;
  const tok = {};
  await Promise.all(Object.entries(people).map(async ([k, p]) => {
    tok[k] = await h.token({ delegate: id(k), name: p.name, role: p.role || 'delegate' });
  }));
  const [con, page] = await Promise.all([h.openConsole(chairCtx, tok.chair), h.openPage(delCtx, tok.amina)]);
  await Promise.all([h.waitMedia(con), h.waitMedia(page)]);
  const raw = {};
  for (const k of ['kenji', 'laura', 'ivan', 'chen', 'ana', 'press']) raw[k] = await h.rawParticipant(tok[k]);
  const request = async (k) => {
    raw[k].send({ v: 1, type: 'request_floor' });
    await h.waitConsoleRow(con, id(k), { state: 'queued' });
  };

  // The states.
  await page.click('#request');
  await h.waitConsoleRow(con, id('amina'), { state: 'queued' });
  await h.consoleAction(con, id('amina'), 'grant');
  await request('chen');
  await h.consoleAction(con, id('chen'), 'grant');
  await h.waitConsoleRow(con, id('chen'), { state: 'live' });
  await h.consoleAction(con, id('chen'), 'mute');
  await h.waitConsoleRow(con, id('chen'), { state: 'muted' });
  await request('ivan');
  await h.consoleCut(con, id('ivan'), 'poor audio');
  await h.waitConsoleRow(con, id('ivan'), { state: 'barred' });
  await request('kenji');
  await request('laura');

  // A little chat.
  await con.fill('#chat-text', 'Good morning. We resume with agenda item 4, document C-112.');
  await con.press('#chat-text', 'Enter');
  raw.kenji.send({ v: 1, type: 'chat', to: 'all', text: 'Could the secretariat show C-112 Rev.1 on the screen?' });
  raw.ivan.send({ v: 1, type: 'chat', to: 'chair', text: 'I switched to a wired headset; my audio should be fine now.' });
  await h.waitFor(con, 'three chat messages', () => document.querySelectorAll('#chat-log li').length >= 3);

  // Select the live speaker; wait for its score.
  await con.click(`#parts-body tr[data-delegate="${id('amina')}"] td.c-name`);
  await h.waitFor(con, 'a MOS for the live delegate', (d) => {
    const el = document.querySelector(`#parts-body tr[data-delegate="${d}"] .mos`);
    return el && /^[0-9.]+$/.test(el.textContent);
  }, id('amina'), 5000);
  await con.mouse.move(5, 5); // no hover highlight in the picture
  await sleep(1200); // speaking and waiting times move on

  const st = await h.consoleState(con);
  const byId = Object.fromEntries(st.rows.map((r) => [r.delegate, r]));
  assert.equal(byId[id('amina')].state, 'live');
  assert.equal(byId[id('chen')].state, 'muted');
  assert.equal(byId[id('ivan')].state, 'barred');
  assert.equal(byId[id('kenji')].state, 'queued');
  assert.equal(byId[id('ana')].state, 'listening');
  assert.equal(byId[id('press')].state, 'observer');
  assert.deepEqual(st.queue.map((q) => q.delegate), [id('kenji'), id('laura')]);
  assert.ok(st.details && /^[0-9.]+$/.test(st.details.mos), `the details drawer shows the MOS: ${JSON.stringify(st.details)}`);
  const layout = await con.evaluate(() => ({
    scrollW: document.documentElement.scrollWidth, scrollH: document.documentElement.scrollHeight,
    w: window.innerWidth, h: window.innerHeight,
  }));
  assert.ok(layout.scrollW <= layout.w && layout.scrollH <= layout.h, `no page scrolling at 1366×768: ${JSON.stringify(layout)}`);

  const shot = (p, name, opts) => h.shot(p, name, opts);
  const main = await shot(con, 'console.png');
  await con.keyboard.press('?');
  await con.waitForSelector('#help[open]', { timeout: 5000 });
  await shot(con, 'console-help.png');
  await con.keyboard.press('Escape');
  await con.keyboard.press('x'); // cut the selected participant: the reason dialog
  await con.waitForSelector('#cut-dialog[open]', { timeout: 5000 });
  await shot(con, 'console-cut.png');
  await con.keyboard.press('Escape');
  await shot(page, 'delegate-live.png', { fullPage: true });

  // The keyboard: G gives the floor to the first in the queue; E with several
  // on the floor ends the selected one's turn; A on someone not barred is
  // refused by the server, shown as a dismissable toast with the code; W asks
  // before switching to webcast (Esc cancels).
  await con.keyboard.press('g');
  await h.waitConsoleRow(con, id('kenji'), { state: 'live' });
  assert.deepEqual((await h.consoleState(con)).queue.map((q) => q.delegate), [id('laura')]);
  await con.keyboard.press('e'); // Amina (selected) among three on the floor
  await h.waitConsoleRow(con, id('amina'), { state: 'listening' });
  await h.waitConsoleRow(con, id('kenji'), { state: 'live' });
  await con.click(`#parts-body tr[data-delegate="${id('ana')}"] td.c-name`);
  await con.mouse.move(5, 5);
  await con.keyboard.press('a');
  await h.waitFor(con, 'a not_barred toast', () => !!document.querySelector('#toasts .toast[data-code="not_barred"]'));
  await shot(con, 'console-toast.png');
  await con.click('#toasts .toast[data-code="not_barred"] .toast-x');
  await h.waitFor(con, 'the toast to go', () => !document.querySelector('#toasts .toast[data-code="not_barred"]'));
  await con.keyboard.press('w');
  await con.waitForSelector('#confirm[open]', { timeout: 5000 });
  await con.keyboard.press('Escape');
  await sleep(300);
  assert.equal((await h.consoleState(con)).mode, 'interactive', 'W then Esc changes nothing');

  const size = statSync(main).size;
  t.diagnostic(`console.png: ${size} bytes`);
  assert.ok(size > 30000, `a non-trivial screenshot (${size} bytes)`);
  // The documentation's picture is refreshed only on request, so a test run
  // never dirties the work tree: FB_UPDATE_DOCS=1 ctest -R console_screenshot
  if (process.env.FB_UPDATE_DOCS === '1') {
    const docs = path.join(REPO, 'docs');
    mkdirSync(docs, { recursive: true });
    copyFileSync(main, path.join(docs, 'console.png'));
    assert.ok(statSync(path.join(docs, 'console.png')).size === size, 'docs/console.png written');
  }
}));
