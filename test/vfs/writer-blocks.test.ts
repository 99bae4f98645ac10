/**
 * Sequential writers fill whole blocks in place (writer.ts, MAX_FILLING_BLOCKS): with blocks of
 * several pages, the bytes that reach the store and read back must be exactly those written, for
 * writes that straddle blocks, rewrite the unflushed tail, and for more files at once than blocks
 * may be filled in place (the others go through loose pages).
 */
import assert from 'node:assert/strict';
import { MODE_READ, MODE_WRITE, ROOT_CREDENTIALS, ROOT_INODE } from '../../src/vfs/types.js';
import { bytes, ROWS, type Rig } from './rig.js';

const ROOT = ROOT_CREDENTIALS;
const KiB = 1024;
const BLOCK_KIB = 256;
const row = ROWS[0];

describe(`Vfs writer with multi-page blocks (${row?.name ?? 'no row'})`, function () {
  this.timeout(120_000);
  let rig: Rig | undefined;

  afterEach(async function () {
    await rig?.close();
  });

  it('stores and reads back every byte of 20 files written side by side in uneven sequential pieces, tails rewritten', async function () {
    if (row === undefined) throw new Error('no matrix row');
    rig = await row.make({ setting: { BlockSize: BLOCK_KIB } });
    const vfs = rig.vfs;
    const sizes = [100, 200, 300, 700, 96, 1000].map((k) => k * KiB + 13);
    const files = await Promise.all(Array.from({ length: 20 }, async (_, f) => {
      const e = await vfs.create(ROOT, ROOT_INODE, Buffer.from(`f${f}`), 0o644, 0);
      const { handle } = await vfs.open(ROOT, e.ino, MODE_READ | MODE_WRITE);
      return { ino: e.ino, handle, expect: Buffer.alloc(0) };
    }));
    for (let round = 0; round < 8; round++) {
      await Promise.all(files.map(async (file, f) => {
        const piece = bytes(sizes[(round + f) % sizes.length] ?? KiB, round * 20 + f);
        const at = file.expect.length;
        await vfs.write(ROOT, file.handle, at, piece);
        file.expect = Buffer.concat([file.expect, piece]);
        if (round % 3 === 1) {
          // rewrite the last 5000 bytes (still buffered) with other bytes
          const again = bytes(5000, 999 + f);
          await vfs.write(ROOT, file.handle, file.expect.length - 5000, again);
          again.copy(file.expect, file.expect.length - 5000);
        }
      }));
    }
    for (const file of files) {
      await vfs.fsync(ROOT, file.handle);
      const got = await vfs.read(ROOT, file.handle, 0, file.expect.length + 10);
      assert.ok(got.equals(file.expect), `inode ${file.ino}`);
      await vfs.release(ROOT, file.handle);
    }
    const objects = await rig.objects();
    const total = files.reduce((n, f) => n + f.expect.length, 0);
    assert.ok([...objects.values()].every((len) => len <= BLOCK_KIB * KiB));
    assert.ok([...objects.values()].reduce((a, b) => a + b, 0) >= total, 'every byte is in some block');
  });
});
