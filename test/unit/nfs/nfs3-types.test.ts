import assert from 'node:assert/strict';
import {
  decodeDiropargs3, decodeFattr3, decodeNfsFh3, decodePostOpAttr, decodePostOpFh3, decodeSattr3, decodeSattrguard3, decodeWccData,
  encodeDiropargs3, encodeFattr3, encodeNfsFh3, encodePostOpAttr, encodePostOpFh3, encodeSattr3, encodeSattrguard3, encodeWccData,
  NF3DIR, NFS3ERR_JUKEBOX, NFSPROC3_COMMIT, NFSPROC3_READDIRPLUS, NFSSTAT3_NAMES, wccAttrOf, type Fattr3, type Sattr3,
} from '../../../src/protocols/nfs/nfs3/types.js';
import { XdrDecodeError, XdrReader } from '../../../src/protocols/nfs/xdr/reader.js';
import { XdrWriter } from '../../../src/protocols/nfs/xdr/writer.js';

const attr: Fattr3 = {
  type: NF3DIR, mode: 0o755, nlink: 3, uid: 1000, gid: 100, size: 4096n, used: 4096n,
  rdev: { specdata1: 0, specdata2: 0 }, fsid: 0x1122334455667788n, fileid: 0x7fffffff10000001n,
  atime: { seconds: 1, nseconds: 2 }, mtime: { seconds: 3, nseconds: 4 }, ctime: { seconds: 5, nseconds: 999_999_999 },
};

const roundTrip = <T>(enc: (w: XdrWriter, v: T) => void, dec: (r: XdrReader) => T, v: T): { value: T; bytes: number } => {
  const w = new XdrWriter();
  enc(w, v);
  const r = new XdrReader(w.view());
  const value = dec(r);
  assert.equal(r.remaining, 0);
  return { value, bytes: w.length };
};

describe('NFSv3 XDR types (RFC 1813 §2-3)', () => {
  it('fattr3 is 84 bytes and round-trips 64-bit fileids and fsids exactly', () => {
    const { value, bytes } = roundTrip(encodeFattr3, decodeFattr3, attr);
    assert.equal(bytes, 84);
    assert.deepEqual(value, attr);
    const w = new XdrWriter();
    encodeFattr3(w, attr);
    assert.equal(w.view().subarray(0, 8).toString('hex'), '00000002000001ed');
  });

  it('post_op_attr and wcc_data encode absence as a false flag', () => {
    assert.deepEqual(roundTrip(encodePostOpAttr, decodePostOpAttr, null), { value: null, bytes: 4 });
    assert.deepEqual(roundTrip(encodePostOpAttr, decodePostOpAttr, attr), { value: attr, bytes: 88 });
    const wcc = { before: wccAttrOf(attr), after: attr };
    assert.deepEqual(roundTrip(encodeWccData, decodeWccData, wcc), { value: wcc, bytes: 4 + 24 + 4 + 84 });
    assert.deepEqual(roundTrip(encodeWccData, decodeWccData, { before: null, after: null }), { value: { before: null, after: null }, bytes: 8 });
  });

  it('sattr3 keeps unset fields absent and distinguishes server time from client time', () => {
    const none: Sattr3 = {};
    assert.deepEqual(roundTrip(encodeSattr3, decodeSattr3, none), { value: {}, bytes: 24 });
    const all: Sattr3 = { mode: 0o600, uid: 1, gid: 2, size: 1n << 40n, atime: 'server', mtime: { seconds: 10, nseconds: 20 } };
    assert.deepEqual(roundTrip(encodeSattr3, decodeSattr3, all).value, all);
    const bad = new XdrWriter().u32(0).u32(0).u32(0).u32(0).u32(3).u32(0).view();
    assert.throws(() => decodeSattr3(new XdrReader(bad)), XdrDecodeError);
  });

  it('sattrguard3 round-trips both arms', () => {
    assert.equal(roundTrip(encodeSattrguard3, decodeSattrguard3, null).value, null);
    assert.deepEqual(roundTrip(encodeSattrguard3, decodeSattrguard3, { seconds: 7, nseconds: 8 }).value, { seconds: 7, nseconds: 8 });
  });

  it('nfs_fh3 accepts 64 bytes and rejects 65 as malformed', () => {
    const fh = Buffer.alloc(64, 7);
    assert.deepEqual(roundTrip(encodeNfsFh3, decodeNfsFh3, fh).value, fh);
    const long = new XdrWriter().opaque(Buffer.alloc(65)).view();
    assert.throws(() => decodeNfsFh3(new XdrReader(long)), XdrDecodeError);
    assert.throws(() => encodeNfsFh3(new XdrWriter(), Buffer.alloc(65)), RangeError);
    assert.equal(roundTrip(encodePostOpFh3, decodePostOpFh3, null).value, null);
  });

  it('diropargs3 carries the directory handle and raw name bytes, even names over 255 bytes', () => {
    const args = { dir: Buffer.alloc(32, 1), name: Buffer.alloc(300, 0xe9) };
    assert.deepEqual(roundTrip(encodeDiropargs3, decodeDiropargs3, args).value, args);
  });

  it('keeps the RFC numbers for procedures and statuses', () => {
    assert.equal(NFSPROC3_READDIRPLUS, 17);
    assert.equal(NFSPROC3_COMMIT, 21);
    assert.equal(NFSSTAT3_NAMES[NFS3ERR_JUKEBOX], 'NFS3ERR_JUKEBOX');
    assert.equal(NFS3ERR_JUKEBOX, 10008);
  });
});
