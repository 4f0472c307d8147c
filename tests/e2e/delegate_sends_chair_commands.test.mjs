// A delegate cannot use the chair's messages: grant, cut, set_mode (and the
// other chair commands) sent on the delegate page's own WebSocket are each
// refused with not_chair, and nothing changes on the chair's console. The
// console opened with a delegate's token says it needs a chair token, and
// does not join (which would take over the delegate's own connection).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { e2e, sleep, CONSOLE_VIEWPORT } from './harness.mjs';

test('delegate_sends_chair_commands', { timeout: 120000 }, () => e2e('delegate_sends_chair_commands', async (h) => {
  await h.startBridge();
  const [chairCtx, delCtx] = await Promise.all([h.browser({ viewport: CONSOLE_VIEWPORT }), h.browser()]);
  const [chairTok, delTok] = await Promise.all([
    h.token({ delegate: 'dsc-chair', name: 'Chair Commands', role: 'chair' }),
    h.token({ delegate: 'dsc-d1', name: 'Delegate Commands' }),
  ]);
  const [con, page] = await Promise.all([h.openConsole(chairCtx, chairTok), h.openPage(delCtx, delTok)]);
  await Promise.all([h.waitState(con, 'media_connected'), h.waitState(page, 'media_connected')]);
  await h.waitConsoleRow(con, 'dsc-d1', { state: 'listening' });
  await h.waitFor(con, 'the chat policy', () => !document.getElementById('chat-policy').disabled);
  const before = await h.consoleState(con);

  const attempts = [
    { type: 'grant', delegate: 'dsc-d1' },
    { type: 'cut', delegate: 'dsc-chair', reason: 'coup' },
    { type: 'set_mode', mode: 'webcast' },
    { type: 'end_turn', delegate: 'dsc-chair' },
    { type: 'mute', delegate: 'dsc-chair', on: true },
    { type: 'mute_all' },
    { type: 'allow', delegate: 'dsc-d1' },
    { type: 'set_session', index: 0 },
    { type: 'chat_policy', delegates_to_all: !before.chatPolicy },
  ];
  for (const msg of attempts) {
    const n = await page.evaluate(() => window.floorbridge.errors.length);
    assert.ok(await h.pageSend(page, msg), `sent ${msg.type}`);
    const err = await h.waitError(page, 'not_chair', { after: n, ms: 5000 })
      .catch((e) => { e.message = `${msg.type}: ${e.message}`; throw e; });
    assert.equal(err.request, msg.type, `the error names the request: ${JSON.stringify(err)}`);
  }
  await sleep(700); // anything the bridge would broadcast has arrived by now

  const after = await h.consoleState(con);
  const pick = (s) => ({
    mode: s.mode, session: s.session, chatPolicy: s.chatPolicy, queue: s.queue.map((x) => x.delegate),
    rows: s.rows.map((r) => [r.delegate, r.state, r.reason]),
  });
  assert.deepEqual(pick(after), pick(before), 'the console shows the same meeting');
  assert.equal(after.mode, 'interactive');
  const you = (await h.delegateState(page)).you;
  assert.equal(you.state, 'listening', `the delegate is unchanged: ${JSON.stringify(you)}`);
  assert.equal(await page.evaluate(() => window.floorbridge.state), 'media_connected', 'refusals do not disconnect');

  // The console with the delegate's token.
  const wrong = await h.openConsole(delCtx, delTok);
  const gate = await h.waitFor(wrong, 'the chair-token notice', () => {
    const g = document.getElementById('gate');
    return g && !g.hidden ? g.textContent : null;
  });
  assert.match(gate, /this console needs a chair token/i);
  assert.equal(await wrong.evaluate(() => window.floorbridge.connects), 0, 'the console did not connect');
  await sleep(500);
  assert.equal(await page.evaluate(() => window.floorbridge.state), 'media_connected', 'the delegate page was not replaced');
}));
