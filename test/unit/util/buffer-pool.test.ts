import assert from 'node:assert/strict';
import { BufferPool } from '../../../src/util/buffer-pool.js';

describe('BufferPool', () => {
  it('hands out buffers of its size and reuses the ones given back, newest first', () => {
    const pool = new BufferPool(1024, 2);
    const a = pool.take();
    const b = pool.take();
    assert.equal(a.length, 1024);
    assert.notEqual(a.buffer, b.buffer, 'two buffers taken at once never share memory');
    pool.give(a);
    pool.give(b);
    assert.equal(pool.idle, 2);
    assert.equal(pool.take(), b);
    assert.equal(pool.take(), a);
    assert.equal(pool.idle, 0);
  });

  it('keeps at most `keep` idle buffers, and never the same one twice', () => {
    const pool = new BufferPool(64, 2);
    const bufs = [pool.take(), pool.take(), pool.take()];
    for (const b of bufs) pool.give(b);
    assert.equal(pool.idle, 2);
    const again = new BufferPool(64, 4);
    const x = again.take();
    again.give(x);
    again.give(x);
    assert.equal(again.idle, 1);
  });

  it('refuses views and buffers of another size, so a caller cannot hand back part of a buffer', () => {
    const pool = new BufferPool(64, 4);
    const x = pool.take();
    pool.give(x.subarray(0, 32));
    pool.give(x.subarray(8));
    pool.give(Buffer.alloc(128));
    pool.give(Buffer.allocUnsafe(64)); // from Node's shared slab: a view of a larger ArrayBuffer
    assert.equal(pool.idle, 0);
  });
});
