import assert from 'node:assert/strict';
import { BufferBudget } from '../../src/cache/buffer-budget.js';
import { DEFAULT_READ_AHEAD_BLOCKS, ReadAhead, ReadAheadLimit, type ByteSpan } from '../../src/cache/read-ahead.js';

const B = 1024; // block size of these tests

/** Blocks (indices) named by a list of ranges. */
const blocks = (ranges: ByteSpan[]): number[] => ranges.map((r) => {
  assert.equal(r.offset % B, 0, 'ranges start on a block boundary');
  return r.offset / B;
});

describe('ReadAhead', function () {
  it('grows the window from one block, doubling per new block read up to four blocks, then by one block, up to maxReadAheadBytes', function () {
    const ra = new ReadAhead({ blockSizeBytes: B, maxReadAheadBytes: 7 * B });
    const windows: number[] = [];
    const fetched: number[] = [];
    for (let i = 0; i < 7; i++) {
      fetched.push(...blocks(ra.onRead(i * B, B)));
      windows.push(ra.windowBytes / B);
    }
    assert.deepEqual(windows, [1, 2, 4, 5, 6, 7, 7]);
    // Every prefetched block is asked for once, in order, always ahead of the reader.
    assert.deepEqual(fetched, Array.from({ length: fetched.length }, (_, i) => i + 1));
    assert.equal(fetched.at(-1), 6 + 7, 'the horizon is one full window ahead of the last read');
  });

  it('grows the window only while reads had to wait for their bytes', function () {
    const ra = new ReadAhead({ blockSizeBytes: B, maxReadAheadBytes: 8 * B });
    const windows: number[] = [];
    const fetched: number[] = [];
    for (let i = 0; i < 6; i++) {
      fetched.push(...blocks(ra.onRead(i * B, B, undefined, i === 0)));
      windows.push(ra.windowBytes / B);
    }
    assert.deepEqual(windows, [1, 1, 1, 1, 1, 1], 'a store that keeps up gets one block asked ahead');
    assert.deepEqual(fetched, [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(blocks(ra.onRead(6 * B, B, undefined, true)), [7, 8], 'a stalled read doubles the window');
    assert.equal(ra.windowBytes, 2 * B);
    assert.deepEqual(blocks(ra.onRead(7 * B, B, undefined, false)), [9]);
    assert.equal(ra.windowBytes, 2 * B, 'and it stays there while reads find their bytes');
  });

  it('resets the window on random access and grows again from one block', function () {
    const ra = new ReadAhead({ blockSizeBytes: B, maxReadAheadBytes: 8 * B });
    for (let i = 0; i < 4; i++) ra.onRead(i * B, B);
    assert.equal(ra.windowBytes, 5 * B);
    assert.deepEqual(ra.onRead(100 * B, 10), [], 'a jump far ahead is random');
    assert.equal(ra.windowBytes, 0);
    assert.deepEqual(ra.onRead(3 * B, 10), [], 'a jump backwards is random');
    assert.equal(ra.windowBytes, 0);
    assert.deepEqual(blocks(ra.onRead(3 * B + 10, B - 10)), [4], 'sequential again: one block ahead');
    assert.equal(ra.windowBytes, B);
  });

  it('does not grow the window for small reads inside one block', function () {
    const ra = new ReadAhead({ blockSizeBytes: B });
    assert.deepEqual(blocks(ra.onRead(0, 128)), [1]);
    for (let off = 128; off < B; off += 128) assert.deepEqual(ra.onRead(off, 128), []);
    assert.equal(ra.windowBytes, B);
    assert.deepEqual(blocks(ra.onRead(B, 128)), [2, 3], 'entering block 1 doubles the window');
  });

  it('treats a slightly reordered read as sequential', function () {
    const ra = new ReadAhead({ blockSizeBytes: B });
    ra.onRead(0, B);
    ra.onRead(2 * B, B); // inside what was prefetched: still sequential
    const before = ra.windowBytes;
    ra.onRead(B, B); // arrived late
    assert.ok(ra.windowBytes >= before);
  });

  it('does not prefetch past the end of the file', function () {
    const ra = new ReadAhead({ blockSizeBytes: B });
    const size = 2 * B + 100;
    const got = [...ra.onRead(0, B, size), ...ra.onRead(B, B, size), ...ra.onRead(2 * B, 100, size)];
    assert.deepEqual(got, [{ offset: B, length: B }, { offset: 2 * B, length: 100 }]);
  });

  it('honours a smaller maxReadAheadBytes and is off below one block', function () {
    const small = new ReadAhead({ blockSizeBytes: B, maxReadAheadBytes: 2 * B });
    for (let i = 0; i < 5; i++) small.onRead(i * B, B);
    assert.equal(small.windowBytes, 2 * B);
    const off = new ReadAhead({ blockSizeBytes: B, maxReadAheadBytes: B - 1 });
    assert.deepEqual(off.onRead(0, B), []);
    assert.deepEqual(off.onRead(B, B), []);
  });

  it('caps read-ahead bytes in flight over all readers', function () {
    const limit = new ReadAheadLimit(3 * B);
    const a = new ReadAhead({ blockSizeBytes: B, reserve: limit });
    const b = new ReadAhead({ blockSizeBytes: B, reserve: limit });
    const fromA = [...a.onRead(0, B), ...a.onRead(B, B)];
    assert.deepEqual(blocks(fromA), [1, 2, 3]);
    assert.equal(limit.inFlightBytes, 3 * B);
    assert.deepEqual(b.onRead(0, B), [], 'nothing left for reader b');
    for (const r of fromA) limit.release(r.length);
    assert.deepEqual(blocks(b.onRead(B, B)), [2, 3], 'b resumes once a has released its bytes');
    assert.equal(limit.inFlightBytes, 2 * B);
  });

  it('picks up blocks it had to skip once the cap allows', function () {
    const limit = new ReadAheadLimit(B);
    const ra = new ReadAhead({ blockSizeBytes: B, reserve: limit });
    assert.deepEqual(blocks(ra.onRead(0, B)), [1]);
    assert.deepEqual(ra.onRead(B, B), [], 'window is 2 blocks but the cap is spent');
    limit.release(B);
    assert.deepEqual(blocks(ra.onRead(B + 10, 10)), [2]);
  });

  it('grows to 32 blocks by default', function () {
    const ra = new ReadAhead({ blockSizeBytes: B });
    for (let i = 0; i < 40; i++) ra.onRead(i * B, B);
    assert.equal(DEFAULT_READ_AHEAD_BLOCKS, 32);
    assert.equal(ra.windowBytes, 32 * B);
  });

  it('takes read-ahead bytes from the buffer budget and gives nothing when writers wait on it', async function () {
    const budget = new BufferBudget(4 * B);
    const limit = new ReadAheadLimit(8 * B, budget);
    assert.ok(limit.tryAcquire(3 * B));
    assert.equal(budget.usedBytes, 3 * B);
    assert.equal(limit.tryAcquire(2 * B), false, 'the budget has only one block left');
    const writer = budget.acquire(2 * B);
    assert.equal(limit.tryAcquire(B), false, 'a waiting writer goes first');
    limit.release(3 * B);
    await writer;
    assert.equal(budget.usedBytes, 2 * B);
    assert.equal(limit.inFlightBytes, 0);
  });
});
