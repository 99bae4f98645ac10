/**
 * NFSPROC3_LOOKUP (RFC 1813 §3.3.3): a name in a directory -> handle and attributes. `..` of an
 * export's root is the root itself (as knfsd does), so a client cannot walk out of its export.
 */
import type { Ino } from '../../../../vfs/types.js';
import type { Nfs3Context, Resolved } from '../context.js';
import { defineNfs3Procedure } from '../procedure.js';
import { decodeDiropargs3, encodeNfsFh3, encodePostOpAttr, type Diropargs3, type Fattr3 } from '../types.js';

interface LookupOk {
  object: Buffer;
  objAttr: Fattr3;
  dirAttr: Fattr3;
}

const DOTDOT = Buffer.from('..');

export const lookupProc = (ctx: Nfs3Context) => defineNfs3Procedure<Diropargs3, LookupOk>(ctx, {
  name: 'LOOKUP',
  failure: ['attr'],
  decodeArgs: decodeDiropargs3,
  async handle(args, call) {
    if (!args.name.equals(DOTDOT)) {
      // the directory's attributes and the entry in one round trip
      const [dir, found] = await call.resolveAlong(args.dir, 0, (ino) => call.fs.lookup(call.cred, ino, args.name));
      return { object: call.handleOf(found.ino), objAttr: call.fattr(found.attr, found.ino), dirAttr: call.fattr(dir.attr, dir.ino) };
    }
    const dir = await call.resolve(args.dir, 0);
    let found: Resolved | undefined;
    const root = await call.exportRoot().catch((): Ino | null => null);
    if (root === dir.ino) found = dir;
    found ??= await call.fs.lookup(call.cred, dir.ino, args.name);
    return { object: call.handleOf(found.ino), objAttr: call.fattr(found.attr, found.ino), dirAttr: call.fattr(dir.attr, dir.ino) };
  },
  encodeOk(w, res) {
    encodeNfsFh3(w, res.object);
    encodePostOpAttr(w, res.objAttr);
    encodePostOpAttr(w, res.dirAttr);
  },
});
