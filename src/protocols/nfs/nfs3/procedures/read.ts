/**
 * NFSPROC3_READ (RFC 1813 §3.3.6): up to `count` bytes (capped at rtmax) at an offset, with eof.
 * The data is read into the reply buffer (pooled for large READs) and sent as is after the header.
 * The attributes and the data come as Nfs3Call.resolveForData gets them (for a file in use, those
 * the server knew within the last moment); the type and permission checks (knfsd's owner override
 * for data reads) decide afterwards whether the data is sent.
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
    const count = Math.min(args.count, ctx.limits.maxReadBytes);
    const afterSent = call.rpc.afterSent;
    // The data is read as resolveForData orders it: with attributes known recently, alongside the
    // attribute read for a file not in use here, or after it once the known ones are too old.
    // Nothing read is sent before the checks below pass; a large reply goes out of a pooled
    // buffer, given back once the reply (whatever it is) has been written.
    const [file, got] = await call.resolveForData(args.file, 0, async (ino): Promise<Buffer> => {
      // (an offset past any file length reads nothing: no file is that long)
      if (count === 0 || args.offset > BigInt(Number.MAX_SAFE_INTEGER)) return Buffer.alloc(0);
      if (count > POOLED_READ_BYTES && afterSent !== undefined) {
        const { buffer, count: n } = await call.fs.readPooled(call.cred, ino, Number(args.offset), count, ctx.readBuffers);
        afterSent(() => ctx.readBuffers.give(buffer));
        return buffer.subarray(0, n);
      }
      const dest = Buffer.allocUnsafe(count);
      return dest.subarray(0, await call.fs.readInto(call.cred, ino, Number(args.offset), dest));
    });
    if (file.attr.type === FileType.Directory) throw new FsError(Errno.EISDIR, 'read of a directory');
    if (file.attr.type !== FileType.File) throw new FsError(Errno.EINVAL, 'read of a special file');
    await call.checkDataAccess(file, R_OK);
    const attr = call.fattr(file.attr, file.ino);
    return { attr, eof: args.offset + BigInt(got.length) >= BigInt(file.attr.length), data: got };
  },
  encodeOk(w, res) {
    encodePostOpAttr(w, res.attr);
    w.u32(res.data.length).bool(res.eof).u32(res.data.length);
    const pad = xdrPad(res.data.length);
    return pad === 0 ? [res.data] : [res.data, Buffer.alloc(pad)];
  },
});
