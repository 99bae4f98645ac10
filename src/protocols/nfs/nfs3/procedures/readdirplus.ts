/**
 * NFSPROC3_READDIRPLUS (RFC 1813 §3.3.17): READDIR plus each entry's attributes and handle,
 * filled up to `maxcount` bytes of READDIRPLUS3resok. `dircount` is only a hint (Linux sends
 * maxcount/8 on older kernels and maxcount on newer ones) and is not enforced; maxcount always is.
 * Cookies are READDIR's: the Linux client mixes the two procedures in one listing.
 */
import type { DirEntry } from '../../../../vfs/types.js';
import type { Nfs3Context } from '../context.js';
import { COOKIE_VERIFIER, POST_OP_ATTR_BYTES, listDirectory, nameBytes } from '../dirlist.js';
import { FH_BYTES } from '../filehandle.js';
import { defineNfs3Procedure } from '../procedure.js';
import {
  NFS3_COOKIEVERFSIZE, NFS3_MAXPATHLEN, decodeNfsFh3, encodePostOpAttr, encodePostOpFh3, type Fattr3,
} from '../types.js';

interface ReaddirplusArgs {
  dir: Buffer;
  cookie: bigint;
  cookieverf: Buffer;
  dircount: number;
  maxcount: number;
}

interface PlusEntry {
  fileid: bigint;
  name: Buffer;
  cookie: bigint;
  attr: Fattr3 | null;
  fh: Buffer;
}

interface ReaddirplusOk {
  dirAttr: Fattr3;
  entries: PlusEntry[];
  eof: boolean;
}

/** entryplus3: value-follows, fileid, name, cookie, post_op_attr, post_op_fh3 (bool, length, handle). */
const entryBytes = (e: DirEntry): number =>
  4 + 8 + nameBytes(e.name) + 8 + (e.attr === undefined ? 4 : POST_OP_ATTR_BYTES) + 4 + 4 + FH_BYTES;

export const readdirplusProc = (ctx: Nfs3Context) => defineNfs3Procedure<ReaddirplusArgs, ReaddirplusOk>(ctx, {
  name: 'READDIRPLUS',
  failure: ['attr'],
  decodeArgs: (r) => ({
    dir: decodeNfsFh3(r), cookie: r.u64(), cookieverf: r.opaqueFixed(NFS3_COOKIEVERFSIZE), dircount: r.u32(), maxcount: r.u32(),
  }),
  async handle(args, call) {
    const dir = await call.resolve(args.dir, 0);
    const list = await listDirectory(call, dir, { cookie: args.cookie, maxBytes: args.maxcount, plus: true, entryBytes });
    const entries = list.entries.map((e): PlusEntry => ({
      fileid: e.ino, name: e.name, cookie: e.cookie, attr: e.attr === undefined ? null : call.fattr(e.attr, e.ino), fh: call.handleOf(e.ino),
    }));
    return { dirAttr: call.fattr(dir.attr, dir.ino), entries, eof: list.eof };
  },
  encodeOk(w, res) {
    encodePostOpAttr(w, res.dirAttr);
    w.opaqueFixed(COOKIE_VERIFIER, NFS3_COOKIEVERFSIZE);
    w.list(res.entries, (x, e) => {
      x.u64(e.fileid);
      x.string(e.name, NFS3_MAXPATHLEN);
      x.u64(e.cookie);
      encodePostOpAttr(x, e.attr);
      encodePostOpFh3(x, e.fh);
    });
    w.bool(res.eof);
  },
});
