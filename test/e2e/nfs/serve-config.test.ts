/**
 * `ferry serve --config FILE` with the appliance configuration (dashed keys, docs/configuration.md):
 * NFS and WebDAV come up on the configured ports, /readyz on the admin port answers 200 once both
 * are bound, an idle NFS connection is closed after nfs.idle-timeout-sec, and SIGTERM runs the
 * stop steps and exits 0. Also: the shipped file passes config check.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NFS3_OK } from '../../../src/protocols/nfs/nfs3/types.js';
import { baseConfig, startServeProcess } from '../../helpers/appliance.js';
import { Nfs3TestClient } from '../../helpers/nfs3-client.js';
import { RpcTestClient, sysCred } from '../../helpers/rpc-client.js';

const main = fileURLToPath(new URL('../../../src/cli/main.js', import.meta.url));
const shipped = fileURLToPath(new URL('../../../../packaging/deb/ferry.yaml', import.meta.url));

describe('ferry serve with the appliance config file', function () {
  this.timeout(60_000);

  it('serves NFS and WebDAV on the configured ports, is ready on /readyz, closes idle NFS connections, and exits 0 on SIGTERM', async () => {
    const app = await startServeProcess({
      config: (dir, ports) => baseConfig(dir, ports).flatMap((l) => (l === '  portmap: none' ? [l, '  max-in-flight: 8', '  idle-timeout-sec: 1'] : [l])),
    });
    try {
      const put = await fetch(`http://127.0.0.1:${app.ports.webdav}/hello.txt`, { method: 'PUT', body: 'over webdav' });
      assert.equal(put.status, 201, app.out());
      const c = await Nfs3TestClient.connect(app.ports.nfs, sysCred(0, 0));
      try {
        const root = (await c.mount(app.ports.mount, '/')).fh;
        assert.ok(root, 'the export of the config file mounts');
        const found = await c.lookup(root, 'hello.txt');
        assert.equal(found.status, NFS3_OK);
        assert.ok(found.fh);
        assert.equal((await c.read(found.fh, 0, 100)).data?.toString(), 'over webdav', 'NFS sees what WebDAV wrote');
      } finally {
        await c.close();
      }
      const idle = await RpcTestClient.connect(app.ports.nfs);
      await idle.serverEnded;
      await idle.close();
      assert.equal(await app.stop('SIGTERM'), 0, app.out());
    } finally {
      await app.stop('SIGKILL');
    }
  });

  it('`ferry config check` accepts the shipped packaging/deb/ferry.yaml', () => {
    const r = spawnSync(process.execPath, [main, 'config', 'check', shipped], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /OK/);
  });
});
