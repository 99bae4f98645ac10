/**
 * A file of several chunks (spec §D.1: 64 MiB chunks, slices never cross them) written
 * sequentially and read back, on the first matrix row only: ~130 MiB is the one expensive test.
 */
import assert from 'node:assert/strict';
import { CHUNK_SIZE, toChunkIndex } from '../../src/meta/types.js';
import { MODE_READ, MODE_WRITE, ROOT_CREDENTIALS, ROOT_INODE } from '../../src/vfs/types.js';
import { BLOCK, bytes, ROWS, type Rig } from './rig.js';

const ROOT = ROOT_CREDENTIALS;
const MiB = 1024 * 1024;
const row = ROWS[0];

describe(`Vfs large files (${row?.name ?? 'no row'})`, function () {
  this.timeout(300_000);
  let rig: Rig | undefined;

  afterEach(async function () {
    await rig?.close();
  });

  it('writes 130 MiB over three chunks and reads every byte back; slices stay inside their chunk', async function () {
    if (row === undefined) throw new Error('no matrix row');
    rig = await row.make({ bufferBytes: 32 * MiB });
    const size = 2 * CHUNK_SIZE + 2 * MiB + 12345;
    const piece = (i: number): Buffer => bytes(Math.min(MiB, size - i * MiB), i);
    const e = await rig.vfs.create(ROOT, ROOT_INODE, Buffer.from('big'), 0o644, 0);
    const { handle } = await rig.vfs.open(ROOT, e.ino, MODE_READ | MODE_WRITE);
    for (let i = 0; i * MiB < size; i++) await rig.vfs.write(ROOT, handle, i * MiB, piece(i));
    await rig.vfs.fsync(ROOT, handle);
    assert.equal((await rig.vfs.getattr(ROOT, e.ino)).length, size);
    assert.deepEqual((await rig.meta.listChunks(e.ino)).map(Number), [0, 1, 2]);
    for (let c = 0; c < 3; c++) {
      const slices = await rig.meta.readSlices(e.ino, toChunkIndex(c));
      const covered = slices.reduce((n, s) => n + s.len, 0);
      assert.equal(covered, c < 2 ? CHUNK_SIZE : size - 2 * CHUNK_SIZE, `chunk ${c} is covered once`);
      assert.ok(slices.every((s) => s.pos + s.len <= CHUNK_SIZE && s.off === 0 && s.size === s.len));
    }
    for (let i = 0; i * MiB < size; i++) {
      const got = await rig.vfs.read(ROOT, handle, i * MiB, MiB);
      assert.ok(got.equals(piece(i)), `MiB ${i}`);
    }
    // a read across the chunk boundary
    const across = await rig.vfs.read(ROOT, handle, CHUNK_SIZE - 100, 200);
    assert.ok(across.equals(Buffer.concat([piece(63).subarray(MiB - 100), piece(64).subarray(0, 100)])));
    await rig.vfs.release(ROOT, handle);
    const objects = await rig.objects();
    assert.equal([...objects.values()].reduce((a, b) => a + b, 0), size, 'objects hold each byte once');
    assert.ok([...objects.values()].every((len) => len <= BLOCK));
  });
});
