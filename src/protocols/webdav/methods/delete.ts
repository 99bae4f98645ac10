/**
 * DELETE (RFC 4918 §9.6): a file, or a collection with everything below (Depth must be infinity
 * or absent). Lock tokens of the resource, its members and the parent collection are required.
 * Members that cannot be removed are reported in a 207 Multi-Status; success is 204.
 */
import { checkIfHeader, checkLocks, type DavMethod, header, isDir, resolvePath } from '../context.js';
import { parseDepth } from '../headers.js';
import { httpError } from '../status.js';
import { removeTree, sendTreeFailures } from './tree.js';

export const del: DavMethod = {
  name: 'DELETE',
  body: 'none',
  modifies: true,
  async handle(r) {
    const { vfs } = r.server;
    const name = r.fsPath[r.fsPath.length - 1];
    if (name === undefined) throw httpError('FORBIDDEN', 'the root collection cannot be deleted');
    parseDepth(header(r, 'depth'), 'infinity', ['infinity']);
    const submitted = await checkIfHeader(r);
    const parent = await resolvePath(vfs, r.cred, r.fsPath.slice(0, -1));
    const e = await vfs.lookup(r.cred, parent.ino, name);
    const coll = isDir(e.attr);
    await checkLocks(r, submitted, { path: r.fsPath, subtree: coll, parentMembership: true });
    const failures = coll ? await removeTree(vfs, r.cred, parent.ino, name, e.ino, r.fsPath) : (await vfs.unlink(r.cred, parent.ino, name), []);
    if (failures.length === 0) {
      await r.server.locks.dropTree(r.fsPath);
      r.res.writeHead(204);
      r.res.end();
      return;
    }
    await sendTreeFailures(r, failures);
  },
};
