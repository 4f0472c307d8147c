// A renewed certificate during the meeting, as `systemctl reload` (SIGHUP)
// delivers it: a key that does not match is refused and the old certificate
// stays; a matching chain and key replace it for new connections. A delegate
// already listening is not dropped, and a page opened after the reload joins
// over the new certificate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { e2e, sleep } from './harness.mjs';

const run = promisify(execFile);

/** The SHA-256 fingerprint of the certificate the server presents now. */
function servedFingerprint(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: hostname, port: Number(port), rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => {
      const fp = s.getPeerCertificate().fingerprint256;
      s.end();
      resolve(fp);
    });
    s.once('error', reject);
    s.setTimeout(5000, () => { s.destroy(); reject(new Error('TLS handshake timed out')); });
  });
}

async function fileFingerprint(cert) {
  const { stdout } = await run('openssl', ['x509', '-in', cert, '-noout', '-fingerprint', '-sha256']);
  return stdout.trim().split('=')[1];
}

test('tls_reload', { timeout: 120000 }, (t) => e2e('tls_reload', async (h) => {
  const bridge = await h.startBridge({ tls: true });
  const cert = path.join(h.tmp, 'cert.pem'), key = path.join(h.tmp, 'key.pem');
  const oldFp = await fileFingerprint(cert);
  assert.equal(await servedFingerprint(bridge.url), oldFp, 'the server presents the configured certificate');

  const ctx = await h.browser({ mic: await h.tone(440) });
  const page = await h.openPage(ctx, await h.token({ delegate: 'd1', name: 'Listener' }));
  await h.waitMedia(page);

  // a renewed certificate, made the same way
  const newCert = path.join(h.tmp, 'new-cert.pem'), newKey = path.join(h.tmp, 'new-key.pem');
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-days', '60', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', newKey, '-out', newCert]);
  const newFp = await fileFingerprint(newCert);

  // 1. only the key replaced: it does not match the certificate, nothing changes
  await copyFile(newKey, key);
  bridge.proc.kill('SIGHUP');
  await withLog(bridge, /TLS certificate NOT reloaded, the old one stays: .*(does not match|mismatch)/);
  assert.equal(await servedFingerprint(bridge.url), oldFp, 'a mismatched key leaves the old certificate');

  // 2. both replaced: new connections get the new certificate
  await copyFile(newCert, cert);
  bridge.proc.kill('SIGHUP');
  const line = await withLog(bridge, /TLS certificate reloaded from .*SHA-256 ([0-9A-F:]+)/);
  t.diagnostic(line);
  assert.ok(line.includes(newFp), 'the log names the new certificate');
  assert.equal(await servedFingerprint(bridge.url), newFp, 'new connections get the renewed certificate');

  await sleep(500);
  const info = await page.evaluate(() => ({ state: window.floorbridge.state, connects: window.floorbridge.connects }));
  assert.deepEqual(info, { state: 'media_connected', connects: 1 }, 'the listening delegate was not dropped');
  const late = await h.openPage(ctx, await h.token({ delegate: 'd2', name: 'Late Joiner' }));
  await h.waitMedia(late);
  assert.equal(bridge.died, null, 'SIGHUP never stops the bridge');
}));

function withLog(bridge, re) {
  return Promise.race([
    bridge.log.waitFor((l) => (re.test(l) ? l : null)),
    sleep(5000).then(() => { throw new Error(`no log line ${re} within 5 s:\n${bridge.log.tail(20)}`); }),
  ]);
}
