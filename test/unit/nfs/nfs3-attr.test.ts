import assert from 'node:assert/strict';
import { fattr3Of, nfstimeOf, rdevOf, setAttrRequestOf, specdataOf, wccAttrOfAttr } from '../../../src/protocols/nfs/nfs3/attr.js';
import { NF3CHR, NF3DIR, NF3LNK, NF3REG } from '../../../src/protocols/nfs/nfs3/types.js';
import { Errno, isFsError } from '../../../src/util/errno.js';
import { FileType, toIno, type Attr } from '../../../src/vfs/types.js';

const attr = (over: Partial<Attr> = {}): Attr => ({
  flags: 0, type: FileType.File, mode: 0o644, uid: 1000, gid: 100, atime: 10, atimeNs: 1, mtime: 20, mtimeNs: 2, ctime: 30, ctimeNs: 3,
  nlink: 1, length: 5000, rdev: 0, parent: toIno(1), accessAclId: 0, defaultAclId: 0, tier: 0, ...over,
});

describe('nfs3 attribute conversion', () => {
  it('maps an Attr to fattr3: ftype3, permission bits, size, 4 KiB-rounded used, fsid and fileid', () => {
    const f = fattr3Of(attr({ mode: 0o4755 }), toIno(77), 0xabcn);
    assert.deepEqual(
      [f.type, f.mode, f.size, f.used, f.fsid, f.fileid, f.atime, f.mtime, f.ctime],
      [NF3REG, 0o4755, 5000n, 8192n, 0xabcn, 77n, { seconds: 10, nseconds: 1 }, { seconds: 20, nseconds: 2 }, { seconds: 30, nseconds: 3 }],
    );
    assert.equal(fattr3Of(attr({ type: FileType.Directory, length: 4096 }), toIno(1), 1n).type, NF3DIR);
    assert.equal(fattr3Of(attr({ type: FileType.Symlink, length: 3 }), toIno(1), 1n).type, NF3LNK);
    assert.equal(fattr3Of(attr({ length: 0 }), toIno(1), 1n).used, 0n);
  });

  it('round-trips device numbers through the Linux dev_t encoding, including minors above 255', () => {
    for (const s of [{ specdata1: 1, specdata2: 3 }, { specdata1: 8, specdata2: 17 }, { specdata1: 259, specdata2: 70000 }, { specdata1: 4095, specdata2: 0xfffff }]) {
      assert.deepEqual(specdataOf(rdevOf(s)), s);
    }
    assert.equal(rdevOf({ specdata1: 1, specdata2: 3 }), 0x103);
    const chr = fattr3Of(attr({ type: FileType.CharDev, rdev: 0x103 }), toIno(5), 1n);
    assert.deepEqual([chr.type, chr.rdev], [NF3CHR, { specdata1: 1, specdata2: 3 }]);
  });

  it('clamps times nfstime3 cannot hold (before 1970, after 2106)', () => {
    assert.deepEqual(nfstimeOf(-5, 7), { seconds: 0, nseconds: 7 });
    assert.deepEqual(nfstimeOf(2 ** 33, 0), { seconds: 0xffffffff, nseconds: 0 });
  });

  it('takes wcc_attr from size, mtime and ctime', () => {
    assert.deepEqual(wccAttrOfAttr(attr()), { size: 5000n, mtime: { seconds: 20, nseconds: 2 }, ctime: { seconds: 30, nseconds: 3 } });
  });

  it('maps sattr3 to a SetAttrRequest: server time is now, client time exact, huge sizes EFBIG, bad nanoseconds EINVAL', () => {
    assert.deepEqual(setAttrRequestOf({ mode: 0o100644, uid: 1, gid: 2, size: 9n, atime: 'server', mtime: { seconds: 5, nseconds: 6 } }),
      { mode: 0o644, uid: 1, gid: 2, size: 9, atime: 'now', mtime: { sec: 5, nsec: 6 } });
    assert.deepEqual(setAttrRequestOf({}), {});
    assert.throws(() => setAttrRequestOf({ size: 1n << 60n }), (e: unknown) => isFsError(e, Errno.EFBIG));
    assert.throws(() => setAttrRequestOf({ mtime: { seconds: 1, nseconds: 1e9 } }), (e: unknown) => isFsError(e, Errno.EINVAL));
  });
});
