/**
 * Conformance of the compaction swap, Meta.compactChunk over MetaEngine.doCompactChunk (spec §E.3,
 * §B.9), and of the data release around it: cleanupSlices (Meta.releaseUnreferencedSlices) and the
 * trash cleaner (Meta.expireTrash, spec §E.6). Separate from suite.ts while the swap is optional:
 * engines that implement it call compactConformance() from their test file with the same
 * EngineUnderTest they give metaConformance.
 */
import assert from 'node:assert/strict';
import { BaseMeta } from '../../../src/meta/base.js';
import { resolveChunk } from '../../../src/meta/slices.js';
import { trashHourName } from '../../../src/meta/names.js';
import { type Ino, ROOT_INODE, type SliceId, type SliceRecord, TRASH_INODE, toChunkIndex, toSliceId } from '../../../src/meta/types.js';
import { Errno } from '../../../src/util/errno.js';
import { ROOT, n, names, rejects, volume, write } from './helpers.js';
import type { EngineUnderTest } from './suite.js';

const C0 = toChunkIndex(0);

export function compactConformance(name: string, makeEngine: () => Promise<EngineUnderTest>): void {
  describe(`meta compaction swap conformance: ${name}`, function () {
    let under: EngineUnderTest;
    let meta: BaseMeta;
    let deleted: string[];

    async function setup(trashDays = 0): Promise<void> {
      under = await makeEngine();
      meta = new BaseMeta(under.engine, { skipDirMtimeMs: 0 });
      await meta.format(volume({ TrashDays: trashDays }));
      deleted = [];
      meta.onDeleteSlice(async (id, size) => { deleted.push(`${id}_${size}`); });
    }

    afterEach(async function () {
      await under.cleanup();
    });

    async function file(name: string): Promise<Ino> {
      return (await meta.create(ROOT, ROOT_INODE, n(name), 0o644, 0, true)).ino;
    }

    const slice = (pos: number, id: SliceId, len: number): SliceRecord => ({ pos, id, size: len, off: 0, len });

    it('replaces the first N records by skipped ++ [new], keeps later records, frees replaced slices', async function () {
      await setup();
      const ino = await file('f');
      const a = await write(meta, ino, 0, 1000);
      const b = await write(meta, ino, 500, 1000);
      const c = await write(meta, ino, 200, 100);
      const old = await meta.readSlices(ino, C0);
      const later = await write(meta, ino, 3000, 10); // appended after the compactor read the list
      const attrBefore = await meta.getattr(ino);
      const id = await meta.newSliceId();
      assert.equal(await meta.compactChunk(ino, C0, old, 1, slice(200, id, 1300)), true);
      const list = await meta.readSlices(ino, C0);
      assert.deepEqual(list.map((r) => r.id), [a, id, later]);
      assert.deepEqual(list[1], slice(200, id, 1300));
      assert.deepEqual(deleted.sort(), [`${b}_1000`, `${c}_100`].sort());
      assert.equal(await meta.sliceRefs(id, 1300), 1);
      const attrAfter = await meta.getattr(ino);
      assert.deepEqual([attrAfter.length, attrAfter.mtime, attrAfter.mtimeNs], [attrBefore.length, attrBefore.mtime, attrBefore.mtimeNs]);
    });

    it('refuses (false, nothing changed) when the list no longer starts with the records read', async function () {
      await setup();
      const ino = await file('f');
      await write(meta, ino, 0, 100);
      await write(meta, ino, 50, 100);
      const old = await meta.readSlices(ino, C0);
      const first = await meta.newSliceId();
      assert.equal(await meta.compactChunk(ino, C0, old, 0, slice(0, first, 150)), true);
      const now = await meta.readSlices(ino, C0);
      const second = await meta.newSliceId();
      assert.equal(await meta.compactChunk(ino, C0, old, 0, slice(0, second, 150)), false);
      assert.deepEqual(await meta.readSlices(ino, C0), now);
      const other = await file('g');
      assert.equal(await meta.compactChunk(other, C0, now, 0, slice(0, second, 150)), false, 'no list at all');
    });

    it('keeps slices still referenced by a clone', async function () {
      await setup();
      const src = await file('src');
      const dst = await file('dst');
      const a = await write(meta, src, 0, 100);
      await write(meta, src, 10, 10);
      await meta.cloneRange(ROOT, src, 0, dst, 0, 100);
      const old = await meta.readSlices(src, C0);
      const id = await meta.newSliceId();
      assert.equal(await meta.compactChunk(src, C0, old, 0, slice(0, id, 100)), true);
      assert.ok(!deleted.includes(`${a}_100`), 'the clone still uses slice a');
      assert.deepEqual(resolveChunk(await meta.readSlices(src, C0), 0, 100).map((p) => p.id), [id]);
    });

    it('with trash on, replaced slices are kept for the trash cleaner instead of being freed', async function () {
      await setup(1);
      const ino = await file('f');
      await write(meta, ino, 0, 100);
      await write(meta, ino, 0, 100);
      const old = await meta.readSlices(ino, C0);
      assert.equal(await meta.compactChunk(ino, C0, old, 0, slice(0, await meta.newSliceId(), 100)), true);
      assert.deepEqual(deleted, []);
    });

    it('releaseUnreferencedSlices deletes a slice whose last reference went while its deletion failed, once', async function () {
      await setup();
      const ino = await file('f');
      const a = await write(meta, ino, 0, 100);
      await write(meta, ino, 0, 100);
      const old = await meta.readSlices(ino, C0);
      meta.onDeleteSlice(async () => { throw new Error('store down'); });
      assert.equal(await meta.compactChunk(ino, C0, old, 0, slice(0, await meta.newSliceId(), 100)), true);
      meta.onDeleteSlice(async (id, size) => { deleted.push(`${id}_${size}`); });
      assert.equal(await meta.releaseUnreferencedSlices(), 2);
      assert.ok(deleted.includes(`${a}_100`));
      assert.equal(await meta.sliceRefs(a, 100), 1, 'the entry is gone (absent means 1)');
      assert.equal(await meta.releaseUnreferencedSlices(), 0, 'nothing left the second time');
    });

    it('the heartbeat runs cleanupSlices under the hourly lease: one node per period', async function () {
      await setup();
      const other = new BaseMeta(under.engine, { skipDirMtimeMs: 0 });
      await other.load();
      const otherDeleted: string[] = [];
      other.onDeleteSlice(async (id, size) => { otherDeleted.push(`${id}_${size}`); });
      const leftover = async (name: string): Promise<SliceId> => {
        const ino = await file(name);
        const a = await write(meta, ino, 0, 100);
        await write(meta, ino, 0, 100);
        const old = await meta.readSlices(ino, C0);
        meta.onDeleteSlice(async () => { throw new Error('store down'); });
        await meta.compactChunk(ino, C0, old, 0, slice(0, await meta.newSliceId(), 100));
        meta.onDeleteSlice(async (id, size) => { deleted.push(`${id}_${size}`); });
        return a;
      };
      const first = await leftover('f1');
      await meta.heartbeat();
      assert.ok(deleted.includes(`${first}_100`), 'the lease winner deleted the leftover');
      const second = await leftover('f2');
      await other.heartbeat();
      await meta.heartbeat();
      assert.deepEqual(otherDeleted, [], 'no second run within the lease period');
      assert.ok(!deleted.includes(`${second}_100`));
      assert.equal(await meta.sliceRefs(second, 100) < 1, true, 'still waiting for the next period');
      await other.flushBackground(); // the engine is shared: cleanup() closes it
    });

    it('expireTrash works on a volume formatted without trash, which has no trash directory (the heartbeat\'s hourly run failed there with ENOENT)', async function () {
      await setup(0);
      await rejects(meta.getattr(TRASH_INODE), Errno.ENOENT);
      const ino = await file('f');
      const id = await write(meta, ino, 0, 100);
      await write(meta, ino, 0, 100);
      const old = await meta.readSlices(ino, C0);
      await meta.compactChunk(ino, C0, old, 0, slice(0, await meta.newSliceId(), 100));
      await meta.flushBackground();
      assert.ok(deleted.includes(`${id}_100`), 'without trash a compaction releases the replaced slices at once');
      const t = Math.floor(Date.now() / 1000);
      assert.equal(await meta.expireTrash(t), 0);
      assert.equal(await meta.expireTrash(t + 30 * 3600), 0);
    });

    it('expireTrash keeps trash younger than trash-days + 2 h and deletes older hours with their data', async function () {
      await setup(1);
      const ino = await file('gone');
      const id = await write(meta, ino, 0, 5000);
      const before = await meta.counters();
      await meta.unlink(ROOT, ROOT_INODE, n('gone'));
      const t = Math.floor(Date.now() / 1000);
      const hour = trashHourName(t).toString();
      assert.ok((await names(meta, TRASH_INODE)).includes(hour));
      assert.equal(await meta.expireTrash(t), 0, 'the current hour stays');
      assert.equal(await meta.expireTrash(t + 24 * 3600), 0, 'one day later it still stays (trash-days 1, plus 2 h)');
      assert.deepEqual(deleted, []);
      assert.equal(await meta.expireTrash(t + 26 * 3600 + 3600), 2, 'the file and its hour directory');
      await meta.flushBackground();
      assert.ok(!(await names(meta, TRASH_INODE)).includes(hour));
      assert.deepEqual(deleted, [`${id}_5000`]);
      const after = await meta.counters();
      assert.ok(after.usedInodes < before.usedInodes, 'the trashed inodes no longer count');
      assert.equal(await meta.expireTrash(t + 30 * 3600), 0);
    });

    it('expireTrash empties an hour directory of more entries than one listing batch (1000)', async function () {
      this.timeout(120_000);
      await setup(1);
      const count = 2100;
      for (let i = 0; i < count; i++) {
        await file(`t${i}`);
        await meta.unlink(ROOT, ROOT_INODE, n(`t${i}`));
      }
      const t = Math.floor(Date.now() / 1000);
      assert.equal(await meta.expireTrash(t + 3 * 24 * 3600), count + 1, 'every file and the hour directory');
      assert.deepEqual((await names(meta, TRASH_INODE)).filter((x) => x !== '.' && x !== '..'), []);
    });

    it('expireTrash deletes trashed directories with the files of the hour', async function () {
      await setup(1);
      await meta.mkdir(ROOT, ROOT_INODE, n('d'), 0o755, 0);
      await file('f');
      await meta.rmdir(ROOT, ROOT_INODE, n('d'));
      await meta.unlink(ROOT, ROOT_INODE, n('f'));
      const t = Math.floor(Date.now() / 1000);
      const before = await meta.counters();
      assert.equal(await meta.expireTrash(t + 3 * 24 * 3600), 3, 'the directory, the file and the hour directory');
      assert.deepEqual((await names(meta, TRASH_INODE)).filter((x) => x !== '.' && x !== '..'), []);
      assert.equal((await meta.counters()).usedInodes, before.usedInodes - 3);
    });

    it('expireTrash releases slices replaced by a compaction once they are older than trash-days', async function () {
      await setup(1);
      const ino = await file('f');
      const a = await write(meta, ino, 0, 100);
      const b = await write(meta, ino, 0, 100);
      const old = await meta.readSlices(ino, C0);
      const t = Math.floor(Date.now() / 1000);
      assert.equal(await meta.compactChunk(ino, C0, old, 0, slice(0, await meta.newSliceId(), 100)), true);
      await meta.expireTrash(t + 3600);
      assert.deepEqual(deleted, [], 'kept while younger than trash-days');
      await meta.expireTrash(t + 24 * 3600 + 60);
      assert.deepEqual(deleted.sort(), [`${a}_100`, `${b}_100`].sort());
      await meta.expireTrash(t + 48 * 3600);
      assert.equal(deleted.length, 2, 'released once');
      assert.deepEqual((await meta.readSlices(ino, C0)).length, 1);
    });

    it('writeSlice reports a chunk due for compaction when its list reaches 99 mod 100 records, and past 350', async function () {
      await setup();
      const ino = await file('f');
      const due: number[] = [];
      meta.onCompactionDue((i, indx, records) => {
        assert.equal(i, ino);
        assert.equal(indx, C0);
        due.push(records);
      });
      for (let k = 0; k < 100; k++) await write(meta, ino, k, 1);
      assert.deepEqual(due, [99]);
    });

    it('rejects a malformed new slice or skip count with EINVAL', async function () {
      await setup();
      const ino = await file('f');
      await write(meta, ino, 0, 100);
      await write(meta, ino, 0, 100);
      const old = await meta.readSlices(ino, C0);
      await rejects(meta.compactChunk(ino, C0, old, 0, slice(0, toSliceId(0), 100)), Errno.EINVAL);
      await rejects(meta.compactChunk(ino, C0, old, 2, slice(0, await meta.newSliceId(), 100)), Errno.EINVAL);
      await rejects(meta.compactChunk(ino, C0, old, 0, { pos: 0, id: await meta.newSliceId(), size: 100, off: 10, len: 90 }), Errno.EINVAL);
    });
  });
}
