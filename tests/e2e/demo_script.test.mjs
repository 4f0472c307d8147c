// The README's first command, tested: run scripts/demo itself (bounded by
// `timeout`), read the links it prints, open all three in one Chromium
// context over TLS with its self-signed certificate accepted, and check that
// the delegate hears the floor (the demo's synthetic speech) and that the
// links were the last thing printed. Runs in the repository, as a person does:
// the demo's own ports (8080, 40000) must be free, which the private network
// namespace of netns.sh guarantees in CI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { e2e, withTimeout, rmsDb, sampleReceived, REPO, CONSOLE_VIEWPORT } from './harness.mjs';

test('demo_script', { timeout: 240000 }, (t) => e2e('demo_script', async (h) => {
  const proc = spawn('timeout', ['-s', 'TERM', '180', path.join(REPO, 'scripts', 'demo')], {
    cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env },
  });
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
  proc.stderr.setEncoding('utf8').on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  h.cleanups.push(async () => {
    if (proc.exitCode === null) proc.kill('SIGTERM');
    await withTimeout(exited, 15000, 'scripts/demo to stop').catch(() => proc.kill('SIGKILL'));
  });

  const links = await withTimeout(Promise.race([
    (async () => {
      for (;;) {
        const m = {
          chair: /chair console : (https:\/\/\S+)/.exec(out),
          delegate: /delegate page : (https:\/\/\S+)/.exec(out),
          observer: /observer page : (https:\/\/\S+)\n/.exec(out),
        };
        if (m.chair && m.delegate && m.observer) {
          return { chair: m.chair[1], delegate: m.delegate[1], observer: m.observer[1] };
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })(),
    exited.then((e) => { throw new Error(`scripts/demo exited (${JSON.stringify(e)}):\n${out}`); }),
  ]), 150000, 'scripts/demo to print its links').catch((e) => { throw new Error(`${e.message}; it printed:\n${out}`); });
  const printed = out.split('\n');
  t.diagnostic(`scripts/demo printed ${printed.length} lines before the links were complete`);
  assert.ok(printed.length < 60, `the demo prints a short progress, not the build output:\n${out}`);
  assert.ok(out.indexOf('observer page') > out.indexOf('Ctrl-C'), 'the links come last');

  const ctx = await h.browser({ mic: await h.tone(1000), viewport: CONSOLE_VIEWPORT });
  const open = async (url) => {
    const p = await ctx.newPage();
    await p.goto(url, { timeout: 15000 });
    return p;
  };
  const [chair, delegate, observer] = await Promise.all([open(links.chair), open(links.delegate), open(links.observer)]);
  const pages = { chair, delegate, observer };
  for (const [name, p] of Object.entries(pages)) {
    await p.waitForFunction(() => window.floorbridge && window.floorbridge.timings.firstAudio !== undefined,
      null, { timeout: 15000, polling: 50 }).catch(async (e) => {
      const state = await p.evaluate(() => ({ state: window.floorbridge && window.floorbridge.state,
        failure: window.floorbridge && window.floorbridge.failure })).catch(() => null);
      throw new Error(`${name} page did not hear audio: ${e.message.split('\n')[0]}; ${JSON.stringify(state)}\n${out}`);
    });
    const tm = await p.evaluate(() => window.floorbridge.timings);
    t.diagnostic(`${name}: WebSocket start → first audio ${Math.round(tm.firstAudio - tm.wsStart)} ms`);
  }
  const s = await sampleReceived(delegate, 2000, 250);
  const loudest = Math.max(...s.chunks.map((c) => rmsDb(c)));
  assert.ok(loudest > -35, `the delegate hears the floor speech (loudest ${loudest.toFixed(1)} dB)`);
  const role = await delegate.evaluate(() => window.floorbridge.role);
  assert.equal(role, 'delegate');

  proc.kill('SIGTERM');
  const e = await withTimeout(exited, 15000, 'scripts/demo to stop on SIGTERM');
  t.diagnostic(`scripts/demo exit ${JSON.stringify(e)}; tail: ${out.split('\n').slice(-3).join(' | ')}`);
  assert.match(out, /floorbridge stopped \(exit 0\)/, `the demo stops cleanly on TERM:\n${out.split('\n').slice(-10).join('\n')}`);
}));
