// Refusals are shown with their code and end the page's attempts: a bad token
// must not start a reconnect loop. Also: server-provided text is shown as text
// (a display name with markup is not turned into elements).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { e2e, craftToken, sleep, MEETING, receivedUntil, fmtLevels, wsClient, withTimeout } from './harness.mjs';

const A = 440;

// After the page has failed, wait longer than the first backoff step (a loop
// would show as a second connection), then read what it shows.
async function refusal(page) {
  return page.evaluate(() => ({
    state: window.floorbridge.state,
    connects: window.floorbridge.connects,
    code: document.getElementById('error-code').textContent,
    errorVisible: !document.getElementById('error').hidden,
    message: document.getElementById('error-message').textContent,
    status: document.getElementById('state').textContent,
    received: window.floorbridge.received.getFloatTimeDomain().length,
  }));
}

test('page_errors', { timeout: 120000 }, () => e2e('page_errors', async (h) => {
  const bridge = await h.startBridge();

  // The contract the page relies on, at the protocol level: ping works before
  // joining, and a refused join is an error with a token_* code.
  const raw = await wsClient(bridge.url);
  raw.send({ v: 1, type: 'ping', id: 7 });
  assert.deepEqual(await raw.next((m) => m.type === 'pong'), { v: 1, type: 'pong', id: 7 });
  raw.send({ v: 1, type: 'join', token: 'not-a-jwt' });
  const refused = await raw.next((m) => m.type === 'error');
  assert.equal(refused.code, 'token_malformed', JSON.stringify(refused));
  assert.equal(typeof refused.message, 'string');
  raw.close();
  await withTimeout(raw.closed, 5000, 'the raw WebSocket to close');
  const ctx = await h.browser();
  const now = Math.floor(Date.now() / 1000);
  const claims = { mtg: MEETING, sub: 'x1', name: 'X', role: 'delegate', iat: now, exp: now + 600 };

  const cases = [
    ['garbage', 'token=not-a-jwt', 'token_malformed'],
    ['other secret', `token=${craftToken(claims, { secret: 'another-secret-0123456789abcdef' })}`, 'token_bad_signature'],
    ['alg none', `token=${craftToken(claims, { alg: 'none' })}`, 'token_wrong_alg'],
    ['expired', `token=${craftToken({ ...claims, iat: now - 7200, exp: now - 3600 }, { secret: h.secret })}`, 'token_expired'],
    ['other meeting', `token=${await h.token({ meeting: 'another-meeting' })}`, 'token_wrong_meeting'],
    ['no token', 'relay=1', 'no_token'],
  ];
  // All refusals at once (one page each), then one wait for a reconnect loop.
  const pages = await Promise.all(cases.map(([, fragment]) => h.openPage(ctx, null, { fragment })));
  await Promise.all(pages.map((p, i) => h.waitState(p, 'failed', 10000)
    .catch((e) => { e.message = `${cases[i][0]}: ${e.message}`; throw e; })));
  await sleep(2500); // > the first backoff step (at most 1.25 s)
  for (const [i, [what, , code]] of cases.entries()) {
    const seen = await refusal(pages[i]);
    const msg = `${what}: ${JSON.stringify(seen)}`;
    assert.equal(seen.state, 'failed', msg);
    assert.ok(seen.errorVisible, `error shown: ${msg}`);
    assert.equal(seen.code, code, `error code shown: ${msg}`);
    assert.ok(seen.message.length > 0, `a human message: ${msg}`);
    assert.ok(seen.connects <= 1, `no reconnect loop: ${msg}`);
    assert.equal(seen.received, 0, `a refused page receives no audio: ${msg}`);
  }
  await Promise.all(pages.map((p) => p.close()));

  // Markup in a display name arrives as text, from the token and from the server.
  const name = '<img id="xss" src="x" onerror="window.__xss=1"><b>Dr. Evil</b>';
  const page = await h.openPage(ctx, await h.token({ delegate: 'x2', name, role: 'observer' }));
  await h.waitMedia(page);
  const seen = await page.evaluate(() => ({
    text: document.getElementById('who-name').textContent,
    injected: !!document.getElementById('xss') || document.querySelectorAll('#who-name *').length > 0,
    xss: window.__xss === 1,
  }));
  assert.equal(seen.text, name);
  assert.ok(!seen.injected && !seen.xss, `markup stays text: ${JSON.stringify(seen)}`);
  const rx = await receivedUntil(page, [A], (l) => l[A] > -40, 2, 1000);
  assert.ok(rx[A] > -40, `the joined page hears the floor A: ${fmtLevels(rx)}`);
}));
