import assert from 'node:assert/strict';
import { planClone, resolveChunk, truncateHoles } from '../../../src/meta/slices.js';
import { CHUNK_SIZE, type SliceRecord, toSliceId } from '../../../src/meta/types.js';

const M = 1024 * 1024;
const rec = (pos: number, id: number, size: number, off = 0, len = size): SliceRecord => ({ pos, id: toSliceId(id), size, off, len });
const view = (r: readonly SliceRecord[], from?: number, to?: number) =>
  resolveChunk(r, from, to).map((p) => [p.start / M, p.end / M, Number(p.id), p.off / M]);

describe('slice arithmetic (spec §E.2, §B.9)', () => {
  it('resolves the worked example of spec §E.2 newest-wins', () => {
    const list = [rec(10 * M, 10, 30 * M), rec(20 * M, 11, 16 * M), rec(16 * M, 12, 10 * M)];
    assert.deepEqual(view(list), [[0, 10, 0, 0], [10, 16, 10, 0], [16, 26, 12, 0], [26, 36, 11, 6], [36, 40, 10, 26], [40, 64, 0, 0]]);
  });

  it('resolves a window and honours off/len of clipped records', () => {
    const list = [rec(0, 1, 8 * M, 2 * M, 4 * M)];
    assert.deepEqual(view(list, 1 * M, 6 * M), [[1, 4, 1, 3], [4, 6, 0, 0]]);
  });

  it('a hole record hides older data', () => {
    assert.deepEqual(view([rec(0, 1, 8 * M), rec(3 * M, 0, 0, 0, 2 * M)], 0, 8 * M), [[0, 3, 1, 0], [3, 5, 0, 0], [5, 8, 1, 5]]);
  });

  it('truncate holes: chunk of the smaller offset, existing middle chunks only, partial last chunk', () => {
    const holes = truncateHoles(3 * CHUNK_SIZE + 5, 100);
    assert.deepEqual(holes.map((h) => [h.indx, h.record.pos, h.record.len, h.onlyIfExists]), [
      [0, 100, CHUNK_SIZE - 100, false],
      [1, 0, CHUNK_SIZE, true],
      [2, 0, CHUNK_SIZE, true],
      [3, 0, 5, false],
    ]);
    assert.ok(holes.every((h) => h.record.id === 0n && h.record.size === 0 && h.record.off === 0));
    assert.deepEqual(truncateHoles(10, 10), []);
    assert.deepEqual(truncateHoles(0, CHUNK_SIZE).map((h) => [h.indx, h.record.pos, h.record.len]), [[0, 0, CHUNK_SIZE]]);
  });

  it('clone plans referenced slices and holes, split at both chunk grids', () => {
    const src = new Map([[0, [rec(0, 7, CHUNK_SIZE)]], [1, [rec(0, 8, 10)]]]);
    const plan = planClone((i) => src.get(i) ?? [], CHUNK_SIZE - 10, 5, 30);
    assert.deepEqual(plan.map((p) => [p.indx, p.record.pos, Number(p.record.id), p.record.off, p.record.len]), [
      [0, 5, 7, CHUNK_SIZE - 10, 10],
      [0, 15, 8, 0, 10],
      [0, 25, 0, 0, 10],
    ]);
  });
});
