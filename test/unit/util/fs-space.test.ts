import assert from 'node:assert/strict';
import { Errno, isFsError } from '../../../src/util/errno.js';
import { FreeSpaceFloor, type FsSpace } from '../../../src/util/fs-space.js';

describe('FreeSpaceFloor', () => {
  const MiB = 1024 * 1024;
  const counted = (space: FsSpace): { statfs: () => Promise<FsSpace>; reads: () => number } => {
    let n = 0;
    return { statfs: async () => { n++; return { ...space }; }, reads: () => n };
  };

  it('far from the floor, admits writes on one statfs reading, counting them off', async () => {
    const { statfs, reads } = counted({ totalBytes: 1000 * MiB, freeBytes: 500 * MiB });
    const floor = new FreeSpaceFloor('/x', () => 10 * MiB, statfs);
    for (let i = 0; i < 100; i++) await floor.check(MiB);
    assert.equal(reads(), 1);
  });

  it('near the floor, reads free space again before each write and refuses one that would go below it', async () => {
    const space = { totalBytes: 1000 * MiB, freeBytes: 14 * MiB };
    const { statfs, reads } = counted(space);
    const floor = new FreeSpaceFloor('/x', () => 10 * MiB, statfs);
    await floor.check(3 * MiB);
    await floor.check(MiB);
    assert.equal(reads(), 2);
    await assert.rejects(floor.check(5 * MiB), (err: unknown) => isFsError(err, Errno.ENOSPC));
    space.freeBytes = 100 * MiB;
    await floor.check(5 * MiB);
  });

  it('a path it cannot read admits the write (the write then fails with its own error)', async () => {
    const floor = new FreeSpaceFloor('/x', () => 10 * MiB, async () => { throw new Error('ENOENT'); });
    await floor.check(MiB);
  });
});
