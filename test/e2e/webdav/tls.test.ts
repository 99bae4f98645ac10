/**
 * WebDAV over TLS in `ferry serve`: a self-signed certificate made with the openssl CLI, HTTPS
 * with Basic auth from an htpasswd file, nothing served in clear on that port, the refusal of
 * Basic over plain HTTP on a non-loopback address unless `allow-plain-basic-auth` says so, and a
 * renewed certificate picked up on SIGHUP by new connections while the listener and the open
 * connections stay up (an invalid pair is refused and the previous one kept).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';
import { selfSigned as makeSelfSigned } from '../../helpers/certs.js';
import { FERRY_MAIN, type FerryServeProcess, startFerryServe } from '../../helpers/ferry-serve.js';
import { tmpDir } from '../../helpers/tmp.js';

const run = promisify(execFile);

/** A self-signed certificate for 127.0.0.1 and its SHA-256 fingerprint. */
async function selfSigned(dir: string, cn: string): Promise<{ cert: string; key: string; fingerprint: string }> {
  const pair = await makeSelfSigned(dir, cn);
  return { ...pair, fingerprint: new X509Certificate(readFileSync(pair.cert)).fingerprint256 };
}

/** One TLS connection trusting `ca`; resolves once the handshake is done. */
function tlsConnect(port: number, ca: string | Buffer): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, ca, checkServerIdentity: () => undefined }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Sends one HTTP/1.1 request on an open socket (kept alive) and reads the status of the answer. */
function statusOver(socket: TLSSocket, method: string, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (b: Buffer): void => {
      buf += b.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})[^\r]*\r\n([\s\S]*?)\r\n\r\n/.exec(buf);
      if (m === null) return;
      const len = Number(/^content-length: *(\d+)/im.exec(m[2] ?? '')?.[1] ?? '0');
      if (buf.length - m[0].length < len) return;
      socket.off('data', onData);
      resolve(Number(m[1]));
    };
    socket.on('data', onData);
    socket.once('error', reject);
    const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: keep-alive', 'Content-Length: 0', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  });
}

const basic = (user: string, pw: string): string => `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`;

describe('WebDAV over TLS (ferry serve with a self-signed certificate)', function () {
  this.timeout(120_000);
  let dir: string;
  let one: { cert: string; key: string; fingerprint: string };
  let two: { cert: string; key: string; fingerprint: string };
  let served: { cert: string; key: string };
  let htpasswd: string;
  let ferry: FerryServeProcess;

  before(async () => {
    dir = tmpDir('ferry-tls-');
    one = await selfSigned(dir, 'ferry-one');
    two = await selfSigned(dir, 'ferry-two');
    served = { cert: join(dir, 'served.crt'), key: join(dir, 'served.key') };
    writeFileSync(served.cert, readFileSync(one.cert));
    writeFileSync(served.key, readFileSync(one.key));
    htpasswd = join(dir, 'htpasswd');
    writeFileSync(htpasswd, `alice:${bcrypt.hashSync('secret', 4)}\n`);
    const config = join(dir, 'ferry.yaml');
    writeFileSync(config, [
      'webdav:', '  tls:', `    cert: ${served.cert}`, `    key: ${served.key}`, `  htpasswd: ${htpasswd}`, '  anonymous: "off"', '',
    ].join('\n'));
    ferry = await startFerryServe({ args: ['--config', config], scheme: 'https' });
  });
  after(async () => {
    await ferry.stop();
  });

  it('serves HTTPS: 401 with a Basic challenge without credentials, PROPFIND 207 and MKCOL 201 with them', async () => {
    const s = await tlsConnect(ferry.port, readFileSync(one.cert));
    try {
      assert.equal(new X509Certificate(s.getPeerCertificate(true).raw).fingerprint256, one.fingerprint);
      assert.equal(await statusOver(s, 'PROPFIND', '/', { Depth: '0' }), 401);
      assert.equal(await statusOver(s, 'PROPFIND', '/', { Depth: '0', Authorization: basic('alice', 'wrong') }), 401);
      assert.equal(await statusOver(s, 'PROPFIND', '/', { Depth: '0', Authorization: basic('alice', 'secret') }), 207);
      assert.equal(await statusOver(s, 'MKCOL', '/over-tls', { Authorization: basic('alice', 'secret') }), 201);
    } finally {
      s.destroy();
    }
  });

  it('answers nothing in clear on the TLS port', async () => {
    await assert.rejects(new Promise((resolve, reject) => {
      const r = request({ host: '127.0.0.1', port: ferry.port, path: '/', method: 'GET', agent: false, headers: { Authorization: basic('alice', 'secret') } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      r.once('error', reject);
      r.end();
    }));
  });

  it('refuses a config with Basic over plain HTTP on a non-loopback address unless allow-plain-basic-auth is true', async () => {
    const check = async (extra: string[]): Promise<{ code: number; out: string }> => {
      const file = join(dir, `plain-${extra.length}.yaml`);
      writeFileSync(file, ['webdav:', '  listen: "0.0.0.0:8080"', `  htpasswd: ${htpasswd}`, ...extra, ''].join('\n'));
      return run(process.execPath, [FERRY_MAIN, 'config', 'check', file])
        .then(({ stdout, stderr }) => ({ code: 0, out: `${stdout}${stderr}` }))
        .catch((err: { code?: number; stdout?: string; stderr?: string }) => ({ code: err.code ?? -1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` }));
    };
    const refused = await check([]);
    assert.equal(refused.code, 1, refused.out);
    assert.match(refused.out, /webdav\.allow-plain-basic-auth/);
    const allowed = await check(['  allow-plain-basic-auth: true']);
    assert.equal(allowed.code, 0, allowed.out);
  });

  it('SIGHUP: new connections get the renewed certificate, an open connection and the listener stay up; an invalid pair keeps the old one', async () => {
    const before = await tlsConnect(ferry.port, readFileSync(one.cert));
    try {
      writeFileSync(served.cert, readFileSync(two.cert));
      writeFileSync(served.key, readFileSync(two.key));
      process.kill(ferry.pid, 'SIGHUP');
      const deadline = Date.now() + 20_000;
      for (;;) {
        const s = await tlsConnect(ferry.port, readFileSync(two.cert)).catch(() => null);
        const renewed = s !== null && new X509Certificate(s.getPeerCertificate(true).raw).fingerprint256 === two.fingerprint;
        s?.destroy();
        if (renewed) break;
        if (Date.now() > deadline) throw new Error(`the renewed certificate was not served within 20 s:\n${ferry.output()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(await statusOver(before, 'PROPFIND', '/', { Depth: '0', Authorization: basic('alice', 'secret') }), 207, 'the connection opened before the reload still works');
      assert.equal(new X509Certificate(before.getPeerCertificate(true).raw).fingerprint256, one.fingerprint);
      assert.equal(ferry.proc.exitCode, null);

      // a certificate with the wrong key: the reload fails and the renewed pair stays in force
      writeFileSync(served.cert, readFileSync(one.cert));
      process.kill(ferry.pid, 'SIGHUP');
      const until = Date.now() + 20_000;
      while (!/"hook":"webdav tls"[^\n]*reload failed/.test(ferry.output())) {
        if (Date.now() > until) throw new Error(`no failed reload was logged:\n${ferry.output()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const after = await tlsConnect(ferry.port, readFileSync(two.cert));
      assert.equal(new X509Certificate(after.getPeerCertificate(true).raw).fingerprint256, two.fingerprint);
      assert.equal(await statusOver(after, 'PROPFIND', '/over-tls/', { Depth: '0', Authorization: basic('alice', 'secret') }), 207);
      after.destroy();
    } finally {
      before.destroy();
    }
  });
});
