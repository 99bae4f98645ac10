// Slice resolution and clone planning (spec §E.2, §B.9): pure functions shared by engines.
import assert from 'node:assert/strict';
import { planClone, resolveChunk } from '../../../src/meta/clone-plan.js';
import { CHUNK_SIZE, type SliceRecord, toSliceId } from '../../../src/meta/types.js';

const M = 1 << 20;
const rec = (pos: number, id: number, size: number, off = 0, len = size): SliceRecord => ({ pos, id: toSliceId(id), size, off, len });
const hole = (pos: number, len: number): SliceRecord => rec(pos, 0, 0, 0, len);

describe('clone planning', () => {
  it('resolves the spec example newest-wins into holes and slice pieces', () => {
    const pieces = resolveChunk([rec(10 * M, 10, 30 * M), rec(20 * M, 11, 16 * M), rec(16 * M, 12, 10 * M)]);
    assert.deepEqual(pieces, [
      hole(0, 10 * M),
      rec(10 * M, 10, 30 * M, 0, 6 * M),
      rec(16 * M, 12, 10 * M, 0, 10 * M),
      rec(26 * M, 11, 16 * M, 6 * M, 10 * M),
      rec(36 * M, 10, 30 * M, 26 * M, 4 * M),
      hole(40 * M, CHUNK_SIZE - 40 * M),
    ]);
  });

  it('a hole record hides older data and stays a hole with size 0 and off 0', () => {
    assert.deepEqual(resolveChunk([rec(0, 5, 100), hole(40, 20)]), [rec(0, 5, 100, 0, 40), hole(40, 20), rec(60, 5, 100, 60, 40), hole(100, CHUNK_SIZE - 100)]);
  });

  it('cloning across a destination chunk boundary splits the piece and keeps slice offsets', () => {
    const src = new Map([[0, [rec(0, 7, 1000)]]]);
    const plan = planClone((i) => src.get(i) ?? [], 100, CHUNK_SIZE - 50, 900);
    assert.deepEqual(plan, [
      { indx: 0, record: rec(CHUNK_SIZE - 50, 7, 1000, 100, 50) },
      { indx: 1, record: rec(0, 7, 1000, 150, 850) },
    ]);
  });

  it('holes in the copied range are copied as hole records', () => {
    const src = new Map([[1, [rec(10, 3, 10)]]]);
    const plan = planClone((i) => src.get(i) ?? [], CHUNK_SIZE, 0, 30);
    assert.deepEqual(plan.map((p) => p.record), [hole(0, 10), rec(10, 3, 10), hole(20, 10)]);
  });
});
