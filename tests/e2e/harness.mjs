// harness.mjs — everything the browser end-to-end tests share: the bridge
// process, tokens, coturn, WAV tones for Chromium's fake microphone, Chromium
// itself (playwright-core driving /usr/bin/chromium). Audio analysis (a WAV
// reader, a Goertzel tone detector) is in audio.mjs and reading the pages' DOM
// in pages.mjs; both are re-exported from here.
//
// Everything runs on loopback, in one temporary directory per test, and every
// wait is bounded. Typical use:
//
//   await e2e('name', async (h) => {
//     const bridge = await h.startBridge();
//     const ctx = await h.browser({ mic: await h.tone(1000) });
//     const page = await h.openPage(ctx, await h.token({ role: 'delegate', speak: true }));
//     await h.waitMedia(page);
//     ...
//   });                                   // always cleans up; on failure prints logs
//
// Floor control (chair console, web/chair.html): browser({viewport:
// CONSOLE_VIEWPORT}) and openConsole(ctx, chairToken) open the console;
// consoleAction / consoleCut / consoleSetMode click it; consoleState /
// waitConsoleRow read it (readConsole), delegateState / waitDelegate read the
// delegate page (readDelegate); waitMessage / waitError wait for what a page
// received (window.floorbridge.messages / .errors); pageSend sends on a page's
// own WebSocket; rawParticipant joins extra participants without media;
// waitFor is the bounded waitForFunction with diagnostics; shot takes a PNG.
//
// ctest runs each test file through netns.sh (a private network namespace
// with only loopback, when allowed). Environment: FB_BINARY (default
// ../../build/floorbridge), FB_CHROMIUM
// (default /usr/bin/chromium), FB_E2E_KEEP=1 keeps the temp directory,
// FB_E2E_VERBOSE=1 echoes the bridge's and the pages' logs as they come.
import { spawn, execFile } from 'node:child_process';
import { existsSync, createWriteStream } from 'node:fs';
import { copyFile, mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { floorInfo, pageInfo, readConsole, readDelegate } from './pages.mjs';

export * from './audio.mjs';
export * from './pages.mjs';

export const E2E_DIR = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(E2E_DIR, '../..');
export const WEB_DIR = path.join(REPO, 'web');
export const CHROMIUM = process.env.FB_CHROMIUM || '/usr/bin/chromium';
export const MEETING = 'e2e-meeting';
const VERBOSE = process.env.FB_E2E_VERBOSE === '1';

// ---------------------------------------------------------------------------
// small helpers

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Reject after ms with a message naming what we waited for. */
export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 30000, maxBuffer: 1 << 20, ...opts }, (err, stdout, stderr) => {
      if (err) {
        err.message = `${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr}`;
        reject(err);
      } else resolve({ stdout, stderr });
    });
  });
}

/** Keep the last `max` lines of a stream, copy them to a file, optionally echo. */
class LineLog {
  constructor(file, max = 400, prefix = '') {
    this.lines = [];
    this.max = max;
    this.prefix = prefix;
    this.out = file ? createWriteStream(file) : null;
    this.partial = '';
    this.listeners = new Set();
  }
  attach(stream) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      const parts = (this.partial + chunk).split('\n');
      this.partial = parts.pop();
      parts.forEach((l) => this.push(l));
    });
    stream.on('end', () => { if (this.partial) this.push(this.partial); this.partial = ''; });
  }
  push(line) {
    this.lines.push(line);
    if (this.lines.length > this.max) this.lines.shift();
    if (this.out) this.out.write(`${line}\n`);
    if (VERBOSE) process.stderr.write(`${this.prefix}${line}\n`);
    for (const fn of this.listeners) fn(line);
  }
  tail(n = 60) { return this.lines.slice(-n).join('\n'); }
  /** Resolve with fn(line)'s first truthy result, over past and future lines. */
  waitFor(fn) {
    for (const l of this.lines) { const r = fn(l); if (r) return Promise.resolve(r); }
    return new Promise((resolve) => {
      const l = (line) => { const r = fn(line); if (r) { this.listeners.delete(l); resolve(r); } };
      this.listeners.add(l);
    });
  }
  close() { if (this.out) this.out.end(); }
}

/** A port that was free on 127.0.0.1 for both UDP and TCP a moment ago. */
export async function freePort() {
  for (let i = 0; i < 20; i++) {
    const udp = dgram.createSocket('udp4');
    const port = await new Promise((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(0, '127.0.0.1', () => resolve(udp.address().port));
    });
    const tcpOk = await new Promise((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    udp.close();
    if (tcpOk) return port;
  }
  throw new Error('no free port on 127.0.0.1');
}

// ---------------------------------------------------------------------------
// prerequisites: a clear failure, never a silent skip

export function findBinary() {
  const bin = path.resolve(process.env.FB_BINARY || path.join(REPO, 'build', 'floorbridge'));
  if (!existsSync(bin)) {
    throw new Error(`floorbridge binary not found at ${bin}: build it (scripts/build) or set FB_BINARY`);
  }
  return bin;
}

export function checkPrerequisites() {
  const problems = [];
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 20) problems.push(`node ${process.versions.node} is too old: playwright-core needs node >= 20`);
  for (const mod of ['playwright-core', 'ws']) {
    if (!existsSync(path.join(E2E_DIR, 'node_modules', mod, 'package.json'))) {
      problems.push(`tests/e2e/node_modules/${mod} is missing: run scripts/setup ` +
        '(or npm ci --prefix tests/e2e)');
    }
  }
  if (!existsSync(CHROMIUM)) problems.push(`${CHROMIUM} is missing: run scripts/setup (Debian package chromium)`);
  const hasCmd = (c) => (process.env.PATH || '').split(':').some((d) => d && existsSync(path.join(d, c)));
  if (!hasCmd('gst-launch-1.0')) problems.push('gst-launch-1.0 is missing: run scripts/setup (gstreamer1.0-tools)');
  if (!existsSync(path.join(WEB_DIR, 'index.html'))) problems.push(`${WEB_DIR}/index.html is missing`);
  try { findBinary(); } catch (e) { problems.push(e.message); }
  if (problems.length) throw new Error(`E2E prerequisites missing:\n  ${problems.join('\n  ')}`);
}

let playwright = null;
async function loadPlaywright() {
  if (!playwright) {
    const entry = path.join(E2E_DIR, 'node_modules', 'playwright-core', 'index.mjs');
    playwright = await import(pathToFileURL(entry).href);
  }
  return playwright;
}

// ---------------------------------------------------------------------------
// the harness: one per test

export class Harness {
  constructor(name, tmp) {
    this.name = name;
    this.tmp = tmp;
    this.bridge = null;
    this.turn = null;
    this.contexts = [];
    this.pageLogs = [];
    this.cleanups = [];
    this.secret = crypto.randomBytes(32).toString('hex');
    this.nBrowsers = 0;
    this.nPages = 0;
    this.nInvites = 0;
  }

  static async create(name) {
    checkPrerequisites();
    const tmp = await mkdtemp(path.join(os.tmpdir(), `fb-e2e-${name}-`));
    return new Harness(name, tmp);
  }

  /** A mono 48 kHz S16 WAV of a sine at freq (volume 0.3, about -10.5 dBFS),
   * `seconds` long; Chromium's fake microphone loops it. */
  async tone(freq, seconds = 10) {
    const file = path.join(this.tmp, `tone-${freq}.wav`);
    if (existsSync(file)) return file;
    const buffers = Math.round((seconds * 48000) / 960);
    await run('gst-launch-1.0', ['-q',
      'audiotestsrc', `freq=${freq}`, 'volume=0.3', `num-buffers=${buffers}`, 'samplesperbuffer=960', '!',
      'audio/x-raw,format=S16LE,rate=48000,channels=1', '!', 'wavenc', '!', 'filesink', `location=${file}`]);
    return file;
  }

  /** Start floorbridge on ephemeral ports with a 440 Hz floor and the PA into
   * a WAV in the temp dir. opts.sets: extra "section.key=value" overrides;
   * opts.turn: a started TURN server (from startTurn). Resolves once the log
   * says "signalling listening on URL". */
  async startBridge(opts = {}) {
    const bin = findBinary();
    const paWav = path.join(this.tmp, 'pa.wav');
    let conf = path.join(this.tmp, 'bridge.conf');
    if (opts.config) conf = path.resolve(REPO, opts.config);
    else await writeFile(conf, [
      '# written by tests/e2e/harness.mjs',
      '[bridge]', 'bind = 127.0.0.1', 'media_port = 0',
      `control_socket = ${path.join(this.tmp, 'control.sock')}`,
      '[floor]', 'pipeline = builtin:tone:440',
      '[pa]', `pipeline = wavenc ! filesink location="${paWav}"`,
      '[signalling]', 'bind = 127.0.0.1', 'port = 0', `www = ${WEB_DIR}`,
      '[meeting]', `id = ${MEETING}`, `token_secret = ${this.secret}`,
      '',
    ].join('\n'));
    const sets = [];
    if (opts.config) {
      // A shipped configuration as is, but on ephemeral ports, serving this
      // checkout's pages, with its files in the temp dir and our secret.
      sets.push('bridge.media_port=0', 'signalling.port=0', `signalling.www=${WEB_DIR}`,
        `bridge.control_socket=${path.join(this.tmp, 'control.sock')}`,
        `pa.pipeline=wavenc ! filesink location="${paWav}"`, `meeting.token_secret=${this.secret}`);
    }
    if (opts.tls) {
      const { cert, key } = await this.selfSignedCert();
      sets.push(`signalling.tls_cert=${cert}`, `signalling.tls_key=${key}`);
      this.tls = true;
    }
    sets.push(...(opts.sets || []));
    if (opts.turn) sets.push(`turn.urls=${opts.turn.url}`, `turn.secret=${opts.turn.secret}`);
    const args = ['--config', conf, ...sets.flatMap((s) => ['--set', s])];
    const proc = spawn(bin, args, {
      cwd: this.tmp, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FLOORBRIDGE_TOKEN_SECRET: this.secret },
    });
    this.nBridges = (this.nBridges || 0) + 1;
    const logName = this.nBridges === 1 ? 'bridge.log' : `bridge-${this.nBridges}.log`;
    const log = new LineLog(path.join(this.tmp, logName), 400, '[bridge] ');
    log.attach(proc.stderr);
    log.attach(proc.stdout);
    const exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => resolve({ code, signal }));
      proc.once('error', (error) => resolve({ code: null, signal: null, error: error.message }));
    });
    const b = { proc, log, exited, paWav, url: null, exit: null, args, died: null };
    exited.then((e) => { if (!b.stopping) b.died = e; }); // exited without being stopped
    this.bridge = b;
    const started = log.waitFor((l) => {
      const m = /signalling listening on (https?:\/\/[^\s"',;]+)/.exec(l);
      return m ? m[1].replace(/[./]+$/, '') : null;
    });
    const res = await withTimeout(Promise.race([
      started.then((url) => ({ url })),
      exited.then((e) => ({ exit: e })),
    ]), 15000, 'the bridge to log "signalling listening on URL"').catch((e) => ({ error: e }));
    if (!res.url) {
      const why = res.exit ? (res.exit.error || `exited (code ${res.exit.code}, signal ${res.exit.signal})`)
        : res.error.message;
      throw new Error(`floorbridge did not start: ${why}\n${bin} ${args.join(' ')}\n--- log ---\n${log.tail(40)}`);
    }
    b.url = res.url.replace(/\/$/, '');
    return b;
  }

  /** The self-signed certificate scripts/demo makes (same openssl command):
   * P-256, CN=localhost, SAN localhost and 127.0.0.1. */
  async selfSignedCert() {
    const cert = path.join(this.tmp, 'cert.pem'), key = path.join(this.tmp, 'key.pem');
    if (!existsSync(cert)) {
      await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
        '-days', '30', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout', key, '-out', cert]);
    }
    return { cert, key };
  }

  /** Stop the bridge and start a new one with the same options on the same
   * signalling port (pages reconnect to the same URL). Returns the new one. */
  async restartBridge(opts = {}) {
    const port = new URL(this.bridge.url).port;
    await this.stopBridge();
    return this.startBridge({ ...opts, sets: [...(opts.sets || []), `signalling.port=${port}`] });
  }

  /** SIGTERM the bridge and wait (bounded) for it to exit, so the PA WAV is
   * finalised. Returns { code, signal }. */
  async stopBridge() {
    const b = this.bridge;
    if (!b) return null;
    if (b.exit) return b.exit;
    b.stopping = true;
    if (b.proc.pid === undefined) { b.exit = await b.exited; b.log.close(); return b.exit; }
    if (b.proc.exitCode === null && b.proc.signalCode === null) b.proc.kill('SIGTERM');
    let e = await withTimeout(b.exited, 10000, 'the bridge to exit after SIGTERM').catch(() => null);
    if (!e) {
      b.proc.kill('SIGKILL');
      e = await withTimeout(b.exited, 5000, 'the bridge to exit after SIGKILL').catch(() => ({ code: null, signal: 'SIGKILL?' }));
      e.killed = true;
    }
    b.exit = e;
    b.log.close();
    return e;
  }

  /** Mint a join token with `floorbridge token` (same secret as the bridge). */
  async token({ delegate = 'd1', name = 'Delegate One', role = 'delegate', speak = false, ttl = 600,
    meeting = MEETING } = {}) {
    const args = ['token', '--meeting', meeting, '--delegate', delegate, '--name', name, '--role', role,
      '--ttl', String(ttl)];
    if (speak) args.push('--speak');
    const { stdout } = await run(findBinary(), args, {
      env: { ...process.env, FLOORBRIDGE_TOKEN_SECRET: this.secret },
    });
    const jwt = stdout.trim();
    if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(jwt)) throw new Error(`floorbridge token printed no JWT: ${JSON.stringify(stdout)}`);
    return jwt;
  }

  /** Run `floorbridge invite` on a registration list (CSV text) for the
   * running bridge's URL, same secret. Resolves to { code, stdout, stderr,
   * rows } where rows are the mail-merge CSV's records as objects (empty
   * when nothing was written). opts: revoked (path), from/to (dates),
   * meeting, out (folder name in the temp dir). */
  async invite(csvText, { revoked = null, from, to, meeting = MEETING, out = 'invitations' } = {}) {
    const csv = path.join(this.tmp, `registrations-${++this.nInvites}.csv`);
    await writeFile(csv, csvText);
    const dir = path.join(this.tmp, out);
    const args = ['invite', '--meeting', meeting, '--csv', csv, '--url', this.bridge.url,
      '--from', from, '--to', to, '--out', dir, ...(revoked ? ['--revoked-file', revoked] : [])];
    const res = await new Promise((resolve) => {
      execFile(findBinary(), args, { timeout: 30000, env: { ...process.env, FLOORBRIDGE_TOKEN_SECRET: this.secret } },
        (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr }));
    });
    let text = '';
    try { text = await readFile(path.join(dir, 'invitations.csv'), 'utf8'); } catch (e) { /* none yet */ }
    const records = [...text.matchAll(/^(.*)$/gm)].map((m) => m[1]).filter(Boolean);
    const header = (records.shift() || '').split(',');
    // every field is quoted by the writer: "a","b" with "" for a quote
    const rows = records.map((line) => {
      const fields = [...line.matchAll(/"((?:[^"]|"")*)"/g)].map((m) => m[1].replace(/""/g, '"'));
      return Object.fromEntries(header.map((k, i) => [k, fields[i]]));
    });
    return { ...res, rows };
  }

  /** Start coturn (turnserver) on 127.0.0.1 with an ephemeral port and the
   * TURN REST shared secret; resolves once it answers a STUN Binding request. */
  async startTurn() {
    const port = await freePort();
    const secret = crypto.randomBytes(16).toString('hex');
    const lo = 40000 + Math.floor(Math.random() * 200) * 100; // 40000..59900, 64 relay ports
    const args = ['-n',
      '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', `--listening-port=${port}`,
      '--use-auth-secret', `--static-auth-secret=${secret}`, '--realm=floorbridge',
      '--no-tls', '--no-dtls', '--no-cli', '--allow-loopback-peers', '--fingerprint',
      `--min-port=${lo}`, `--max-port=${lo + 63}`,
      '--log-file=stdout', '--simple-log', ...(VERBOSE ? ['--verbose'] : []),
      `--pidfile=${path.join(this.tmp, 'turnserver.pid')}`, `--userdb=${path.join(this.tmp, 'turndb')}`,
    ];
    const proc = spawn('turnserver', args, { cwd: this.tmp, stdio: ['ignore', 'pipe', 'pipe'] });
    const log = new LineLog(path.join(this.tmp, 'turnserver.log'), 200, '[turn] ');
    log.attach(proc.stdout);
    log.attach(proc.stderr);
    const exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => resolve({ code, signal }));
      proc.once('error', (error) => resolve({ code: null, signal: null, error: error.message }));
    });
    this.turn = { proc, log, exited, port, secret, url: `turn:127.0.0.1:${port}?transport=udp`, exit: null };
    const deadline = Date.now() + 10000;
    let exitInfo = null;
    exited.then((e) => { exitInfo = e; });
    while (Date.now() < deadline) {
      if (exitInfo) break;
      if (await stunPing(port, 300)) return this.turn;
    }
    throw new Error(`turnserver did not come up on 127.0.0.1:${port}` +
      `${exitInfo ? ` (exited, code ${exitInfo.code})` : ''}\n--- log ---\n${log.tail(30)}`);
  }

  async stopTurn() {
    const t = this.turn;
    if (!t || t.exit) return;
    if (t.proc.pid === undefined) { t.exit = await t.exited; t.log.close(); return; }
    if (t.proc.exitCode === null && t.proc.signalCode === null) t.proc.kill('SIGTERM');
    let e = await withTimeout(t.exited, 5000, 'turnserver to exit').catch(() => null);
    if (!e) { t.proc.kill('SIGKILL'); e = await withTimeout(t.exited, 5000, 'turnserver SIGKILL').catch(() => ({})); }
    t.exit = e;
    t.log.close();
  }

  /** A Chromium (its own process and fresh profile) whose fake microphone plays
   * `mic` (a WAV). Returns a Playwright BrowserContext. viewport: default phone
   * width (the delegate page); the chair console wants CONSOLE_VIEWPORT. */
  async browser({ mic = null, viewport = { width: 390, height: 844 } } = {}) {
    const { chromium } = await loadPlaywright();
    const id = ++this.nBrowsers;
    const profile = path.join(this.tmp, `chromium-${id}`);
    await mkdir(profile);
    const args = [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-default-apps', '--disable-extensions', '--disable-domain-reliability',
      '--no-pings', '--metrics-recording-only', '--disable-dev-shm-usage',
      '--autoplay-policy=no-user-gesture-required',
      '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
      // Loopback only: allow 127.0.0.1 host candidates, and no mDNS names for
      // host candidates (those would be announced by multicast).
      '--allow-loopback-in-peer-connection',
      '--disable-features=WebRtcHideLocalIpsWithMdns,MediaRouter,OptimizationHints',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    ];
    if (mic) args.push(`--use-file-for-fake-audio-capture=${mic}`);
    const ctx = await withTimeout(chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true, args, timeout: 30000,
      viewport,
      // the self-signed certificate, accepted as a person does once in the
      // browser (scripts/demo's flow); a real deployment has a real one
      ignoreHTTPSErrors: true,
    }), 40000, 'Chromium to start');
    this.contexts.push(ctx);
    return ctx;
  }

  /** Open the delegate page with a token. opts.relay: relay-only ICE;
   * opts.raw (default true): no AEC/NS/AGC, so test tones pass untouched;
   * opts.fragment: use this fragment as is (bad-token tests); opts.path: another
   * page of web/ (chair.html: see openConsole). */
  async openPage(ctx, token, { relay = false, raw = true, fragment = null, page = null, path: file = '' } = {}) {
    const p = page || await ctx.newPage();
    const n = ++this.nPages;
    const log = new LineLog(path.join(this.tmp, `page-${n}.log`), 200, `[page${n}] `);
    this.pageLogs.push(log);
    p.on('console', (m) => log.push(`console.${m.type()}: ${m.text()}`));
    p.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
    p.on('crash', () => log.push('page crashed'));
    const frag = fragment !== null ? fragment
      : `token=${encodeURIComponent(token)}${relay ? '&relay=1' : ''}${raw ? '&raw=1' : ''}`;
    await p.goto(`${this.bridge.url}/${file}#${frag}`, { timeout: 15000 });
    return p;
  }

  /** Open the chair console (web/chair.html) with a (chair) token. Use a
   * browser with viewport CONSOLE_VIEWPORT. */
  async openConsole(ctx, token, opts = {}) {
    return this.openPage(ctx, token, { ...opts, path: 'chair.html' });
  }

  /** Wait (bounded) until fn(arg) is truthy in the page; the error names
   * `what` and shows what the page shows. Resolves to fn's value. */
  async waitFor(page, what, fn, arg = null, ms = 10000) {
    try {
      const handle = await this.unlessBridgeDies(page.waitForFunction(fn, arg, { timeout: ms, polling: 50 }));
      const v = await handle.jsonValue().catch(() => true);
      await handle.dispose().catch(() => {});
      return v;
    } catch (e) {
      const info = await pageInfo(page);
      const floor = await floorInfo(page);
      throw new Error(`timed out after ${ms} ms waiting for ${what} (${e.message.split('\n')[0]}); ` +
        `page ${JSON.stringify(info)}; floor ${JSON.stringify(floor)}`);
    }
  }

  /** Wait until the page has received a server message of `type` whose
   * fields equal `match` (shallow; nested objects compared as JSON), among
   * those received after message number `after` (window.floorbridge.messages
   * is bounded: count with messageCount). latest=true: only the most recent
   * message of that type counts (for state messages: you, mode, ...).
   * Resolves to the message. */
  async waitMessage(page, type, match = {}, { ms = 10000, after = 0, latest = false } = {}) {
    return this.waitFor(page, `a "${type}" message like ${JSON.stringify(match)}`, ({ type, match, after, latest }) => {
      const fb = window.floorbridge;
      if (!fb || !fb.messages) return null;
      const same = (a, b) => (typeof b === 'object' && b !== null ? JSON.stringify(a) === JSON.stringify(b) : a === b);
      const ok = (m) => m.type === type && Object.entries(match).every(([k, v]) => same(m[k], v));
      const list = fb.messages.filter((m, i) => i >= after - (fb.messagesDropped || 0) && m.type === type);
      const cand = latest ? list.slice(-1) : list;
      return cand.find(ok) || null;
    }, { type, match, after, latest }, ms);
  }

  /** How many server messages the page has had so far (for waitMessage's after). */
  async messageCount(page) {
    return page.evaluate(() => (window.floorbridge.messages.length + (window.floorbridge.messagesDropped || 0)));
  }

  /** Wait until the page shows (window.floorbridge.errors) an error `code`
   * that arrived after the first `after` errors. Resolves to the error. */
  async waitError(page, code, { ms = 10000, after = 0 } = {}) {
    return this.waitFor(page, `error ${code}`, ({ code, after }) => {
      const errs = window.floorbridge ? window.floorbridge.errors : [];
      return errs.slice(after).find((e) => e.code === code) || null;
    }, { code, after }, ms);
  }

  /** Send a raw protocol message on the page's own WebSocket (as the page's
   * participant); resolves to true when sent. */
  async pageSend(page, obj) {
    return page.evaluate((o) => window.floorbridge.send(o), obj);
  }

  /** A raw protocol client joined with `token` (no media): for extra
   * participants in a meeting. Closed at cleanup. Resolves once "joined". */
  async rawParticipant(token) {
    const c = await wsClient(this.bridge.url);
    this.cleanups.push(async () => c.close());
    c.send({ v: 1, type: 'join', token });
    const joined = await c.next((m) => m.type === 'joined' || m.type === 'error', 5000);
    if (joined.type !== 'joined') throw new Error(`raw participant refused: ${JSON.stringify(joined)}`);
    c.joined = joined;
    return c;
  }

  /** Click a participant's action on the console (act: grant, end_turn,
   * mute, unmute, cut, allow); waits (bounded) for the button to be enabled. */
  async consoleAction(page, delegate, act, ms = 10000) {
    const sel = `#parts-body tr[data-delegate="${delegate}"] button[data-act="${act}"]`;
    await this.waitFor(page, `console button ${act} for ${delegate}`, (s) => {
      const b = document.querySelector(s);
      return !!(b && !b.disabled && !b.hidden);
    }, sel, ms);
    await page.click(sel, { timeout: ms });
  }

  /** Cut a delegate from the console: Cut… → reason → Cut. */
  async consoleCut(page, delegate, reason, ms = 10000) {
    await this.consoleAction(page, delegate, 'cut', ms);
    await page.waitForSelector('#cut-dialog[open]', { timeout: ms });
    await page.fill('#cut-reason', reason, { timeout: ms });
    await page.click('#cut-ok', { timeout: ms });
  }

  /** Switch the console's mode (interactive | webcast), confirming. */
  async consoleSetMode(page, mode, ms = 10000) {
    await page.click(mode === 'webcast' ? '#mode-webcast' : '#mode-interactive', { timeout: ms });
    await page.waitForSelector('#confirm[open]', { timeout: ms });
    await page.click('#confirm-ok', { timeout: ms });
  }

  /** Wait until the console's row of `delegate` satisfies the shallow match
   * (fields of consoleState().rows[i]); resolves to the row. */
  async waitConsoleRow(page, delegate, match, ms = 10000) {
    return this.waitFor(page, `console row ${delegate} like ${JSON.stringify(match)}`, ({ delegate, match, src }) => {
      // eslint-disable-next-line no-new-func
      const read = new Function(`return (${src})`)();
      const row = read().rows.find((r) => r.delegate === delegate);
      return row && Object.entries(match).every(([k, v]) => row[k] === v) ? row : null;
    }, { delegate, match, src: readConsole.toString() }, ms);
  }

  /** A PNG of the page in the test's temp dir (kept with FB_E2E_KEEP=1 on
   * failure); FB_E2E_SHOTS=DIR copies it there too, for looking at the pages
   * in their states. Resolves to the file. */
  async shot(page, name, opts = {}) {
    const file = path.join(this.tmp, name.endsWith('.png') ? name : `${name}.png`);
    await page.screenshot({ path: file, timeout: 15000, ...opts });
    if (process.env.FB_E2E_SHOTS) {
      await mkdir(process.env.FB_E2E_SHOTS, { recursive: true });
      await copyFile(file, path.join(process.env.FB_E2E_SHOTS, path.basename(file)));
    }
    return file;
  }

  /** What the console shows (see readConsole). */
  async consoleState(page) {
    return page.evaluate(readConsole);
  }

  /** What the delegate page shows about the floor and the chat (see readDelegate). */
  async delegateState(page) {
    return page.evaluate(readDelegate);
  }

  /** Wait until the delegate page's floor view satisfies fn(view) (run in
   * the page: fn gets readDelegate()'s object); resolves to the view. */
  async waitDelegate(page, what, fn, ms = 10000) {
    return this.waitFor(page, `delegate page: ${what}`, ({ fnSrc, src }) => {
      // eslint-disable-next-line no-new-func
      const read = new Function(`return (${src})`)();
      // eslint-disable-next-line no-new-func
      const f = new Function(`return (${fnSrc})`)();
      const v = read();
      return f(v) ? v : null;
    }, { fnSrc: fn.toString(), src: readDelegate.toString() }, ms);
  }

  /** Wait until the page's window.floorbridge.state is `state`. */
  async waitState(page, state, ms = 15000) {
    try {
      await this.unlessBridgeDies(page.waitForFunction((s) => window.floorbridge && window.floorbridge.state === s,
        state, { timeout: ms, polling: 50 }));
    } catch (e) {
      const info = await pageInfo(page);
      throw new Error(`page did not reach state "${state}" within ${ms} ms (${e.message.split('\n')[0]}); ` +
        `now ${JSON.stringify(info)}`);
    }
  }

  /** Wait for media connected and the first received audio above -50 dB. */
  async waitMedia(page, ms = 20000) {
    await this.waitState(page, 'media_connected', ms);
    try {
      await this.unlessBridgeDies(page.waitForFunction(() => window.floorbridge.timings.firstAudio !== undefined,
        null, { timeout: 10000, polling: 50 }));
    } catch (e) {
      throw new Error(`media connected but no audio above -50 dB within 10 s (${e.message.split('\n')[0]}); ` +
        `${JSON.stringify(await pageInfo(page))}`);
    }
  }

  /** promise, or a rejection as soon as the bridge exits without being stopped. */
  unlessBridgeDies(promise) {
    const b = this.bridge;
    if (!b) return promise;
    let onDeath;
    const death = new Promise((_, reject) => {
      onDeath = (e) => { if (!b.stopping) reject(new Error(`the bridge exited (code ${e.code}, signal ${e.signal})`)); };
      b.exited.then((e) => onDeath && onDeath(e));
    });
    return Promise.race([promise, death]).finally(() => { onDeath = null; });
  }

  diagnostics() {
    const parts = [`temp dir: ${this.tmp}`];
    if (this.bridge) {
      const d = this.bridge.died;
      if (d) parts.push(`bridge EXITED on its own: code ${d.code}, signal ${d.signal}${d.error ? `, ${d.error}` : ''}`);
      parts.push(`--- bridge log (tail) ---\n${this.bridge.log.tail(80)}`);
    }
    if (this.turn) parts.push(`--- turnserver log (tail) ---\n${this.turn.log.tail(30)}`);
    this.pageLogs.forEach((l, i) => { if (l.lines.length) parts.push(`--- page ${i + 1} console (tail) ---\n${l.tail(30)}`); });
    return parts.join('\n');
  }

  async cleanup({ keep = false } = {}) {
    for (const fn of this.cleanups.reverse()) await fn().catch(() => {});
    for (const ctx of this.contexts) await withTimeout(ctx.close(), 15000, 'Chromium to close').catch(() => {});
    this.contexts = [];
    await this.stopBridge().catch(() => {});
    await this.stopTurn().catch(() => {});
    this.pageLogs.forEach((l) => l.close());
    if (!keep && process.env.FB_E2E_KEEP !== '1') await rm(this.tmp, { recursive: true, force: true }).catch(() => {});
  }
}

/** Run one end-to-end scenario with a fresh harness: on failure, append the
 * logs to the error (and keep the temp dir when FB_E2E_KEEP=1); always clean up. */
export async function e2e(name, fn) {
  const h = await Harness.create(name);
  let failed = false;
  try {
    return await fn(h);
  } catch (e) {
    failed = true;
    e.message = `${e.message}\n${h.diagnostics()}`;
    throw e;
  } finally {
    await h.cleanup({ keep: failed && process.env.FB_E2E_KEEP === '1' });
  }
}

/** The chair console's viewport: a common laptop screen. */
/** One STUN Binding request to 127.0.0.1:port; true when a response arrives. */
export function stunPing(port, ms) {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    const txid = crypto.randomBytes(12);
    const req = Buffer.alloc(20);
    req.writeUInt16BE(0x0001, 0); // Binding request
    req.writeUInt16BE(0, 2);
    req.writeUInt32BE(0x2112a442, 4);
    txid.copy(req, 8);
    let done = false;
    const finish = (ok) => { if (done) return; done = true; clearTimeout(timer); sock.close(); resolve(ok); };
    const timer = setTimeout(() => finish(false), ms);
    sock.on('error', () => finish(false));
    sock.on('message', (msg) => finish(msg.length >= 20 && msg.readUInt16BE(0) === 0x0101 && msg.subarray(8, 20).equals(txid)));
    sock.send(req, port, '127.0.0.1', (err) => { if (err) finish(false); });
  });
}

// ---------------------------------------------------------------------------
// helpers shared by several tests

/** An HS256 JWT with arbitrary claims/alg, for refusal tests (the real tokens
 * come from `floorbridge token`). alg "none" gives an unsigned token. */
export function craftToken(claims, { secret, alg = 'HS256' } = {}) {
  const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = enc({ alg, typ: 'JWT' });
  const body = enc(claims);
  if (alg === 'none') return `${head}.${body}.`;
  const sig = crypto.createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

/** A raw protocol client (the `ws` package) on the bridge's /ws, for checking
 * the contract the page relies on: { send(obj), next(pred, ms), closed, close() }. */
export async function wsClient(baseUrl, ms = 5000) {
  const { default: WebSocket } = await import(pathToFileURL(path.join(E2E_DIR, 'node_modules', 'ws', 'wrapper.mjs')).href);
  const url = `${baseUrl.replace(/^http/, 'ws')}/ws`;
  const ws = new WebSocket(url);
  const queue = [];
  const waiters = new Set();
  const closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
  ws.on('message', (data) => {
    let m;
    try { m = JSON.parse(String(data)); } catch (e) { m = { unparsable: String(data) }; }
    queue.push(m);
    for (const w of waiters) w();
  });
  await withTimeout(new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); }),
    ms, `WebSocket ${url} to open`);
  return {
    send: (o) => ws.send(typeof o === 'string' ? o : JSON.stringify(o)),
    /** The first message (old or new) matching pred; consumed. */
    next(pred = () => true, wait = 5000) {
      return withTimeout(new Promise((resolve) => {
        const check = () => {
          const i = queue.findIndex(pred);
          if (i >= 0) { waiters.delete(check); resolve(queue.splice(i, 1)[0]); }
        };
        waiters.add(check);
        check();
      }), wait, 'a WebSocket message');
    },
    closed,
    close: () => ws.close(),
  };
}
