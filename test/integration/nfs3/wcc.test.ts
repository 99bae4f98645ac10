/**
 * The attributes NFSv3 procedures answer about the objects they touch (RFC 1813 §2.6 wcc_data,
 * post_op_attr) on every metadata engine: pre-operation attributes as a GETATTR just before the
 * call saw them, post-operation ones as a GETATTR just after sees them. The procedures read
 * them together with the operation's own reads and take the post-operation ones from the
 * engine's transaction; these tests pin that down, including trash and failures (STALE, ROFS).
 */
import assert from 'node:assert/strict';
import {
  EXCLUSIVE, GUARDED, NF3FIFO, NFS3_OK, NFS3ERR_EXIST, NFS3ERR_INVAL, NFS3ERR_ISDIR, NFS3ERR_NOENT, NFS3ERR_ROFS, NFS3ERR_STALE, UNSTABLE,
  type Fattr3, type PostOpAttr,
} from '../../../src/protocols/nfs/nfs3/types.js';
import { sysCred } from '../../helpers/rpc-client.js';
import { startHarness, type Harness } from '../../helpers/nfs-harness.js';

/** wcc_attr of a GETATTR answer (size, mtime, ctime). */
const pre = (a: PostOpAttr | undefined): { size: bigint; mtime: Fattr3['mtime']; ctime: Fattr3['ctime'] } | null =>
  (a === null || a === undefined ? null : { size: a.size, mtime: a.mtime, ctime: a.ctime });

for (const engine of ['memory', 'sqlite', 'redis'] as const) {
  describe(`NFSv3 wcc_data and post-op attributes (${engine} engine)`, function () {
    this.timeout(30_000);
    let h: Harness;

    const start = async (trashDays: number, ro = false): Promise<void> => {
      h = await startHarness({
        engine, setting: { TrashDays: trashDays }, cred: sysCred(0, 0),
        exports: [{ path: '/', squash: 'no_root_squash' }, ...(ro ? [{ path: '/', name: '/ro', ro: true }] : [])],
      });
    };

    afterEach(async () => {
      await h.close();
    });

    const dirAttr = async (): Promise<PostOpAttr | undefined> => (await h.client.getattr(h.root)).attr;

    it('LOOKUP answers the directory attributes GETATTR sees, whether the name exists or not', async () => {
      await start(0);
      assert.equal((await h.client.create(h.root, 'here')).status, NFS3_OK);
      const now = await dirAttr();
      const miss = await h.client.lookup(h.root, 'missing');
      assert.equal(miss.status, NFS3ERR_NOENT);
      assert.deepEqual(miss.dirAttr, now);
      const hit = await h.client.lookup(h.root, 'here');
      assert.equal(hit.status, NFS3_OK);
      assert.deepEqual(hit.dirAttr, now);
      assert.deepEqual(hit.attr, (await h.client.getattr(hit.fh ?? Buffer.alloc(0))).attr);
    });

    it('CREATE (unchecked, guarded, exclusive), MKDIR, SYMLINK and MKNOD: directory wcc_data is GETATTR before and after', async () => {
      await start(0);
      const calls = [
        () => h.client.create(h.root, 'u'),
        () => h.client.create(h.root, 'g', { mode: GUARDED, attrs: { mode: 0o600 } }),
        () => h.client.create(h.root, 'x', { mode: EXCLUSIVE, verf: Buffer.from('verifier') }),
        () => h.client.mkdir(h.root, 'd'),
        () => h.client.symlink(h.root, 'l', 'u'),
        () => h.client.mknod(h.root, 'p', NF3FIFO),
      ];
      for (const [i, call] of calls.entries()) {
        const before = await dirAttr();
        const r = await call();
        assert.equal(r.status, NFS3_OK, `call ${i}`);
        const after = await dirAttr();
        assert.notDeepEqual(after, before, `call ${i} changed the directory`);
        assert.deepEqual(r.dirWcc.before, pre(before), `call ${i}: pre-op`);
        assert.deepEqual(r.dirWcc.after, after, `call ${i}: post-op`);
      }
      // an UNCHECKED create of an existing name changes nothing: both sides are the current attributes
      const now = await dirAttr();
      const again = await h.client.create(h.root, 'u');
      assert.equal(again.status, NFS3_OK);
      assert.deepEqual([again.dirWcc.before, again.dirWcc.after], [pre(now), now]);
      const guarded = await h.client.create(h.root, 'u', { mode: GUARDED, attrs: { mode: 0o600 } });
      assert.equal(guarded.status, NFS3ERR_EXIST);
      assert.deepEqual([guarded.dirWcc.before, guarded.dirWcc.after], [pre(now), now], 'failure wcc_data');
    });

    for (const trashDays of [0, 1]) {
      it(`REMOVE and RMDIR (trash days ${trashDays}): directory wcc_data is GETATTR before and after`, async () => {
        await start(trashDays);
        assert.equal((await h.client.create(h.root, 'f')).status, NFS3_OK);
        assert.equal((await h.client.mkdir(h.root, 'd')).status, NFS3_OK);
        for (const [name, rm] of [['f', () => h.client.remove(h.root, 'f')], ['d', () => h.client.rmdir(h.root, 'd')]] as const) {
          const before = await dirAttr();
          const r = await rm();
          assert.equal(r.status, NFS3_OK, name);
          const after = await dirAttr();
          assert.deepEqual(r.wcc.before, pre(before), `${name}: pre-op`);
          assert.deepEqual(r.wcc.after, after, `${name}: post-op`);
          assert.equal((await h.client.lookup(h.root, name)).status, NFS3ERR_NOENT);
        }
        const now = await dirAttr();
        const missing = await h.client.remove(h.root, 'f');
        assert.equal(missing.status, NFS3ERR_NOENT);
        assert.deepEqual([missing.wcc.before, missing.wcc.after], [pre(now), now], 'failure wcc_data');
      });
    }

    it('SETATTR, WRITE and COMMIT: the file\'s wcc_data is GETATTR before and after', async () => {
      await start(0);
      const made = await h.client.create(h.root, 'f');
      const fh = made.fh ?? Buffer.alloc(0);
      let before = (await h.client.getattr(fh)).attr;
      const s = await h.client.setattr(fh, { mode: 0o640 });
      assert.equal(s.status, NFS3_OK);
      assert.deepEqual(s.wcc.before, pre(before));
      assert.deepEqual(s.wcc.after, (await h.client.getattr(fh)).attr);
      assert.equal(s.wcc.after?.mode, 0o640);
      before = (await h.client.getattr(fh)).attr;
      const w = await h.client.write(fh, 0, Buffer.alloc(4096, 7), UNSTABLE);
      assert.equal(w.status, NFS3_OK);
      assert.deepEqual(w.wcc.before, pre(before));
      assert.deepEqual(w.wcc.after, (await h.client.getattr(fh)).attr);
      before = (await h.client.getattr(fh)).attr;
      const c = await h.client.commit(fh);
      assert.equal(c.status, NFS3_OK);
      assert.deepEqual(c.wcc.before, pre(before), 'pending writes count in the pre-op size');
      assert.deepEqual(c.wcc.after, (await h.client.getattr(fh)).attr);
      const dir = await h.client.commit(h.root);
      assert.equal(dir.status, NFS3_OK, 'COMMIT of a directory');
      assert.deepEqual(dir.wcc.after, await dirAttr());
    });

    it('a handle of a removed directory or file is STALE for LOOKUP, CREATE, MKDIR, REMOVE, SETATTR, WRITE and COMMIT', async () => {
      await start(0);
      const d = await h.client.mkdir(h.root, 'gone');
      const fh = d.fh ?? Buffer.alloc(0);
      assert.equal((await h.client.rmdir(h.root, 'gone')).status, NFS3_OK);
      assert.equal((await h.client.lookup(fh, 'x')).status, NFS3ERR_STALE);
      assert.equal((await h.client.create(fh, 'x')).status, NFS3ERR_STALE);
      assert.equal((await h.client.mkdir(fh, 'x')).status, NFS3ERR_STALE);
      assert.equal((await h.client.remove(fh, 'x')).status, NFS3ERR_STALE);
      assert.equal((await h.client.setattr(fh, { mode: 0o700 })).status, NFS3ERR_STALE);
      const f = await h.client.create(h.root, 'file');
      const ffh = f.fh ?? Buffer.alloc(0);
      assert.equal((await h.client.remove(h.root, 'file')).status, NFS3_OK);
      assert.equal((await h.client.write(ffh, 0, Buffer.from('x'), UNSTABLE)).status, NFS3ERR_STALE);
      assert.equal((await h.client.commit(ffh)).status, NFS3ERR_STALE);
    });

    it('WRITE to a directory is ISDIR, to a fifo INVAL, and writes nothing', async () => {
      await start(0);
      const d = await h.client.mkdir(h.root, 'd');
      const p = await h.client.mknod(h.root, 'p', NF3FIFO);
      assert.equal((await h.client.write(d.fh ?? Buffer.alloc(0), 0, Buffer.from('x'), UNSTABLE)).status, NFS3ERR_ISDIR);
      assert.equal((await h.client.write(p.fh ?? Buffer.alloc(0), 0, Buffer.from('x'), UNSTABLE)).status, NFS3ERR_INVAL);
      assert.equal((await h.client.getattr(p.fh ?? Buffer.alloc(0))).attr?.size, 0n);
    });

    it('on a read-only export CREATE, REMOVE, SETATTR and WRITE answer ROFS and change nothing', async () => {
      await start(1, true);
      assert.equal((await h.client.create(h.root, 'keep', { attrs: { mode: 0o644 } })).status, NFS3_OK);
      const ro = await h.connect(sysCred(0, 0));
      const mnt = await ro.mount(h.server.ports.mount, '/ro');
      const root = mnt.fh ?? Buffer.alloc(0);
      const keep = await ro.lookup(root, 'keep');
      assert.equal(keep.status, NFS3_OK);
      const before = await dirAttr();
      assert.equal((await ro.remove(root, 'keep')).status, NFS3ERR_ROFS);
      assert.equal((await ro.create(root, 'new')).status, NFS3ERR_ROFS);
      assert.equal((await ro.setattr(keep.fh ?? Buffer.alloc(0), { mode: 0o600 })).status, NFS3ERR_ROFS);
      assert.equal((await ro.write(keep.fh ?? Buffer.alloc(0), 0, Buffer.from('x'), UNSTABLE)).status, NFS3ERR_ROFS);
      assert.equal((await h.client.getattr(keep.fh ?? Buffer.alloc(0))).attr?.size, 0n);
      assert.deepEqual(await dirAttr(), before);
      assert.equal((await h.client.lookup(h.root, 'keep')).attr?.mode, 0o644);
      assert.equal((await h.client.lookup(h.root, 'new')).status, NFS3ERR_NOENT);
    });
  });
}
