/**
 * The write path's upload window (DESIGN.md "Write path and durability"): one file keeps at most
 * maxFileUploadBytes of full blocks uploading; its next write waits for them instead of taking
 * the rest of the buffer budget, and a sequential stream stays one slice per chunk.
 */
import assert from 'node:assert/strict';
import { toChunkIndex } from '../../src/meta/types.js';
import { MODE_WRITE, ROOT_CREDENTIALS, ROOT_INODE } from '../../src/vfs/types.js';
import { CountingStore } from '../cache/helpers.js';
import { BLOCK, bytes, ROWS, type Rig } from './rig.js';

const ROOT = ROOT_CREDENTIALS;
const row = ROWS[0];

describe(`Vfs write upload window (${row?.name ?? 'no row'})`, function () {
  let rig: Rig;
  let store: CountingStore;

  beforeEach(async function () {
    if (row === undefined) throw new Error('no matrix row');
    let wrapped: CountingStore | undefined;
    rig = await row.make({ wrapStore: (s) => (wrapped = new CountingStore(s)), maxFileUploadBytes: 4 * BLOCK, compaction: false });
    if (wrapped === undefined) throw new Error('store not wrapped');
    store = wrapped;
  });

  afterEach(async function () {
    store.putGate.open();
    await rig.close();
  });

  it('a write waits while its file has the window full of uploads, then goes on; the slice is not cut', async function () {
    const e = await rig.vfs.create(ROOT, ROOT_INODE, Buffer.from('stream'), 0o644, 0);
    const { handle } = await rig.vfs.open(ROOT, e.ino, MODE_WRITE);
    store.putGate.close();
    for (let i = 0; i < 4; i++) await rig.vfs.write(ROOT, handle, i * BLOCK, bytes(BLOCK, i));
    await store.until(() => store.putCalls.length === 4);
    let fifthDone = false;
    const fifth = rig.vfs.write(ROOT, handle, 4 * BLOCK, bytes(BLOCK, 4)).then(() => { fifthDone = true; });
    // a write of another file is not held by this file's window
    const other = await rig.vfs.create(ROOT, ROOT_INODE, Buffer.from('other'), 0o644, 0);
    const o = await rig.vfs.open(ROOT, other.ino, MODE_WRITE);
    await rig.vfs.write(ROOT, o.handle, 0, bytes(100, 9));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(fifthDone, false, 'the fifth block waits for the four uploads in flight');
    assert.equal(store.putCalls.length, 4);
    store.putGate.open();
    await fifth;
    await rig.vfs.fsync(ROOT, handle);
    await rig.vfs.release(ROOT, handle);
    await rig.vfs.release(ROOT, o.handle);
    const slices = await rig.meta.readSlices(e.ino, toChunkIndex(0));
    assert.deepEqual(slices.map((s) => [s.pos, s.len]), [[0, 5 * BLOCK]], 'one slice for the whole stream');
    const back = await rig.vfs.read(ROOT, e.ino, 0, 5 * BLOCK);
    assert.ok(back.equals(Buffer.concat([0, 1, 2, 3, 4].map((i) => bytes(BLOCK, i)))));
  });
});
