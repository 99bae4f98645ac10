/**
 * rediss:// against a real redis-server that speaks only TLS on its TLS port and requires client
 * certificates (mutual TLS), with a private CA made by the openssl CLI: the JuiceFS URL options
 * tls-cert-file / tls-key-file / tls-ca-cert-file / insecure-skip-verify / tls-server-name decide
 * whether the engine gets a working connection, and every refused case fails with an FsError
 * instead of hanging or falling back to a connection without a client certificate.
 */
import assert from 'node:assert/strict';
import { openRedisEngine } from '../../../src/meta/redis/engine.js';
import { FileType, ROOT_INODE } from '../../../src/meta/types.js';
import { Errno, FsError, isFsError } from '../../../src/util/errno.js';
import { makePki } from '../../helpers/certs.js';
import { freePort } from '../../helpers/free-port.js';
import { startRedis, type RedisServer } from '../../helpers/redis-server.js';
import { tmpDir } from '../../helpers/tmp.js';
import { dirAttr, mk, name, SETTING } from './fixture.js';

describe('redis engine over TLS (rediss:// with the JuiceFS URL options)', function () {
  this.timeout(60_000);
  let server: RedisServer;
  let tlsPort: number;
  let pki: Awaited<ReturnType<typeof makePki>>;
  let db = 0;

  before(async () => {
    pki = await makePki(tmpDir('ferry-redis-tls-'));
    tlsPort = await freePort();
    server = await startRedis({
      databases: 16,
      args: ['--tls-port', String(tlsPort), '--tls-cert-file', pki.srv, '--tls-key-file', pki.srvKey, '--tls-ca-cert-file', pki.ca, '--tls-auth-clients', 'yes'],
    });
  });
  after(async () => { await server.stop(); });

  const url = (query: string): string => `rediss://127.0.0.1:${tlsPort}/${++db}?${query}`;
  const mtls = (): string => `tls-cert-file=${encodeURIComponent(pki.cli)}&tls-key-file=${encodeURIComponent(pki.cliKey)}`;

  /** Opens the engine, formats, creates a file and finds it again. */
  async function works(u: string): Promise<void> {
    const engine = await openRedisEngine(u, { connectTimeoutMs: 5000 });
    try {
      await engine.doFormat(SETTING, dirAttr({ parent: ROOT_INODE, mode: 0o777 }), null);
      const ino = await mk(engine, ROOT_INODE, 'over-tls');
      const found = await engine.doLookup(ROOT_INODE, name('over-tls'));
      assert.equal(found.ino, ino);
      assert.equal(found.attr.type, FileType.File);
    } finally {
      await engine.close();
    }
  }

  async function refused(u: string, errno?: Errno): Promise<void> {
    await assert.rejects(openRedisEngine(u, { connectTimeoutMs: 5000 }), (err: unknown) => {
      assert.ok(err instanceof FsError, String(err));
      if (errno !== undefined) assert.equal(Errno[err.errno], Errno[errno], err.message);
      return true;
    });
  }

  it('mutual TLS with the client certificate, its key and the private CA', async function () {
    await works(url(`${mtls()}&tls-ca-cert-file=${encodeURIComponent(pki.ca)}`));
  });

  it('insecure-skip-verify=true accepts the server without the CA (the client certificate is still sent)', async function () {
    await works(url(`${mtls()}&insecure-skip-verify=true`));
  });

  it('without a client certificate the server refuses the connection', async function () {
    await refused(url(`tls-ca-cert-file=${encodeURIComponent(pki.ca)}`));
  });

  it('without the private CA the server certificate is not trusted', async function () {
    await refused(url(mtls()));
  });

  it('tls-server-name that the certificate does not name fails verification', async function () {
    await refused(url(`${mtls()}&tls-ca-cert-file=${encodeURIComponent(pki.ca)}&tls-server-name=redis.example.net`));
  });

  it('a certificate file that cannot be read is EINVAL naming the option', async function () {
    await assert.rejects(openRedisEngine(url(`${mtls()}&tls-ca-cert-file=/nonexistent/ca.crt`)), (err: unknown) => {
      assert.ok(isFsError(err, Errno.EINVAL), String(err));
      assert.match(err.message, /tls-ca-cert-file/);
      return true;
    });
  });
});
