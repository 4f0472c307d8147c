// From the registration list to the console, over TLS, in one browser:
// `floorbridge invite` turns a CSV with names in Cyrillic, Arabic, Chinese and
// Latin with accents into personal links; each link is opened as written and
// joins; the chair's console shows every name exactly as it was in the CSV;
// the listen-only person joins as an observer. Then the list is imported
// again without one delegate: that delegate's page, already in the meeting,
// is disconnected within seconds and says why (token_revoked), the others
// keep listening, and the chair's roster shows them gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { e2e, sleep, CONSOLE_VIEWPORT } from './harness.mjs';

const PEOPLE = [
  ['chair-1', 'Мария Иванова', 'chair', 'interactive'],
  ['d-ar', 'فاطمة الزهراء', 'delegate', 'interactive'],
  ['d-zh', '李明', 'delegate', 'interactive'],
  ['d-es', 'José Müller-Øster', 'delegate', 'interactive'],
  ['o-ie', 'Zoë Ní Bhriain, Dr', 'delegate', 'listen-only'],
];

const csvOf = (people) => 'delegate_id,name,role,email,participation\n' + people.map(([id, name, role, part]) =>
  `${id},"${name}",${role},${id}@example.org,${part}`).join('\n') + '\n';

const day = (offset) => new Date(Date.now() + offset * 86400000).toISOString().slice(0, 10);

test('invite_links', { timeout: 150000 }, (t) => e2e('invite_links', async (h) => {
  const revoked = path.join(h.tmp, 'revoked.txt');
  const bridge = await h.startBridge({ tls: true, sets: [`meeting.revoked_file=${revoked}`] });
  const dates = { from: day(0), to: day(1), revoked };

  const first = await h.invite(csvOf(PEOPLE), dates);
  assert.equal(first.code, 0, `invite succeeds: ${first.stderr}`);
  assert.equal(first.rows.length, PEOPLE.length, 'one invitation a person');
  for (const [i, [id, name]] of PEOPLE.entries()) {
    assert.equal(first.rows[i].delegate_id, id);
    assert.equal(first.rows[i].name, name, `the mail merge keeps ${id}'s name`);
    assert.ok(first.rows[i].link.startsWith(bridge.url + '/'), `the link points at the bridge: ${first.rows[i].link.slice(0, 60)}`);
  }

  const ctx = await h.browser({ mic: await h.tone(700), viewport: CONSOLE_VIEWPORT });
  const pages = {};
  for (const row of first.rows) {
    const [base, frag] = row.link.split('#');
    const file = base.slice(bridge.url.length + 1); // "" or "chair.html"
    pages[row.delegate_id] = await h.openPage(ctx, null, { fragment: frag, path: file });
  }
  await Promise.all(Object.values(pages).map((p) => h.waitMedia(p, 15000)));
  for (const [id, name, role, part] of PEOPLE) {
    const me = await pages[id].evaluate(() => ({ name: window.floorbridge.name, role: window.floorbridge.role }));
    assert.equal(me.name, name, `${id}'s page greets them by the CSV's name`);
    assert.equal(me.role, part === 'listen-only' ? 'observer' : role, `${id} joins as ${me.role}`);
  }

  // the console shows every name byte for byte, and the rendered text too
  const chair = pages['chair-1'];
  const names = PEOPLE.slice(1).map((p) => p[1]);
  await h.waitFor(chair, 'every delegate connected in the roster', (want) => {
    const r = window.floorbridge.console.roster;
    return want.every((n) => r.some((p) => p.name === n && p.connected));
  }, names, 10000);
  const shown = await chair.evaluate(() => [...document.querySelectorAll('.p-name')].map((e) => e.textContent));
  for (const n of names) assert.ok(shown.includes(n), `the console renders "${n}" (shown: ${JSON.stringify(shown)})`);

  // d-zh leaves the registration list while in the meeting
  const second = await h.invite(csvOf(PEOPLE.filter((p) => p[0] !== 'd-zh')), dates);
  assert.equal(second.code, 0, `re-import succeeds: ${second.stderr}`);
  assert.match(second.stdout, /revoked d-zh/, 'the re-import reports the revocation');
  const t0 = Date.now();
  const err = await h.waitFor(pages['d-zh'], 'the revoked page to say why', () => {
    const e = window.floorbridge.errors.find((x) => x.code === 'token_revoked');
    return e && window.floorbridge.state === 'failed' ? e : null;
  }, null, 8000);
  const took = Date.now() - t0;
  t.diagnostic(`revoked page disconnected ${took} ms after the re-import: ${JSON.stringify(err)}`);
  assert.ok(took < 5000, `disconnected within seconds (${took} ms)`);
  assert.match(err.message, /withdrawn/, 'the page says the invitation was withdrawn');
  const status = await pages['d-zh'].evaluate(() => document.body.innerText);
  assert.match(status, /Disconnected/, 'the page shows "Disconnected", not a join failure');
  await sleep(1500);
  assert.equal(await pages['d-zh'].evaluate(() => window.floorbridge.connects), 1, 'and does not reconnect');
  await h.waitFor(chair, 'the roster to show d-zh gone', () =>
    !window.floorbridge.console.roster.some((p) => p.delegate === 'd-zh' && p.connected), null, 5000);
  for (const id of ['chair-1', 'd-ar', 'd-es', 'o-ie'])
    assert.equal(await pages[id].evaluate(() => window.floorbridge.state), 'media_connected', `${id} still in`);
  await bridge.log.waitFor((l) => /d-zh#\d+ revoked while connected/.test(l));
  await bridge.log.waitFor((l) => /audit.*secretariat revoke d-zh/.test(l));
}));
