/**
 * Conformance of the admin views Meta.scanSlices and Meta.parents (MetaEngine.doScanSlices /
 * doGetParents; spec §B.3, §B.9, §D.6): what `ferry gc` and `ferry fsck` rely on to never call a
 * held object leaked, and what `ferry info` shows as parents. Engines call adminScanConformance()
 * from their test file with the EngineUnderTest they give metaConformance.
 */
import assert from 'node:assert/strict';
import { BaseMeta } from '../../../src/meta/base.js';
import type { SliceScanItem } from '../../../src/meta/engine.js';
import { CHUNK_SIZE, type Ino, ROOT_INODE, type SliceId, toChunkIndex } from '../../../src/meta/types.js';
import { ROOT, collect, n, volume, write } from './helpers.js';
import type { EngineUnderTest } from './suite.js';

const C0 = toChunkIndex(0);

/** The scan as sorted strings, easy to compare. */
function summary(items: SliceScanItem[]): string[] {
  return items.map((i) => {
    if (i.kind === 'chunk') return `chunk ${i.ino}/${i.indx}: ${i.slices.map((s) => `${s.id}@${s.pos}+${s.len}`).join(' ')}`;
    if (i.kind === 'delayed') return `delayed ${i.slices.map((s) => `${s.id}_${s.size}`).join(' ')}`;
    return `unreferenced ${i.id}_${i.size}`;
  }).sort();
}

export function adminScanConformance(name: string, makeEngine: () => Promise<EngineUnderTest>): void {
  describe(`meta admin scan conformance: ${name}`, function () {
    let under: EngineUnderTest;
    let meta: BaseMeta;

    async function setup(trashDays = 0): Promise<void> {
      under = await makeEngine();
      meta = new BaseMeta(under.engine, { skipDirMtimeMs: 0 });
      await meta.format(volume({ TrashDays: trashDays }));
    }

    afterEach(async function () {
      await under.cleanup();
    });

    const file = async (parent: Ino, name: string): Promise<Ino> => (await meta.create(ROOT, parent, n(name), 0o644, 0, true)).ino;

    it('scanSlices lists the chunk lists of every file, including unlinked files still queued for deletion', async function () {
      await setup();
      const a = await file(ROOT_INODE, 'a');
      const a1 = await write(meta, a, 0, 100);
      const a2 = await write(meta, a, 50, 10);
      const a3 = await write(meta, a, CHUNK_SIZE + 7, 20);
      const b = await file(ROOT_INODE, 'b');
      const b1 = await write(meta, b, 0, 5);
      await meta.unlink(ROOT, ROOT_INODE, n('b')); // queued in delfiles: its list stays until released
      assert.deepEqual(summary(await collect(meta.scanSlices())), [
        `chunk ${a}/0: ${a1}@0+100 ${a2}@50+10`,
        `chunk ${a}/1: ${a3}@7+20`,
        `chunk ${b}/0: ${b1}@0+5`,
      ].sort());
    });

    it('scanSlices reports slices a compaction replaced while trash is on as delayed', async function () {
      await setup(1);
      const f = await file(ROOT_INODE, 'f');
      const s1 = await write(meta, f, 0, 100);
      const s2 = await write(meta, f, 0, 100);
      const old = await meta.readSlices(f, C0);
      const merged = await meta.newSliceId();
      assert.equal(await meta.compactChunk(f, C0, old, 0, { pos: 0, id: merged, size: 100, off: 0, len: 100 }), true);
      assert.deepEqual(summary(await collect(meta.scanSlices())), [
        `chunk ${f}/0: ${merged}@0+100`,
        `delayed ${s1}_100 ${s2}_100`,
      ]);
    });

    it('a slice whose last reference went away but whose objects were not deleted is unreferenced until releaseUnreferencedSlices', async function () {
      await setup();
      const f = await file(ROOT_INODE, 'f');
      const s: SliceId = await write(meta, f, 0, 64);
      await meta.unlink(ROOT, ROOT_INODE, n('f'));
      meta.onDeleteSlice(async () => {
        throw new Error('object store down');
      });
      await assert.rejects(meta.releaseDeletedFiles(), /object store down/);
      assert.deepEqual(summary(await collect(meta.scanSlices())), [`unreferenced ${s}_64`]);

      const deleted: string[] = [];
      meta.onDeleteSlice(async (id, size) => {
        deleted.push(`${id}_${size}`);
      });
      assert.equal(await meta.releaseUnreferencedSlices(), 1);
      assert.deepEqual(deleted, [`${s}_64`]);
      assert.deepEqual(summary(await collect(meta.scanSlices())), [], 'the slice is forgotten once its objects are deleted');
    });

    it('parents: the one parent of a plain file, every parent of a hard-linked file, none for the root', async function () {
      await setup();
      const d1 = (await meta.mkdir(ROOT, ROOT_INODE, n('d1'), 0o755, 0)).ino;
      const d2 = (await meta.mkdir(ROOT, ROOT_INODE, n('d2'), 0o755, 0)).ino;
      const f = await file(d1, 'f');
      assert.deepEqual(await meta.parents(f), [d1]);
      await meta.link(ROOT, f, d2, n('g'));
      await meta.link(ROOT, f, d2, n('h'));
      assert.deepEqual(await meta.parents(f), [d1, d2].sort((x, y) => (x < y ? -1 : 1)));
      await meta.unlink(ROOT, d1, n('f'));
      assert.deepEqual(await meta.parents(f), [d2], 'a parent whose count dropped to zero is not listed');
      assert.deepEqual(await meta.parents(ROOT_INODE), []);
    });
  });
}
