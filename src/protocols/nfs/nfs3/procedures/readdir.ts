/**
 * NFSPROC3_READDIR (RFC 1813 §3.3.16): names, fileids and cookies from a cookie on, filling the
 * reply up to `count` bytes of READDIR3resok (dirlist.ts does the paging and size accounting).
 */
import type { DirEntry } from '../../../../vfs/types.js';
import type { Nfs3Context } from '../context.js';
import { COOKIE_VERIFIER, listDirectory, nameBytes } from '../dirlist.js';
import { defineNfs3Procedure } from '../procedure.js';
import { NFS3_COOKIEVERFSIZE, NFS3_MAXPATHLEN, decodeNfsFh3, encodePostOpAttr, type Fattr3 } from '../types.js';

interface ReaddirArgs {
  dir: Buffer;
  cookie: bigint;
  cookieverf: Buffer;
  count: number;
}

interface ReaddirOk {
  dirAttr: Fattr3;
  entries: DirEntry[];
  eof: boolean;
}

/** entry3: value-follows bool, fileid, name, cookie. */
const entryBytes = (e: DirEntry): number => 4 + 8 + nameBytes(e.name) + 8;

export const readdirProc = (ctx: Nfs3Context) => defineNfs3Procedure<ReaddirArgs, ReaddirOk>(ctx, {
  name: 'READDIR',
  failure: ['attr'],
  decodeArgs: (r) => ({ dir: decodeNfsFh3(r), cookie: r.u64(), cookieverf: r.opaqueFixed(NFS3_COOKIEVERFSIZE), count: r.u32() }),
  async handle(args, call) {
    const dir = await call.resolve(args.dir, 0);
    const list = await listDirectory(call, dir, { cookie: args.cookie, maxBytes: args.count, plus: false, entryBytes });
    return { dirAttr: call.fattr(dir.attr, dir.ino), entries: list.entries, eof: list.eof };
  },
  encodeOk(w, res) {
    encodePostOpAttr(w, res.dirAttr);
    w.opaqueFixed(COOKIE_VERIFIER, NFS3_COOKIEVERFSIZE);
    w.list(res.entries, (x, e) => {
      x.u64(e.ino);
      x.string(e.name, NFS3_MAXPATHLEN);
      x.u64(e.cookie);
    });
    w.bool(res.eof);
  },
});
