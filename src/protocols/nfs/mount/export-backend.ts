/**
 * The MountBackend over the configured exports and the volume (RFC 1813 §5.2 semantics): MNT of
 * an export name, or of a directory below one, gives the stateless handle of that directory after
 * the allow-list and secure-port checks (MNT3ERR_ACCES); MNT3ERR_NOENT for unknown exports or
 * missing directories, MNT3ERR_NOTDIR when the path ends at a non-directory.
 * The mount list is advisory, in memory, per appliance and bounded; nothing depends on it (NFS
 * calls check the client again on every handle).
 */
import { Errno, isFsError } from '../../../util/errno.js';
import { FileType, ROOT_CREDENTIALS, type Ino } from '../../../vfs/types.js';
import type { Nfs3Context } from '../nfs3/context.js';
import { AUTH_NONE, AUTH_SYS } from '../rpc/message.js';
import type { MntResult, MountBackend, MountClient } from './backend.js';
import { MountTable } from './mount-table.js';
import { MNT3_OK, MNT3ERR_ACCES, MNT3ERR_NOENT, MNT3ERR_NOTDIR, MNT3ERR_SERVERFAULT, type ExportEntry, type MountEntry } from './types.js';

export class ExportMountBackend implements MountBackend {
  readonly #ctx: Nfs3Context;
  /** "address\0path" -> entry, oldest first. */
  readonly #mounts = new MountTable();

  constructor(ctx: Nfs3Context) {
    this.#ctx = ctx;
  }

  async mnt(path: Buffer, client: MountClient): Promise<MntResult> {
    const found = this.#ctx.exports.forMountPath(path.toString('utf8'));
    if (found === undefined) return { status: MNT3ERR_NOENT };
    const exp = found.export;
    if (!exp.allows(client)) return { status: MNT3ERR_ACCES };
    let root: Ino;
    try {
      root = await this.#ctx.exportRoot(exp);
      for (const part of found.rest) root = (await this.#ctx.fs.lookup(ROOT_CREDENTIALS, root, Buffer.from(part))).ino;
      if (found.rest.length > 0 && (await this.#ctx.fs.getattr(root)).type !== FileType.Directory) return { status: MNT3ERR_NOTDIR };
    } catch (err) {
      if (isFsError(err, Errno.ENOENT)) return { status: MNT3ERR_NOENT };
      if (isFsError(err, Errno.ENOTDIR)) return { status: MNT3ERR_NOTDIR };
      this.#ctx.log.error({ err, export: exp.name }, 'export root not resolvable');
      return { status: MNT3ERR_SERVERFAULT };
    }
    this.#mounts.add(client.address, path);
    return { status: MNT3_OK, fh: this.#ctx.handles.encode(exp.id, root), authFlavors: [AUTH_SYS, AUTH_NONE] };
  }

  async umnt(path: Buffer, client: MountClient): Promise<void> {
    this.#mounts.remove(client.address, path);
  }

  async umntAll(client: MountClient): Promise<void> {
    this.#mounts.removeAll(client.address);
  }

  async mounts(): Promise<MountEntry[]> {
    return this.#mounts.list();
  }

  async exports(): Promise<ExportEntry[]> {
    return this.#ctx.exports.list().map((e) => ({ dir: Buffer.from(e.name), groups: [...e.clients] }));
  }
}
