import assert from 'node:assert/strict';
import { exportIdOf, FH_BYTES, FileHandleCodec } from '../../../src/protocols/nfs/nfs3/filehandle.js';
import { Nfs3Error } from '../../../src/protocols/nfs/nfs3/status.js';
import { NFS3ERR_BADHANDLE, NFS3ERR_STALE } from '../../../src/protocols/nfs/nfs3/types.js';
import { toIno } from '../../../src/vfs/types.js';

const UUID = '6f1f4a28-3c51-4b8e-9a57-1c2d3e4f5a6b';

const statusOfDecode = (codec: FileHandleCodec, fh: Buffer): number => {
  try {
    codec.decode(fh);
  } catch (err) {
    if (err instanceof Nfs3Error) return err.status;
    throw err;
  }
  return 0;
};

describe('nfs3 file handles', () => {
  it('round-trips export id and inode, including inodes above 2^53, in 32 bytes', () => {
    const codec = new FileHandleCodec(UUID, 'secret');
    for (const ino of [1n, 2n, 0x7fffffff10000000n, (1n << 64n) - 1n]) {
      const fh = codec.encode(exportIdOf('/'), toIno(ino));
      assert.equal(fh.length, FH_BYTES);
      assert.deepEqual(codec.decode(fh), { exportId: exportIdOf('/'), ino });
    }
  });

  it('is the same handle on another codec with the same volume and secret (restart, other appliance)', () => {
    const a = new FileHandleCodec(UUID, 'secret').encode(7, toIno(42));
    const b = new FileHandleCodec(UUID, 'secret').encode(7, toIno(42));
    assert.deepEqual(a, b);
  });

  it('rejects a handle with a changed byte (forged inode or export) as BADHANDLE', () => {
    const codec = new FileHandleCodec(UUID, 'secret');
    const fh = codec.encode(7, toIno(42));
    for (const at of [1, 13, 23, 31]) {
      const forged = Buffer.from(fh);
      forged[at] = (forged[at] ?? 0) ^ 1;
      assert.equal(statusOfDecode(codec, forged), NFS3ERR_BADHANDLE, `byte ${at}`);
    }
  });

  it('still rejects forged handles after the genuine one was accepted (remembered handles are exact)', () => {
    const codec = new FileHandleCodec(UUID, 'secret');
    const fh = codec.encode(7, toIno(42));
    assert.deepEqual(codec.decode(fh), { exportId: 7, ino: 42n });
    for (const at of [13, 23, 31]) {
      const forged = Buffer.from(fh);
      forged[at] = (forged[at] ?? 0) ^ 1;
      assert.equal(statusOfDecode(codec, forged), NFS3ERR_BADHANDLE, `byte ${at}`);
    }
    fh[23] = (fh[23] ?? 0) ^ 1; // the buffer once accepted, changed in place
    assert.equal(statusOfDecode(codec, fh), NFS3ERR_BADHANDLE);
  });

  it('rejects handles signed with another secret as BADHANDLE', () => {
    const fh = new FileHandleCodec(UUID, 'other').encode(7, toIno(42));
    assert.equal(statusOfDecode(new FileHandleCodec(UUID, 'secret'), fh), NFS3ERR_BADHANDLE);
  });

  it('answers STALE for a handle of another volume', () => {
    const fh = new FileHandleCodec('00000000-0000-0000-0000-000000000000', 'secret').encode(7, toIno(42));
    assert.equal(statusOfDecode(new FileHandleCodec(UUID, 'secret'), fh), NFS3ERR_STALE);
  });

  it('rejects wrong lengths, versions and the all-zero handle as BADHANDLE', () => {
    const codec = new FileHandleCodec(UUID, 'secret');
    const fh = codec.encode(7, toIno(42));
    assert.equal(statusOfDecode(codec, fh.subarray(0, 28)), NFS3ERR_BADHANDLE);
    assert.equal(statusOfDecode(codec, Buffer.concat([fh, Buffer.alloc(4)])), NFS3ERR_BADHANDLE);
    assert.equal(statusOfDecode(codec, Buffer.alloc(0)), NFS3ERR_BADHANDLE);
    assert.equal(statusOfDecode(codec, Buffer.alloc(FH_BYTES)), NFS3ERR_BADHANDLE);
    const v2 = Buffer.from(fh);
    v2[0] = 2;
    assert.equal(statusOfDecode(codec, v2), NFS3ERR_BADHANDLE);
  });
});
