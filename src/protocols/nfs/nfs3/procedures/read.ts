/**
 * NFSPROC3_READ (RFC 1813 §3.3.6): up to `count` bytes (capped at rtmax) at an offset, with eof.
 * The data is read into the reply buffer (pooled for large READs) and sent as is after the header.
 * Data reads use knfsd's owner override.
 */
import { Errno, FsError } from '../../../../util/errno.js';
import { FileType } from '../../../../vfs/types.js';
import { xdrPad } from '../../xdr/reader.js';
import { POOLED_READ_BYTES, type Nfs3Context } from '../context.js';
import { R_OK } from '../fs.js';
import { defineNfs3Procedure } from '../procedure.js';
import { decodeNfsFh3, encodePostOpAttr, type Fattr3 } from '../types.js';

interface ReadArgs {
  file: Buffer;
  offset: bigint;
  count: number;
}

interface ReadOk {
  attr: Fattr3;
  eof: boolean;
  data: Buffer;
}

export const readProc = (ctx: Nfs3Context) => defineNfs3Procedure<ReadArgs, ReadOk>(ctx, {
  name: 'READ',
  failure: ['attr'],
  decodeArgs: (r) => ({ file: decodeNfsFh3(r), offset: r.u64(), count: r.u32() }),
  async handle(args, call) {
    const file = await call.resolve(args.file, 0);
    if (file.attr.type === FileType.Directory) throw new FsError(Errno.EISDIR, 'read of a directory');
    if (file.attr.type !== FileType.File) throw new FsError(Errno.EINVAL, 'read of a special file');
    await call.checkDataAccess(file, R_OK);
    const attr = call.fattr(file.attr, file.ino);
    const count = Math.min(args.count, ctx.limits.maxReadBytes);
    if (args.offset >= BigInt(file.attr.length) || count === 0) {
      return { attr, eof: args.offset >= BigInt(file.attr.length), data: Buffer.alloc(0) };
    }
    const offset = Number(args.offset);
    // a large reply goes out of a pooled buffer, taken back once the socket has written it
    let dest: Buffer;
    let n: number;
    if (count > POOLED_READ_BYTES && call.rpc.afterSent !== undefined) {
      ({ buffer: dest, count: n } = await call.fs.readPooled(call.cred, file.ino, offset, count, ctx.readBuffers));
      call.rpc.afterSent(() => ctx.readBuffers.give(dest));
    } else {
      dest = Buffer.allocUnsafe(count);
      n = await call.fs.readInto(call.cred, file.ino, offset, dest);
    }
    const data = dest.subarray(0, n);
    return { attr, eof: offset + n >= file.attr.length, data };
  },
  encodeOk(w, res) {
    encodePostOpAttr(w, res.attr);
    w.u32(res.data.length).bool(res.eof).u32(res.data.length);
    const pad = xdrPad(res.data.length);
    return pad === 0 ? [res.data] : [res.data, Buffer.alloc(pad)];
  },
});
