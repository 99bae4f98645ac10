/**
 * Pure slice arithmetic of the data path (src/vfs/slices.ts): newest-wins resolution (spec §E.2,
 * with its worked example), block read plans (§D.1), and compaction plans (§E.3), the latter
 * checked against the definition with random slice lists: after the swap every byte reads the same.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CHUNK_SIZE, type SliceRecord, toSliceId } from '../../../src/meta/types.js';
import { planChunkRead, planCompaction, resolveChunk, visiblePieces, type Piece } from '../../../src/vfs/slices.js';

const M = 1024 * 1024;
const rec = (pos: number, id: number, size: number, off = 0, len = size - off): SliceRecord => ({ pos, id: toSliceId(id), size, off, len });
const plain = (ps: Piece[]): [number, number, number, number][] => ps.map((p) => [p.start, p.end, Number(p.id), p.off]);

/** What byte x of a chunk shows: [slice id, offset in slice] or null for zeros, painted oldest first. */
function paint(records: readonly SliceRecord[], x: number): [bigint, number] | null {
  let out: [bigint, number] | null = null;
  for (const r of records) if (x >= r.pos && x < r.pos + r.len) out = r.id === 0n ? null : [r.id, r.off + x - r.pos];
  return out;
}

describe('vfs slices (spec §E.2, §E.3)', () => {
  it('resolves the worked example of spec §E.2 newest-wins', () => {
    const list = [rec(10 * M, 10, 30 * M), rec(20 * M, 11, 16 * M), rec(16 * M, 12, 10 * M)];
    assert.deepEqual(plain(resolveChunk(list)), [
      [0, 10 * M, 0, 0],
      [10 * M, 16 * M, 10, 0],
      [16 * M, 26 * M, 12, 0],
      [26 * M, 36 * M, 11, 6 * M],
      [36 * M, 40 * M, 10, 26 * M],
      [40 * M, CHUNK_SIZE, 0, 0],
    ]);
  });

  it('visible pieces drop holes and merge adjacent pieces of one slice', () => {
    const pieces = resolveChunk([rec(0, 5, 100), rec(40, 0, 0, 0, 10), rec(40, 5, 100, 40, 10)]);
    assert.deepEqual(plain(visiblePieces(pieces, 0, 200)), [[0, 100, 5, 0]]);
    assert.deepEqual(plain(visiblePieces(pieces, 30, 60)), [[30, 60, 5, 30]]);
  });

  it('plans block reads at block boundaries of each slice, holes without reads', () => {
    const B = 64 * 1024;
    // slice 7 at chunk offset 1000 with off 10: chunk byte x reads slice byte 10 + x - 1000
    const pieces = resolveChunk([rec(1000, 7, 3 * B, 10, 2 * B)]);
    const reads = planChunkRead(pieces, 0, 1000 + 2 * B + 500, B);
    assert.deepEqual(reads.map((r) => [r.index, r.offset, r.length, r.dst]), [
      [0, 10, B - 10, 1000],
      [1, 0, B, 1000 + B - 10],
      [2, 0, 10, 1000 + 2 * B - 10],
    ]);
    assert.ok(reads.every((r) => r.id === 7n && r.size === 3 * B));
    assert.deepEqual(planChunkRead(resolveChunk([]), 0, 5000, B), []);
  });

  it('compaction keeps every byte: random lists, the swapped list reads like the old one', () => {
    const record = fc.record({
      pos: fc.integer({ min: 0, max: 40 }),
      len: fc.integer({ min: 1, max: 24 }),
      hole: fc.boolean(),
      extra: fc.integer({ min: 0, max: 3 }),
      big: fc.boolean(),
    });
    fc.assert(fc.property(fc.array(record, { minLength: 0, maxLength: 12 }), fc.integer({ min: 0, max: 3 }), (raw, tail) => {
      // 64 KiB units keep the byte-by-byte check cheap while letting the 1 MiB skip rule fire
      const U = 64 * 1024;
      let id = 100;
      const list = raw.map((r) => {
        const scale = r.big ? 32 * U : U;
        if (r.hole) return rec(r.pos * U, 0, 0, 0, r.len * U);
        return rec(r.pos * U, id++, (r.len + r.extra) * scale, r.extra * scale, r.len * scale);
      }).filter((r) => r.pos + r.len <= CHUNK_SIZE);
      const plan = planCompaction(list, Infinity);
      if (plan === null) return;
      const newId = toSliceId(99);
      const size = plan.end - plan.start;
      const after = [...list.slice(0, plan.skipped), rec(plan.start, 99, size), ...list.slice(plan.old.length)];
      // the new slice's byte k holds what the old list showed at plan.start + k
      const show = (records: readonly SliceRecord[], x: number): [bigint, number] | null => {
        const p = paint(records, x);
        if (p === null || p[0] !== newId) return p;
        return paint(list, plan.start + p[1]);
      };
      const maxEnd = Math.max(0, ...list.map((r) => r.pos + r.len)) + tail * U;
      for (let x = 0; x < maxEnd; x += U / 4) assert.deepEqual(show(after, x), paint(list, x), `byte ${x}`);
      assert.ok(plan.pieces.length > 0 && plan.pieces[0]?.start === plan.start && plan.pieces.at(-1)?.end === plan.end);
    }), { numRuns: 300 });
  });

  it('compaction skips a leading large slice that is still mostly visible, and trims edge holes', () => {
    const big = rec(0, 1, 8 * M);
    const plan = planCompaction([big, rec(M, 2, 1000), rec(2 * M, 3, 1000), rec(6 * M, 0, 0, 0, M)]);
    assert.ok(plan !== null);
    assert.equal(plan.skipped, 1);
    // the hole record hides slice 1 over [6M, 7M): the new slice must store those zeros
    assert.deepEqual([plan.start, plan.end], [M, 7 * M]);
    // with nothing kept below, holes at the edges are left out (a truncate's hole up to the chunk end)
    const trimmed = planCompaction([rec(0, 1, 100), rec(50, 2, 100), rec(150, 0, 0, 0, CHUNK_SIZE - 150)]);
    assert.deepEqual(trimmed && [trimmed.start, trimmed.end, trimmed.skipped], [0, 150, 0]);
  });

  it('does not compact a single record or a chunk that would be mostly stored zeros', () => {
    assert.equal(planCompaction([rec(0, 1, 100)]), null);
    assert.equal(planCompaction([rec(0, 1, 100), rec(60 * M, 2, 100)]), null);
    const p = planCompaction([rec(0, 1, 100), rec(50, 2, 100)]);
    assert.deepEqual(p && [p.start, p.end, p.skipped, p.old.length], [0, 150, 0, 2]);
  });
});
