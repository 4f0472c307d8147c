// The meeting chat between the console and a delegate page: messages to all
// and to the chair arrive with sender and addressing; markup in a message is
// shown as text (no element is created, no handler runs); when the chair turns
// off "delegates may chat to all", the page offers only "to the chair" and a
// raw message to all is refused with chat_disabled. Observers read the chat
// but have no compose form (and a raw chat from one is still the server's
// business: it is not tested here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { e2e, CONSOLE_VIEWPORT } from './harness.mjs';

const XSS = '<img src=x onerror=window.__pwned=1>hi';

test('chat', { timeout: 120000 }, () => e2e('chat', async (h) => {
  await h.startBridge();
  // One Chromium per page: a page behind another tab is throttled (timers, frames).
  const [chairCtx, delCtx, obsCtx] = await Promise.all([h.browser({ viewport: CONSOLE_VIEWPORT }), h.browser(), h.browser()]);
  const [chairTok, delTok, obsTok] = await Promise.all([
    h.token({ delegate: 'cht-chair', name: 'Chair Chat', role: 'chair' }),
    h.token({ delegate: 'cht-d1', name: 'Delegate Chat' }),
    h.token({ delegate: 'cht-obs', name: 'Observer Chat', role: 'observer' }),
  ]);
  const [con, page, obs] = await Promise.all([h.openConsole(chairCtx, chairTok), h.openPage(delCtx, delTok), h.openPage(obsCtx, obsTok)]);
  await Promise.all([h.waitState(con, 'media_connected'), h.waitState(page, 'media_connected'), h.waitState(obs, 'media_connected')]);
  await h.waitDelegate(page, 'the chat panel', (v) => v.chatVisible && v.chatFormVisible && !v.chatToAllDisabled);

  // Chair → all.
  await con.fill('#chat-text', 'Welcome to the working session');
  await con.press('#chat-text', 'Enter');
  const got = await h.waitDelegate(page, "the chair's message", (v) => v.chat.some((m) => m.text === 'Welcome to the working session'));
  const m1 = got.chat.find((m) => m.text === 'Welcome to the working session');
  assert.deepEqual([m1.from, m1.name, m1.to], ['cht-chair', 'Chair Chat', 'all']);
  const ov = await h.waitDelegate(obs, "the observer reads the chair's message", (v) => v.chat.some((m) => m.text === 'Welcome to the working session'));
  assert.ok(ov.chatVisible && !ov.chatFormVisible, `observers read, cannot post: ${JSON.stringify(ov)}`);
  assert.match(ov.chatNote || '', /cannot post/i);
  assert.equal(ov.request, null, 'observers have no request button');

  // Delegate → chair.
  await page.selectOption('#chat-to', 'chair');
  await page.fill('#chat-text', 'Thank you, Chair');
  await page.click('#chat-send');
  await h.waitFor(con, "the delegate's message to the chair", () => [...document.querySelectorAll('#chat-log li')]
    .some((li) => li.dataset.to === 'chair' && li.dataset.from === 'cht-d1' && li.querySelector('.chat-text').textContent === 'Thank you, Chair'
      && /to the chair/i.test(li.textContent)));

  // Markup stays text, on the console and on the page.
  await page.selectOption('#chat-to', 'all');
  await page.fill('#chat-text', XSS);
  await page.click('#chat-send');
  await h.waitFor(con, 'the markup message on the console', (x) => [...document.querySelectorAll('#chat-log .chat-text')]
    .some((e) => e.textContent === x), XSS);
  await h.waitDelegate(page, 'the markup message echoed to its sender', (v) => v.chat.some((m) => m.text === '<img src=x onerror=window.__pwned=1>hi'));
  await h.shot(con, 'console-chat');
  await h.shot(obs, 'observer', { fullPage: true });
  for (const [who, p] of [['console', con], ['delegate page', page], ['observer page', obs]]) {
    const seen = await p.evaluate(() => ({
      pwned: window.__pwned,
      imgs: document.querySelectorAll('#chat-log img').length,
      elements: document.querySelectorAll('#chat-log .chat-text *').length,
    }));
    assert.equal(seen.pwned, undefined, `${who}: no handler ran`);
    assert.equal(seen.imgs, 0, `${who}: no <img> in the chat panel`);
    assert.equal(seen.elements, 0, `${who}: message text has no elements`);
  }

  // The chair allows messages to the chair only.
  await h.waitFor(con, 'the policy toggle', () => !document.getElementById('chat-policy').disabled && document.getElementById('chat-policy').checked);
  await con.click('#chat-policy');
  const limited = await h.waitDelegate(page, '"to all" disabled', (v) => v.chatToAllDisabled);
  assert.match(limited.chatNote || '', /chair only/i);
  assert.equal(await page.inputValue('#chat-to'), 'chair');
  await h.waitFor(con, 'the console toggle to show the new policy', () => !document.getElementById('chat-policy').checked);
  const n = await page.evaluate(() => window.floorbridge.errors.length);
  assert.ok(await h.pageSend(page, { type: 'chat', to: 'all', text: 'everyone?' }));
  await h.waitError(page, 'chat_disabled', { after: n });
  // ... but to the chair still works.
  await page.fill('#chat-text', 'Only to you');
  await page.click('#chat-send');
  await h.waitFor(con, 'the message to the chair', () => [...document.querySelectorAll('#chat-log .chat-text')].some((e) => e.textContent === 'Only to you'));
}));
