import assert from 'node:assert/strict';
import { decodeAttr, decodeEntry, decodeSlice, decodeSlices, encodeAttr, encodeEntry, encodeSlice, encodeSlices } from '../../../src/meta/encoding.js';
import { type Attr, FileType, toIno, toSliceId } from '../../../src/meta/types.js';

const base: Attr = {
  flags: 0x80, type: FileType.File, mode: 0o644, uid: 501, gid: 20,
  atime: 1623746695, atimeNs: 1, mtime: 1623746696, mtimeNs: 2, ctime: 1623746697, ctimeNs: 3,
  nlink: 1, length: 24, rdev: 0, parent: toIno(1), accessAclId: 0, defaultAclId: 0, tier: 0,
};

describe('meta encodings (spec §B.5)', () => {
  it('attr is 72 bytes with a trailing zero byte and big-endian fields', () => {
    const b = encodeAttr(base);
    assert.equal(b.length, 72);
    assert.equal(b[0], 0x80);
    assert.equal(b.readUInt16BE(1), (1 << 12) | 0o644);
    assert.equal(b.readUInt32BE(3), 501);
    assert.equal(b.readBigInt64BE(23), 1623746696n);
    assert.equal(b.readBigUInt64BE(51), 24n);
    assert.equal(b.readBigUInt64BE(63), 1n);
    assert.equal(b[71], 0);
    assert.deepEqual(decodeAttr(b), base);
  });

  it('attr with a tier is 73 bytes, with ACL ids 80, with both 81', () => {
    assert.equal(encodeAttr({ ...base, tier: 1 }).length, 73);
    assert.equal(encodeAttr({ ...base, accessAclId: 2 }).length, 80);
    const both = { ...base, accessAclId: 2, defaultAclId: 3, tier: 1 };
    const b = encodeAttr(both);
    assert.equal(b.length, 81);
    assert.equal(b.readUInt32BE(71), 2);
    assert.equal(b.readUInt32BE(75), 3);
    assert.equal(b[79], 1);
    assert.equal(b[80], 0);
    assert.deepEqual(decodeAttr(b), both);
  });

  it('attr times before 1970, above 2^32 and lengths beyond 2^53 decode as Number(bigint) of the stored field', () => {
    const wide = { ...base, atime: -1, atimeNs: 5, mtime: -(2 ** 40) - 7, ctime: 2 ** 33 + 9, length: 2 ** 48 + 3 };
    assert.deepEqual(decodeAttr(encodeAttr(wide)), wide);
    const b = encodeAttr(base);
    for (const v of [2n ** 63n - 1n, 2n ** 53n + 1n, 2n ** 53n + 3n, 2n ** 60n + 2n ** 7n + 1n]) {
      b.writeBigUInt64BE(v, 51);
      b.writeBigInt64BE(-v, 23);
      const a = decodeAttr(b);
      assert.equal(a.length, Number(v), `length ${v}`);
      assert.equal(a.mtime, Number(-v), `mtime -${v}`);
    }
  });

  it('a 71-byte attr from an old client decodes with tier 0', () => {
    const b = encodeAttr(base).subarray(0, 71);
    assert.deepEqual(decodeAttr(b), base);
  });

  it('dir entry is 9 bytes: type then u64 inode', () => {
    const b = encodeEntry(FileType.Directory, toIno(0x0102030405060708n));
    assert.deepEqual([...b], [2, 1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(decodeEntry(b), { type: FileType.Directory, ino: 0x0102030405060708n });
    assert.throws(() => decodeEntry(Buffer.alloc(8)));
  });

  it('slice record is 24 bytes pos,id,size,off,len', () => {
    const s = { pos: 1, id: toSliceId(2), size: 3, off: 4, len: 5 };
    const b = encodeSlice(s);
    assert.equal(b.toString('hex'), '00000001' + '0000000000000002' + '00000003' + '00000004' + '00000005');
    assert.deepEqual(decodeSlice(b), s);
    assert.deepEqual(decodeSlices(encodeSlices([s, s])), [s, s]);
    assert.throws(() => decodeSlices(Buffer.alloc(25)));
  });
});
