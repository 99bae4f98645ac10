/**
 * Ferry's NFS server against a real independent client: Debian's libnfs-utils (nfs-ls, nfs-cp,
 * nfs-cat; libnfs 4.0) talking to an in-process server over a SQLite-backed volume, with the
 * MOUNT and NFS ports given in the URL (no portmapper). Bytes go up and come back unchanged.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { NFS3_OK } from '../../../src/protocols/nfs/nfs3/types.js';
import { startHarness, type Harness } from '../../helpers/nfs-harness.js';
import { sysCred } from '../../helpers/rpc-client.js';
import { tmpDir } from '../../helpers/tmp.js';

const run = promisify(execFile);

describe('libnfs-utils (nfs-ls, nfs-cp, nfs-cat) against the Ferry NFS server', function () {
  this.timeout(120_000);
  let h: Harness;
  let local: string;
  let url: (path: string, extra?: string) => string;

  before(async () => {
    h = await startHarness({ engine: 'sqlite', exports: [{ path: '/', name: '/export', squash: 'no_root_squash' }], cred: sysCred(0, 0) });
    local = tmpDir('ferry-libnfs-');
    url = (path, extra = '') => `nfs://127.0.0.1/export${path}?version=3&nfsport=${h.server.ports.nfs}&mountport=${h.server.ports.mount}&uid=1000&gid=1000${extra}`;
    assert.equal((await h.client.setattr(h.root, { mode: 0o777 })).status, NFS3_OK);
  });

  after(async () => {
    await h.close();
  });

  async function roundTrip(name: string, data: Buffer): Promise<void> {
    const up = join(local, `${name}.up`);
    const down = join(local, `${name}.down`);
    writeFileSync(up, data);
    await run('nfs-cp', [up, url(`/${name}`)]);
    await run('nfs-cp', [url(`/${name}`), down]);
    assert.ok(readFileSync(down).equals(data), `${name}: downloaded bytes differ`);
  }

  it('nfs-cp copies files up and down unchanged: empty, small, several MiB of random bytes', async () => {
    await roundTrip('empty', Buffer.alloc(0));
    await roundTrip('small.txt', Buffer.from('hello over NFSv3\n'));
    await roundTrip('random.bin', randomBytes(5 * 1024 * 1024 + 12345));
  });

  it('nfs-cat prints a file the server stores', async () => {
    const fh = await h.client.create(h.root, 'cat.txt');
    assert.ok(fh.fh);
    await h.client.write(fh.fh, 0, Buffer.from('line one\nline two\n'), 2);
    const { stdout } = await run('nfs-cat', [url('/cat.txt')]);
    assert.equal(stdout, 'line one\nline two\n');
  });

  it('nfs-ls lists a directory of 1500 entries exactly, across small READDIRPLUS replies', async () => {
    const d = await h.client.mkdir(h.root, 'many', { mode: 0o777 });
    assert.ok(d.fh);
    const dir = d.fh;
    const names = Array.from({ length: 1500 }, (_, i) => `f${i}`);
    for (let i = 0; i < names.length; i += 100) await Promise.all(names.slice(i, i + 100).map((n) => h.client.create(dir, n)));
    const { stdout } = await run('nfs-ls', [url('/many', '&readdir-buffer=4096')], { maxBuffer: 16 * 1024 * 1024 });
    const listed = stdout.split('\n').filter((l) => l.trim() !== '').map((l) => l.trim().split(/\s+/).at(-1) ?? '');
    const files = listed.filter((n) => n !== '.' && n !== '..');
    assert.deepEqual([...files].sort(), [...names].sort());
  });

  it('with the default export "/", nfs-cp and nfs-cat reach a file directly under the root', async () => {
    // libnfs splits the URL path at its last '/': the export is what comes before, so a file at
    // the root of export "/" needs the URL path "//name" (MNT "/"); "nfs://host/name" asks to
    // mount "" and libnfs 4.0 itself rejects an empty export ("mount_cb: (null)") unless
    // auto-traverse-mounts=0 skips its nested-export walk.
    const root = await startHarness({ exports: [{ path: '/', squash: 'no_root_squash' }], cred: sysCred(0, 0) });
    try {
      const q = `?version=3&nfsport=${root.server.ports.nfs}&mountport=${root.server.ports.mount}`;
      const up = join(local, 'hello.up');
      writeFileSync(up, 'hello from the export root\n');
      await run('nfs-cp', [up, `nfs://127.0.0.1//hello.txt${q}`]);
      const looked = await root.client.lookup(root.root, 'hello.txt');
      assert.equal(looked.status, NFS3_OK, 'the file landed directly under the volume root');
      assert.equal((await run('nfs-cat', [`nfs://127.0.0.1//hello.txt${q}`])).stdout, 'hello from the export root\n');
      assert.equal((await run('nfs-cat', [`nfs://127.0.0.1/hello.txt${q}&auto-traverse-mounts=0`])).stdout, 'hello from the export root\n');
    } finally {
      await root.close();
    }
  });

  it('nfs-ls of an export the client may not mount fails', async () => {
    const denied = await startHarness({ exports: [{ path: '/', name: '/export', clients: ['192.0.2.0/24'] }] });
    try {
      const u = `nfs://127.0.0.1/export/?version=3&nfsport=${denied.server.ports.nfs}&mountport=${denied.server.ports.mount}`;
      await assert.rejects(run('nfs-ls', [u]));
    } finally {
      await denied.close();
    }
  });
});
