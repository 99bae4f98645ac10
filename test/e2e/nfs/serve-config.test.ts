/**
 * `ferry serve --config FILE` with the appliance configuration (dashed keys, docs/configuration.md):
 * NFS and WebDAV come up on the configured ports, /readyz on the admin port answers 200 once both
 * are bound, an idle NFS connection is closed after nfs.idle-timeout-sec, and SIGTERM runs the
 * stop steps and exits 0. Also: the shipped file passes config check.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NFS3_OK } from '../../../src/protocols/nfs/nfs3/types.js';
import { freePort } from '../../helpers/free-port.js';
import { Nfs3TestClient } from '../../helpers/nfs3-client.js';
import { RpcTestClient, sysCred } from '../../helpers/rpc-client.js';
import { tmpDir } from '../../helpers/tmp.js';

const main = fileURLToPath(new URL('../../../src/cli/main.js', import.meta.url));
const shipped = fileURLToPath(new URL('../../../../packaging/deb/ferry.yaml', import.meta.url));

async function waitReady(adminPort: number, exited: () => boolean, out: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exited()) throw new Error(`ferry serve exited: ${out()}`);
    const status = await fetch(`http://127.0.0.1:${adminPort}/readyz`).then((r) => r.status, () => 0);
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`not ready in time: ${out()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('ferry serve with the appliance config file', function () {
  this.timeout(60_000);

  it('serves NFS and WebDAV on the configured ports, is ready on /readyz, closes idle NFS connections, and exits 0 on SIGTERM', async () => {
    const dir = tmpDir('ferry-serve-config-');
    const [nfsPort, mountPort, davPort, adminPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const config = join(dir, 'ferry.yaml');
    writeFileSync(config, [
      `data-dir: ${join(dir, 'data')}`,
      'nfs:',
      '  host: 127.0.0.1',
      `  port: ${nfsPort}`,
      `  mount-port: ${mountPort}`,
      '  portmap: none',
      '  max-in-flight: 8',
      '  idle-timeout-sec: 1',
      '  exports:',
      '    - path: /',
      '      clients: ["127.0.0.0/8"]',
      '      squash: no_root_squash',
      'webdav:',
      `  listen: 127.0.0.1:${davPort}`,
      '  anonymous: read-write',
      'admin:',
      `  listen: 127.0.0.1:${adminPort}`,
      '',
    ].join('\n'));
    const child = spawn(process.execPath, [main, 'serve', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FERRY_LOG_LEVEL: 'warn' } });
    let out = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { out += b.toString(); });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitReady(adminPort, () => child.exitCode !== null, () => out);

      const put = await fetch(`http://127.0.0.1:${davPort}/hello.txt`, { method: 'PUT', body: 'over webdav' });
      assert.equal(put.status, 201, out);
      const c = await Nfs3TestClient.connect(nfsPort, sysCred(0, 0));
      try {
        const root = (await c.mount(mountPort, '/')).fh;
        assert.ok(root, 'the export of the config file mounts');
        const found = await c.lookup(root, 'hello.txt');
        assert.equal(found.status, NFS3_OK);
        assert.ok(found.fh);
        assert.equal((await c.read(found.fh, 0, 100)).data?.toString(), 'over webdav', 'NFS sees what WebDAV wrote');
      } finally {
        await c.close();
      }
      const idle = await RpcTestClient.connect(nfsPort);
      await idle.serverEnded;
      await idle.close();
      child.kill('SIGTERM');
      assert.equal(await exited, 0, out);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('`ferry config check` accepts the shipped packaging/deb/ferry.yaml', () => {
    const r = spawnSync(process.execPath, [main, 'config', 'check', shipped], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /OK/);
  });
});
