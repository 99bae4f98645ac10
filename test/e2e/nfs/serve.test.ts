/**
 * `ferry serve` as a process: the embedded default volume in a fresh --data-dir is formatted on
 * first start, served, and after SIGTERM and a restart the data is still there and the file
 * handles a client got before the restart still work (stateless handles over SQLite metadata).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MOUNT_PROG, MOUNT_V3, MOUNTPROC3_NULL } from '../../../src/protocols/nfs/mount/types.js';
import { FILE_SYNC, NFS3_OK } from '../../../src/protocols/nfs/nfs3/types.js';
import { SUCCESS } from '../../../src/protocols/nfs/rpc/message.js';
import { freePort } from '../../helpers/free-port.js';
import { Nfs3TestClient } from '../../helpers/nfs3-client.js';
import { RpcTestClient, sysCred } from '../../helpers/rpc-client.js';
import { tmpDir } from '../../helpers/tmp.js';

const main = fileURLToPath(new URL('../../../src/cli/main.js', import.meta.url));

interface Served {
  child: ChildProcess;
  output: () => string;
  stop(): Promise<number | null>;
}

async function serve(dataDir: string, nfsPort: number, mountPort: number): Promise<Served> {
  const child = spawn(process.execPath, [main, 'serve', '--data-dir', dataDir, '--nfs-port', String(nfsPort), '--mount-port', String(mountPort), '--host', '127.0.0.1', '--portmap', 'none', '--no-webdav', '--no-admin'], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FERRY_LOG_LEVEL: 'warn' },
  });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => { out += b.toString(); });
  child.stderr?.on('data', (b: Buffer) => { out += b.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`ferry serve exited: ${out}`);
    try {
      const c = await RpcTestClient.connect(mountPort);
      const reply = await c.call({ prog: MOUNT_PROG, vers: MOUNT_V3, proc: MOUNTPROC3_NULL });
      await c.close();
      if (reply.stat === SUCCESS) break;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`ferry serve did not start: ${out}`, { cause: err });
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    output: () => out,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

describe('ferry serve (embedded default volume)', function () {
  this.timeout(60_000);
  const running: Served[] = [];

  after(async () => {
    for (const s of running) if (s.child.exitCode === null) s.child.kill('SIGKILL');
  });

  it('formats on first start, exits cleanly on SIGTERM, and keeps data and handles across a restart', async () => {
    const dataDir = join(tmpDir('ferry-serve-'), 'data');
    const nfsPort = await freePort();
    const mountPort = await freePort();
    const first = await serve(dataDir, nfsPort, mountPort);
    running.push(first);
    const c1 = await Nfs3TestClient.connect(nfsPort, sysCred(0, 0));
    const root = (await c1.mount(mountPort, '/')).fh;
    assert.ok(root);
    const made = await c1.create(root, 'kept.txt', { attrs: { mode: 0o644 } });
    assert.ok(made.fh);
    assert.equal((await c1.write(made.fh, 0, Buffer.from('survives restarts'), FILE_SYNC)).status, NFS3_OK);
    await c1.close();
    assert.equal(await first.stop(), 0, first.output());

    const second = await serve(dataDir, nfsPort, mountPort);
    running.push(second);
    const c2 = await Nfs3TestClient.connect(nfsPort, sysCred(0, 0));
    const r = await c2.read(made.fh, 0, 100);
    assert.equal(r.status, NFS3_OK, 'the handle from before the restart works');
    assert.equal(r.data?.toString(), 'survives restarts');
    assert.deepEqual((await c2.mount(mountPort, '/')).fh, root);
    await c2.close();
    assert.equal(await second.stop(), 0, second.output());
  });
});
