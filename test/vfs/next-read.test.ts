/**
 * Vfs.readPooled (next-read.ts): a handle without block read-ahead, read in order one request at a
 * time, gets the range after each read fetched into a pool buffer while the caller sends the
 * previous one; the bytes are used only while the file is unchanged (writes through any handle,
 * flushes, truncates, another node's change seen by getattr), and every buffer and reserved byte
 * comes back. Observed at the object store (memory meta × file store, a counting wrapper).
 */
import assert from 'node:assert/strict';
import { BaseMeta } from '../../src/meta/base.js';
import { MemoryEngine } from '../../src/meta/memory/engine.js';
import { MemoryObjectStore } from '../../src/storage/memory.js';
import { withPrefix } from '../../src/storage/wrappers/prefix.js';
import { BufferPool } from '../../src/util/buffer-pool.js';
import { openVolume, type Volume } from '../../src/vfs/open.js';
import { MODE_READ, MODE_WRITE, ROOT_CREDENTIALS, ROOT_INODE, type FileHandle, type Ino } from '../../src/vfs/types.js';
import { CountingStore } from '../cache/helpers.js';
import { BLOCK, bytes, ROWS, type Rig } from './rig.js';

const ROOT = ROOT_CREDENTIALS;
const row = ROWS[1];
/** One request: two blocks. */
const L = 2 * BLOCK;

describe(`Vfs.readPooled reads the next range ahead (${row?.name ?? 'no row'})`, function () {
  let rig: Rig;
  let store: CountingStore;
  let pool: BufferPool;

  beforeEach(async function () {
    if (row === undefined) throw new Error('no matrix row');
    let wrapped: CountingStore | undefined;
    rig = await row.make({ wrapStore: (s) => (wrapped = new CountingStore(s)), cache: { memoryCacheBytes: 0 }, maxReadAheadBytes: 0 });
    if (wrapped === undefined) throw new Error('store not wrapped');
    store = wrapped;
    pool = new BufferPool(L, 8);
  });

  afterEach(async function () {
    await rig.close();
  });

  const storeReads = (): number => store.intoCalls.length + store.getCalls.length;

  async function file(name: string, data: Buffer): Promise<Ino> {
    const e = await rig.vfs.create(ROOT, ROOT_INODE, Buffer.from(name), 0o644, 0);
    const { handle } = await rig.vfs.open(ROOT, e.ino, MODE_WRITE);
    await rig.vfs.write(ROOT, handle, 0, data);
    await rig.vfs.release(ROOT, handle);
    return e.ino;
  }

  /** readPooled, checked against `want` at `offset`, its buffer given back. */
  async function readChecked(h: FileHandle, offset: number, want: Buffer, what: string): Promise<number> {
    const r = await rig.vfs.readPooled(ROOT, h, offset, L, pool);
    assert.ok(r.buffer.subarray(0, r.count).equals(want.subarray(offset, offset + L)), what);
    pool.give(r.buffer);
    return r.count;
  }

  it('fetches the range after an in-order read before it is asked for, and serves it without another store read', async function () {
    const data = bytes(5 * L + 1000, 1);
    const ino = await file('seq', data);
    const { handle } = await rig.vfs.open(ROOT, ino, MODE_READ);
    let offset = 0;
    for (;;) {
      const served = storeReads();
      const n = await readChecked(handle, offset, data, `bytes at ${offset}`);
      if (offset > 0) assert.equal(storeReads(), served, `the read at ${offset} was served from the range read ahead`);
      offset += n;
      const before = storeReads();
      await rig.vfs.settle();
      if (offset < data.length) assert.ok(storeReads() > before, `the range at ${offset} is read ahead`);
      else assert.equal(storeReads(), before, 'nothing is read ahead past the end of the file');
      if (n < L) break;
    }
    assert.equal(offset, data.length);
    await rig.vfs.release(ROOT, handle);
    await rig.vfs.settle();
    assert.equal(rig.vfs.bufferBudget.usedBytes, 0, 'reserved bytes are returned');
  });

  it('does not use bytes read ahead once the file was written through another handle, flushed or truncated', async function () {
    const data = bytes(4 * L, 2);
    const ino = await file('changed', data);
    const { handle } = await rig.vfs.open(ROOT, ino, MODE_READ);
    const w = (await rig.vfs.open(ROOT, ino, MODE_WRITE)).handle;
    const want = Buffer.from(data);

    await readChecked(handle, 0, want, 'first range');
    await rig.vfs.settle(); // [L, 2L) is read ahead
    await rig.vfs.write(ROOT, w, L + 10, Buffer.from('pending'));
    want.write('pending', L + 10);
    await readChecked(handle, L, want, 'an unflushed write after the read ahead is seen');

    await rig.vfs.settle(); // [2L, 3L) is read ahead
    await rig.vfs.write(ROOT, w, 2 * L + 5, Buffer.from('flushed'));
    await rig.vfs.fsync(ROOT, w);
    want.write('flushed', 2 * L + 5);
    await readChecked(handle, 2 * L, want, 'a flushed write after the read ahead is seen');

    await rig.vfs.settle(); // [3L, 4L) is read ahead
    await rig.vfs.release(ROOT, w);
    await rig.vfs.setattr(ROOT, ino, { size: 3 * L + 100 });
    const r = await rig.vfs.readPooled(ROOT, handle, 3 * L, L, pool);
    assert.equal(r.count, 100, 'a truncate after the read ahead is seen');
    assert.ok(r.buffer.subarray(0, 100).equals(want.subarray(3 * L, 3 * L + 100)));
    pool.give(r.buffer);
    await rig.vfs.release(ROOT, handle);
    await rig.vfs.settle();
    assert.equal(rig.vfs.bufferBudget.usedBytes, 0);
  });

  it('reads nothing ahead for a read that does not continue the previous one, and drops a range read ahead that is skipped', async function () {
    const data = bytes(6 * L, 3);
    const ino = await file('random', data);
    const { handle } = await rig.vfs.open(ROOT, ino, MODE_READ);
    await readChecked(handle, 3 * L, data, 'a read not at the start');
    let before = storeReads();
    await rig.vfs.settle();
    assert.equal(storeReads(), before, 'nothing is read ahead of a first read elsewhere than the start');

    await readChecked(handle, 4 * L, data, 'the range after it');
    await rig.vfs.settle();
    assert.ok(rig.vfs.bufferBudget.usedBytes > 0, 'the range after that is held');
    before = storeReads();
    await readChecked(handle, L, data, 'a jump back');
    assert.ok(storeReads() > before, 'the jump is read from the store');
    await rig.vfs.settle();
    assert.equal(rig.vfs.bufferBudget.usedBytes, 0, 'the skipped range is dropped, the jump reads nothing ahead');
    await rig.vfs.release(ROOT, handle);
  });

  it('reads nothing ahead for a handle with block read-ahead (the store does not read in place)', async function () {
    await rig.close();
    rig = await (row as NonNullable<typeof row>).make({ cache: { memoryCacheBytes: 0 }, maxReadAheadBytes: 4 * BLOCK });
    const data = bytes(3 * L, 4);
    const ino = await file('blocks', data);
    const { handle } = await rig.vfs.open(ROOT, ino, MODE_READ);
    for (let off = 0; off < data.length; off += L) await readChecked(handle, off, data, `bytes at ${off}`);
    await rig.vfs.release(ROOT, handle);
    await rig.vfs.settle();
    assert.equal(rig.vfs.bufferBudget.usedBytes, 0);
  });
});

describe('Vfs.readPooled between two nodes (memory meta × mem store)', function () {
  const volumes: Volume[] = [];

  afterEach(async function () {
    for (const v of volumes.splice(0)) await v.close();
  });

  it('a range read ahead is not used once getattr shows another node changed the file', async function () {
    const engine = new MemoryEngine();
    const bucket = new MemoryObjectStore('shared');
    const setup = new BaseMeta(engine);
    await setup.format({ Name: 'nextread', UUID: '', Storage: 'mem', Bucket: 'shared', BlockSize: BLOCK / 1024, Compression: 'none', TrashDays: 0, EnableACL: false });
    const node = async (): Promise<Volume> => {
      const meta = new BaseMeta(engine);
      await meta.load();
      const v = await openVolume({ meta }, { store: withPrefix(bucket, 'nextread/'), releaseIntervalMs: 0, maxReadAheadBytes: 0 });
      volumes.push(v);
      return v;
    };
    const [a, b] = [await node(), await node()];
    const pool = new BufferPool(L, 4);

    const { ino } = await a.vfs.create(ROOT, ROOT_INODE, Buffer.from('f'), 0o644, 0);
    let h = (await a.vfs.open(ROOT, ino, MODE_WRITE)).handle;
    await a.vfs.write(ROOT, h, 0, bytes(3 * L, 1));
    await a.vfs.release(ROOT, h);

    const hb = (await b.vfs.open(ROOT, ino, MODE_READ)).handle;
    const first = await b.vfs.readPooled(ROOT, hb, 0, L, pool);
    assert.ok(first.buffer.subarray(0, first.count).equals(bytes(3 * L, 1).subarray(0, L)));
    pool.give(first.buffer);
    await b.vfs.settle(); // [L, 2L) read ahead with the old bytes

    h = (await a.vfs.open(ROOT, ino, MODE_WRITE)).handle;
    await a.vfs.write(ROOT, h, L, bytes(L, 9));
    await a.vfs.release(ROOT, h);

    await b.vfs.getattr(ROOT, ino); // what an NFS READ does first
    const next = await b.vfs.readPooled(ROOT, hb, L, L, pool);
    assert.ok(next.buffer.subarray(0, next.count).equals(bytes(L, 9)), 'the other node\'s bytes, not the ones read ahead');
    pool.give(next.buffer);
    await b.vfs.release(ROOT, hb);
  });
});
