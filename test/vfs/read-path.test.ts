/**
 * The read path's I/O (spec §E.2, DESIGN.md "Read path"), observed at the object store on the first
 * matrix row: holes and reads past the end cost no GET, adjacent pieces of one block are one ranged
 * GET, sequential reads prefetch the blocks ahead, and a small random read fetches its whole block
 * in the background.
 */
import assert from 'node:assert/strict';
import { toChunkIndex } from '../../src/meta/types.js';
import { MODE_READ, MODE_WRITE, ROOT_CREDENTIALS, ROOT_INODE, type Ino } from '../../src/vfs/types.js';
import { CountingStore } from '../cache/helpers.js';
import { BLOCK, bytes, ROWS, type Rig } from './rig.js';
import { specKey } from './simple-reader.js';

const ROOT = ROOT_CREDENTIALS;
const row = ROWS[0];

describe(`Vfs read path I/O (${row?.name ?? 'no row'})`, function () {
  let rig: Rig;
  let store: CountingStore;

  beforeEach(async function () {
    if (row === undefined) throw new Error('no matrix row');
    let wrapped: CountingStore | undefined;
    rig = await row.make({ wrapStore: (s) => (wrapped = new CountingStore(s)), cache: { memoryCacheBytes: 0 } });
    if (wrapped === undefined) throw new Error('store not wrapped');
    store = wrapped;
  });

  afterEach(async function () {
    await rig.close();
  });

  async function file(name: string, parts: [number, Buffer][]): Promise<Ino> {
    const e = await rig.vfs.create(ROOT, ROOT_INODE, Buffer.from(name), 0o644, 0);
    const { handle } = await rig.vfs.open(ROOT, e.ino, MODE_WRITE);
    for (const [off, d] of parts) await rig.vfs.write(ROOT, handle, off, d);
    await rig.vfs.release(ROOT, handle);
    return e.ino;
  }

  it('serves holes and reads past the end without touching the store', async function () {
    const ino = await file('holes', [[10 * BLOCK, bytes(100, 1)]]);
    store.getCalls.length = 0;
    assert.ok((await rig.vfs.read(ROOT, ino, 0, 10 * BLOCK)).equals(Buffer.alloc(10 * BLOCK)));
    assert.equal((await rig.vfs.read(ROOT, ino, 10 * BLOCK + 100, 5000)).length, 0);
    await rig.settle();
    assert.deepEqual(store.getCalls, []);
  });

  it('readInto fills a dirty caller buffer: zeros for holes, unflushed writes laid over, the count short at the end', async function () {
    const ino = await file('into', [[BLOCK, bytes(1000, 5)]]);
    const { handle } = await rig.vfs.open(ROOT, ino, MODE_READ | MODE_WRITE);
    await rig.vfs.write(ROOT, handle, BLOCK + 500, Buffer.from('pending')); // not flushed
    const dest = Buffer.alloc(2 * BLOCK, 0xee);
    const n = await rig.vfs.readInto(ROOT, handle, BLOCK - 100, dest);
    assert.equal(n, 1100, 'the file ends at BLOCK + 1000');
    const want = Buffer.concat([Buffer.alloc(100), bytes(1000, 5)]);
    want.write('pending', 600);
    assert.ok(dest.subarray(0, n).equals(want));
    assert.ok(dest.subarray(n).every((b) => b === 0xee), 'bytes past the count are untouched');
    assert.equal(await rig.vfs.readInto(ROOT, handle, BLOCK + 1000, dest), 0, 'nothing at the end of the file');
    await rig.vfs.release(ROOT, handle);
  });

  it('a small read is one ranged GET, then the block cache loads the whole block in the background when a tier keeps it', async function () {
    const smallRead = async (): Promise<string> => {
      const ino = await file('pieces', [[0, bytes(BLOCK, 2)]]);
      store.getCalls.length = 0;
      const got = await rig.vfs.read(ROOT, ino, 100, 1000);
      assert.ok(got.equals(bytes(BLOCK, 2).subarray(100, 1100)));
      const slice = (await rig.meta.readSlices(ino, toChunkIndex(0)))[0];
      const key = specKey(slice?.id ?? 0n, BLOCK, 0, BLOCK);
      assert.deepEqual(store.getCalls[0], { key, range: { offset: 100, length: 1000 } });
      await rig.settle();
      return key;
    };
    // no memory tier, no cache dirs: a whole block fetched in the background would be thrown away
    await smallRead();
    assert.equal(store.getCalls.length, 1, 'nothing is prefetched without a tier to keep it');
    await rig.close();
    let wrapped: CountingStore | undefined;
    rig = await (row as NonNullable<typeof row>).make({ wrapStore: (s) => (wrapped = new CountingStore(s)), cache: { memoryCacheBytes: 4 * BLOCK } });
    if (wrapped === undefined) throw new Error('store not wrapped');
    store = wrapped;
    const key = await smallRead();
    await store.until(() => store.getCalls.some((c) => c.key === key && c.range === undefined));
  });

  it('prefetches the blocks ahead of a sequential reader', async function () {
    const data = bytes(8 * BLOCK, 3);
    const ino = await file('seq', [[0, data]]);
    const slice = (await rig.meta.readSlices(ino, toChunkIndex(0)))[0];
    const keyOf = (i: number): string => specKey(slice?.id ?? 0n, data.length, i, BLOCK);
    const { handle } = await rig.vfs.open(ROOT, ino, MODE_READ);
    store.getCalls.length = 0;
    assert.ok((await rig.vfs.read(ROOT, handle, 0, BLOCK)).equals(data.subarray(0, BLOCK)));
    assert.ok((await rig.vfs.read(ROOT, handle, BLOCK, BLOCK)).equals(data.subarray(BLOCK, 2 * BLOCK)));
    await rig.settle();
    const wholeGets = store.getCalls.filter((c) => c.range === undefined).map((c) => c.key);
    assert.ok(wholeGets.includes(keyOf(2)), `block 2 is fetched ahead: ${wholeGets.join(' ')}`);
    await rig.vfs.release(ROOT, handle);
  });

  it('a sequential reader holds the blocks fetched ahead: each block comes from the store once, without a memory tier', async function () {
    const data = bytes(24 * BLOCK, 4);
    const ino = await file('deep', [[0, data]]);
    const { handle } = await rig.vfs.open(ROOT, ino, MODE_READ);
    store.getCalls.length = 0;
    const fetched = new Set<string>();
    for (let off = 0; off < data.length; off += BLOCK / 2) {
      assert.ok((await rig.vfs.read(ROOT, handle, off, BLOCK / 2)).equals(data.subarray(off, off + BLOCK / 2)), `bytes at ${off}`);
    }
    await rig.settle();
    // block 0 is read before the reader looks sequential (ranged GETs, the cache's whole-block prefetch)
    const slice = (await rig.meta.readSlices(ino, toChunkIndex(0)))[0];
    const block0 = specKey(slice?.id ?? 0n, data.length, 0, BLOCK);
    const whole = store.getCalls.filter((c) => c.range === undefined && c.key !== block0);
    for (const c of whole) fetched.add(c.key);
    assert.equal(whole.length, fetched.size, 'no block is fetched twice although the memory tier holds nothing');
    assert.equal(fetched.size, 23, 'every later block once');
    await rig.vfs.release(ROOT, handle);
  });

  it('read-ahead bytes come out of the buffer budget and go back when the handle is released', async function () {
    const data = bytes(16 * BLOCK, 5);
    const ino = await file('budget', [[0, data]]);
    const { handle } = await rig.vfs.open(ROOT, ino, MODE_READ);
    for (let off = 0; off < 4 * BLOCK; off += BLOCK) await rig.vfs.read(ROOT, handle, off, BLOCK);
    assert.ok(rig.vfs.bufferBudget.usedBytes > 0, 'blocks ahead of the reader are held');
    await rig.vfs.release(ROOT, handle);
    await rig.settle();
    assert.equal(rig.vfs.bufferBudget.usedBytes, 0);
  });

  it('read-ahead fetches whole slice blocks when the slice blocks do not line up with the file blocks', async function () {
    const head = bytes(BLOCK / 2, 6);
    const body = bytes(8 * BLOCK, 7);
    const ino = await file('shifted', [[0, head]]);
    const { handle: w } = await rig.vfs.open(ROOT, ino, MODE_WRITE);
    await rig.vfs.write(ROOT, w, head.length, body); // a second slice starting half a block into the file
    await rig.vfs.release(ROOT, w);
    const slices = await rig.meta.readSlices(ino, toChunkIndex(0));
    const second = slices[1];
    if (second === undefined) throw new Error('expected two slices');
    const keyOf = (i: number): string => specKey(second.id, body.length, i, BLOCK);
    const { handle } = await rig.vfs.open(ROOT, ino, MODE_READ);
    store.getCalls.length = 0;
    const all = Buffer.concat([head, body]);
    for (let off = 0; off < all.length; off += BLOCK / 2) {
      assert.ok((await rig.vfs.read(ROOT, handle, off, BLOCK / 2)).equals(all.subarray(off, off + BLOCK / 2)), `bytes at ${off}`);
    }
    await rig.settle();
    const ranged = store.getCalls.filter((c) => c.range !== undefined).map((c) => c.key);
    assert.ok(ranged.every((k) => k === keyOf(0)), `only the block read before the reader looked sequential is read by range: ${ranged.join(' ')}`);
    const whole = new Set(store.getCalls.filter((c) => c.range === undefined).map((c) => c.key));
    for (let i = 1; i < 8; i++) assert.ok(whole.has(keyOf(i)), `block ${i} of the second slice is fetched whole`);
    await rig.vfs.release(ROOT, handle);
  });
});
