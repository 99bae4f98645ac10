/**
 * Model-based test of the data path: random writes (overlapping, out of order, past the end),
 * truncates, reads, fsyncs, reopen (close-to-open), clones and compactions on a few files, checked
 * after every read against an in-memory byte array per file, and at the end through the
 * independent spec reader. Runs on every matrix row.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MODE_READ, MODE_WRITE, ROOT_CREDENTIALS, ROOT_INODE, type FileHandle, type Ino } from '../../src/vfs/types.js';
import { BLOCK, bytes, ROWS } from './rig.js';
import { readFileBySpec } from './simple-reader.js';

const ROOT = ROOT_CREDENTIALS;
const FILES = 3;
const MAX = 6 * BLOCK;

type Op =
  | { kind: 'write'; file: number; off: number; len: number; seed: number }
  | { kind: 'truncate'; file: number; size: number }
  | { kind: 'read'; file: number; off: number; len: number }
  | { kind: 'fsync'; file: number }
  | { kind: 'reopen'; file: number }
  | { kind: 'clone'; src: number; dst: number; srcOff: number; dstOff: number; len: number }
  | { kind: 'compact'; file: number }
  | { kind: 'burst'; file: number; writes: { off: number; len: number; seed: number }[] };

const file = fc.integer({ min: 0, max: FILES - 1 });
// offsets crowd a few places (start, block edges) so that writes overlap, abut and leave gaps
const near = (base: number): fc.Arbitrary<number> => fc.integer({ min: 0, max: 3000 }).map((d) => base + d);
const off = fc.oneof(fc.integer({ min: 0, max: MAX }), near(0), near(BLOCK - 1500), near(2 * BLOCK - 1500));
const len = fc.oneof(fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 1, max: 2 * BLOCK + 10 }));
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('write' as const), file, off, len, seed: fc.integer({ min: 0, max: 1000 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), file, size: off }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('read' as const), file, off, len }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('fsync' as const), file }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reopen' as const), file }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clone' as const), src: file, dst: file, srcOff: off, dstOff: off, len }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('compact' as const), file }) },
  // several WRITEs in flight at once within a few KiB, as an NFS client sends them
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('burst' as const),
      file,
      writes: fc.array(fc.record({ off: fc.integer({ min: 0, max: 4000 }), len: fc.integer({ min: 1, max: 1500 }), seed: fc.integer({ min: 0, max: 1000 }) }), { minLength: 2, maxLength: 6 }),
    }),
  },
);

/** A growable byte array: the model of one file. */
class Model {
  data = Buffer.alloc(0);
  write(at: number, d: Buffer): void {
    if (at + d.length > this.data.length) this.resize(at + d.length);
    d.copy(this.data, at);
  }
  resize(size: number): void {
    const next = Buffer.alloc(size);
    this.data.copy(next, 0, 0, Math.min(size, this.data.length));
    this.data = next;
  }
}

for (const row of ROWS) {
  describe(`Vfs model (${row.name})`, function () {
    this.timeout(300_000);

    it('random writes, truncates, clones and compactions read back like a byte array', async function () {
      await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 60 }), async (ops) => {
        const rig = await row.make();
        try {
          const inos: Ino[] = [];
          const handles: FileHandle[] = [];
          const models: Model[] = [];
          for (let i = 0; i < FILES; i++) {
            const e = await rig.vfs.create(ROOT, ROOT_INODE, Buffer.from(`f${i}`), 0o644, 0);
            inos.push(e.ino);
            handles.push((await rig.vfs.open(ROOT, e.ino, MODE_READ | MODE_WRITE)).handle);
            models.push(new Model());
          }
          const h = (i: number): FileHandle => handles[i] as FileHandle;
          const ino = (i: number): Ino => inos[i] as Ino;
          const m = (i: number): Model => models[i] as Model;
          for (const o of ops) {
            switch (o.kind) {
              case 'write': {
                const d = bytes(o.len, o.seed);
                await rig.vfs.write(ROOT, h(o.file), o.off, d);
                m(o.file).write(o.off, d);
                break;
              }
              case 'truncate':
                await rig.vfs.setattr(ROOT, ino(o.file), { size: o.size });
                m(o.file).resize(o.size);
                break;
              case 'read': {
                const got = await rig.vfs.read(ROOT, h(o.file), o.off, o.len);
                const d = m(o.file).data;
                assert.ok(got.equals(d.subarray(Math.min(o.off, d.length), Math.min(o.off + o.len, d.length))), `read ${o.off}+${o.len} of f${o.file}`);
                break;
              }
              case 'fsync':
                await rig.vfs.fsync(ROOT, h(o.file));
                break;
              case 'reopen':
                await rig.vfs.release(ROOT, h(o.file));
                handles[o.file] = (await rig.vfs.open(ROOT, ino(o.file), MODE_READ | MODE_WRITE)).handle;
                break;
              case 'clone': {
                if (o.src === o.dst) break; // overlapping self-clones are EINVAL by contract
                await rig.vfs.copyRange(ROOT, ino(o.src), o.srcOff, ino(o.dst), o.dstOff, o.len);
                const src = m(o.src).data;
                const n = Math.max(0, Math.min(o.len, src.length - o.srcOff));
                if (n > 0) m(o.dst).write(o.dstOff, Buffer.from(src.subarray(o.srcOff, o.srcOff + n)));
                break;
              }
              case 'compact':
                if (row.compacts) await rig.vfs.compact(ROOT, ino(o.file));
                break;
              case 'burst':
                await Promise.all(o.writes.map((w) => rig.vfs.write(ROOT, h(o.file), w.off, bytes(w.len, w.seed))));
                for (const w of o.writes) m(o.file).write(w.off, bytes(w.len, w.seed));
                break;
            }
          }
          for (let i = 0; i < FILES; i++) {
            await rig.vfs.release(ROOT, h(i));
            const want = m(i).data;
            assert.equal((await rig.vfs.getattr(ROOT, ino(i))).length, want.length);
            assert.ok((await rig.vfs.read(ROOT, ino(i), 0, want.length + 1)).equals(want), `final content of f${i}`);
            await rig.settle(); // background compactions may still swap slices under a slow reader
            assert.ok((await readFileBySpec(rig.meta, rig.store, ino(i), BLOCK)).equals(want), `f${i} through the spec reader`);
          }
        } finally {
          await rig.close();
        }
      }), { numRuns: Number(process.env['MODEL_RUNS'] ?? (row.writeBack ? 15 : 30)) });
    });
  });
}
