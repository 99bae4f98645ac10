import assert from 'node:assert/strict';
import { IdPool } from '../../../src/meta/id-pool.js';
import { checkName, trashEntryName, trashHourName } from '../../../src/meta/names.js';
import { checkSticky, grantedMask } from '../../../src/meta/permissions.js';
import { type Attr, FileType, toIno } from '../../../src/meta/types.js';

const attr = (over: Partial<Attr>): Attr => ({
  flags: 0, type: FileType.File, mode: 0o640, uid: 10, gid: 20, atime: 0, atimeNs: 0, mtime: 0, mtimeNs: 0, ctime: 0,
  ctimeNs: 0, nlink: 1, length: 0, rdev: 0, parent: toIno(1), accessAclId: 0, defaultAclId: 0, tier: 0, ...over,
});

describe('meta rules: names, permissions, id batches', () => {
  it('checkName: errno per defect', () => {
    assert.throws(() => checkName(Buffer.alloc(0)), { code: 'ENOENT' });
    assert.throws(() => checkName(Buffer.alloc(256, 0x61)), { code: 'ENAMETOOLONG' });
    assert.throws(() => checkName(Buffer.from('a/b')), { code: 'EINVAL' });
    assert.throws(() => checkName(Buffer.from([0x61, 0])), { code: 'EINVAL' });
    checkName(Buffer.alloc(255, 0xff));
  });

  it('trash names: UTC hour directory and <parent>-<ino>-<name> cut to 255 bytes', () => {
    assert.equal(trashHourName(Date.UTC(2021, 11, 2, 9, 59, 59) / 1000).toString(), '2021-12-02-09');
    assert.equal(trashEntryName(toIno(1), toIno(27), Buffer.from('tf1')).toString(), '1-27-tf1');
    const long = trashEntryName(toIno(123), toIno(456), Buffer.alloc(255, 0x78));
    assert.equal(long.length, 255);
    assert.equal(long.subarray(0, 8).toString(), '123-456-');
  });

  it('grantedMask picks owner, group (supplementary too) or other bits; root gets rw and x if any x', () => {
    const a = attr({ mode: 0o754 });
    assert.equal(grantedMask({ uid: 10, gid: 99, gids: [] }, a), 7);
    assert.equal(grantedMask({ uid: 11, gid: 20, gids: [] }, a), 5);
    assert.equal(grantedMask({ uid: 11, gid: 99, gids: [20] }, a), 5);
    assert.equal(grantedMask({ uid: 11, gid: 99, gids: [] }, a), 4);
    assert.equal(grantedMask({ uid: 0, gid: 0, gids: [] }, attr({ mode: 0o600 })), 6);
    assert.equal(grantedMask({ uid: 0, gid: 0, gids: [] }, attr({ mode: 0o601 })), 7);
    assert.equal(grantedMask({ uid: 0, gid: 0, gids: [] }, attr({ mode: 0, type: FileType.Directory })), 7);
  });

  it('sticky bit: only root, directory owner or entry owner', () => {
    const dir = attr({ type: FileType.Directory, mode: 0o1777, uid: 1 });
    checkSticky({ uid: 1, gid: 1, gids: [] }, dir, attr({ uid: 2 }));
    checkSticky({ uid: 2, gid: 1, gids: [] }, dir, attr({ uid: 2 }));
    checkSticky({ uid: 0, gid: 0, gids: [] }, dir, attr({ uid: 2 }));
    assert.throws(() => checkSticky({ uid: 3, gid: 3, gids: [] }, dir, attr({ uid: 2 })), { code: 'EPERM' });
    checkSticky({ uid: 3, gid: 3, gids: [] }, attr({ type: FileType.Directory, mode: 0o777 }), attr({ uid: 2 }));
  });

  it('IdPool skips ids below the minimum, shares one refill between concurrent callers, never repeats', async () => {
    const reserved: number[] = [];
    let next = 1n;
    const pool = new IdPool(async (count) => {
      reserved.push(count);
      const first = next;
      next += BigInt(count);
      return first;
    }, 4, 2n);
    const ids = await Promise.all(Array.from({ length: 10 }, () => pool.take()));
    assert.deepEqual(ids.sort((a, b) => Number(a - b)), [2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n, 11n]);
    assert.deepEqual(reserved, [4, 4, 4]);
  });
});
