/**
 * Conformance of the compaction swap, Meta.compactChunk over MetaEngine.doCompactChunk (spec §E.3,
 * §B.9). Separate from suite.ts while the primitive is optional: engines that implement it call
 * compactConformance() from their test file with the same EngineUnderTest they give metaConformance.
 */
import assert from 'node:assert/strict';
import { BaseMeta } from '../../../src/meta/base.js';
import { resolveChunk } from '../../../src/meta/slices.js';
import { type Ino, ROOT_INODE, type SliceId, type SliceRecord, toChunkIndex, toSliceId } from '../../../src/meta/types.js';
import { Errno } from '../../../src/util/errno.js';
import { ROOT, n, rejects, volume, write } from './helpers.js';
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
