// What a scraper, curl or a browser gets over TLS: the server offers only
// http/1.1 in ALPN (a client offering h2 first still gets http/1.1), and every
// HTTP resource arrives whole: /healthz, /metrics (once truncated over h2),
// the pages, and the HLS webcast's playlist and segments. Each body is read
// to the end and must match its Content-Length. No browser: node's tls/https.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import tls from 'node:tls';
import path from 'node:path';
import { e2e, sleep, withTimeout } from './harness.mjs';

function alpn(url, protocols) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = tls.connect({ host: u.hostname, port: Number(u.port), ALPNProtocols: protocols,
      rejectUnauthorized: false, servername: 'localhost' }, () => {
      const p = sock.alpnProtocol;
      sock.end();
      resolve(p);
    });
    sock.once('error', reject);
  });
}

function get(url) {
  return withTimeout(new Promise((resolve, reject) => {
    const req = https.get(url, { rejectUnauthorized: false, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks),
        complete: res.complete }));
      res.on('error', reject);
    });
    req.once('error', reject);
  }), 10000, `GET ${url}`);
}

test('tls_http', { timeout: 90000 }, (t) => e2e('tls_http', async (h) => {
  const bridge = await h.startBridge({ tls: true, sets: [`webcast.dir=${path.join(h.tmp, 'hls')}`] });
  const base = bridge.url;
  assert.equal(await alpn(base, ['h2', 'http/1.1']), 'http/1.1', 'a client offering h2 first gets http/1.1');
  assert.equal(await alpn(base, ['http/1.1']), 'http/1.1');
  // a client that speaks only h2 gets no h2 (no ALPN match: the handshake fails or picks none)
  const h2only = await alpn(base, ['h2']).catch((e) => `error: ${e.code || e.message}`);
  t.diagnostic(`h2-only client: ${h2only}`);
  assert.notEqual(h2only, 'h2', 'h2 is never selected');

  // the webcast needs a first segment (2 s segments): wait for the playlist
  let playlist = null;
  for (let i = 0; i < 50 && !(playlist && playlist.status === 200 && /\.ts/.test(playlist.body)); i++) {
    await sleep(200);
    playlist = await get(`${base}/webcast/index.m3u8`);
  }
  assert.equal(playlist.status, 200, 'the HLS playlist is served');
  const segment = /^(\S+\.ts)$/m.exec(String(playlist.body));
  assert.ok(segment, `the playlist names a segment:\n${playlist.body}`);

  for (const p of ['/healthz', '/metrics', '/', '/chair.html', '/common.js', '/listen.html',
    '/webcast/index.m3u8', `/webcast/${segment[1]}`]) {
    const r = await get(`${base}${p}`);
    const len = r.headers['content-length'];
    t.diagnostic(`${p}: ${r.status}, ${r.body.length} bytes, content-length ${len ?? '(chunked)'}`);
    assert.equal(r.status, 200, `${p} status`);
    assert.ok(r.complete, `${p}: the whole body arrived`);
    if (len !== undefined) assert.equal(r.body.length, Number(len), `${p}: body length matches Content-Length`);
    assert.ok(r.body.length > 0, `${p} is not empty`);
  }
  const metrics = String((await get(`${base}/metrics`)).body);
  assert.match(metrics, /\n$/, '/metrics ends with a newline (Prometheus text format)');
  assert.ok(metrics.split('\n').length > 20, 'a full /metrics page');
}));
