/**
 * NfsFileSystem over the vfs: stateless NFS calls onto the vfs API. The one piece of state is a
 * small cache of write handles: vfs writes need an open handle and NFS WRITEs carry none, so the
 * first WRITE to an inode opens one and later WRITEs reuse it until it has been idle for
 * `idleMs`; its release flushes the file. A release that fails means acknowledged UNSTABLE data
 * is gone, reported through `onDataLost` (the server changes its write verifier).
 * Data access here runs with root credentials: NFS checked the caller already (owner override).
 */
import type { Logger } from '../../../observability/logger.js';
import {
  MODE_WRITE, ROOT_CREDENTIALS, type Attr, type Credentials, type DirEntry, type FileType, type Ino, type ReaddirOptions,
  type SetAttrRequest, type StatFs,
} from '../../../vfs/types.js';
import type { FileHandle, OpenedFile } from '../../../vfs/types.js';
import type { NfsFileSystem, ReaddirRequest } from './fs.js';

/** The vfs calls this adapter makes (the Vfs class provides them). */
export interface VfsApi {
  lookup(ctx: Credentials, parent: Ino, name: Buffer): Promise<{ ino: Ino; attr: Attr }>;
  getattr(ctx: Credentials, ino: Ino): Promise<Attr>;
  setattr(ctx: Credentials, ino: Ino, req: SetAttrRequest): Promise<Attr>;
  access(ctx: Credentials, ino: Ino, mask: number): Promise<void>;
  create(ctx: Credentials, parent: Ino, name: Buffer, mode: number, umask: number, exclusive?: boolean): Promise<{ ino: Ino; attr: Attr; created: boolean }>;
  mknod(ctx: Credentials, parent: Ino, name: Buffer, type: FileType, mode: number, umask: number, rdev?: number): Promise<{ ino: Ino; attr: Attr }>;
  mkdir(ctx: Credentials, parent: Ino, name: Buffer, mode: number, umask: number): Promise<{ ino: Ino; attr: Attr }>;
  symlink(ctx: Credentials, parent: Ino, name: Buffer, target: Buffer): Promise<{ ino: Ino; attr: Attr }>;
  readlink(ctx: Credentials, ino: Ino): Promise<Buffer>;
  link(ctx: Credentials, ino: Ino, parent: Ino, name: Buffer): Promise<Attr>;
  unlink(ctx: Credentials, parent: Ino, name: Buffer): Promise<void>;
  rmdir(ctx: Credentials, parent: Ino, name: Buffer): Promise<void>;
  rename(ctx: Credentials, srcParent: Ino, srcName: Buffer, dstParent: Ino, dstName: Buffer, flags?: number): Promise<unknown>;
  readdir(ctx: Credentials, ino: Ino, opts?: ReaddirOptions): AsyncIterable<DirEntry>;
  statfs(ctx: Credentials, ino: Ino): Promise<StatFs>;
  open(ctx: Credentials, ino: Ino, mask: number): Promise<OpenedFile>;
  release(ctx: Credentials, handle: FileHandle): Promise<void>;
  read(ctx: Credentials, target: FileHandle | Ino, offset: number, length: number): Promise<Buffer>;
  write(ctx: Credentials, handle: FileHandle, offset: number, data: Buffer): Promise<void>;
  fsync(ctx: Credentials, target: FileHandle | Ino): Promise<void>;
}

export interface VfsAdapterOptions {
  /** Release a write handle idle this long (default 5000 ms). */
  idleMs?: number;
  /** Called when a write handle's final flush failed: acknowledged writes were lost. */
  onDataLost?: (ino: Ino, err: unknown) => void;
  log: Logger;
}

interface WriteHandle {
  handle: Promise<FileHandle>;
  /** Calls using the handle right now; it is released only at 0. */
  users: number;
  timer: NodeJS.Timeout | undefined;
}

const NO_UMASK = 0;

export class VfsNfsFileSystem implements NfsFileSystem {
  readonly #vfs: VfsApi;
  readonly #idleMs: number;
  readonly #onDataLost: (ino: Ino, err: unknown) => void;
  readonly #log: Logger;
  readonly #writeHandles = new Map<Ino, WriteHandle>();
  readonly #releasing = new Set<Promise<void>>();

  constructor(vfs: VfsApi, o: VfsAdapterOptions) {
    this.#vfs = vfs;
    this.#idleMs = o.idleMs ?? 5000;
    this.#onDataLost = o.onDataLost ?? (() => undefined);
    this.#log = o.log;
  }

  /** Write handles currently open (tests, metrics). */
  get openWriteHandles(): number {
    return this.#writeHandles.size;
  }

  getattr(ino: Ino): Promise<Attr> {
    return this.#vfs.getattr(ROOT_CREDENTIALS, ino);
  }

  setattr(cred: Credentials, ino: Ino, req: SetAttrRequest): Promise<Attr> {
    return this.#vfs.setattr(cred, ino, req);
  }

  lookup(cred: Credentials, parent: Ino, name: Buffer): Promise<{ ino: Ino; attr: Attr }> {
    return this.#vfs.lookup(cred, parent, name);
  }

  access(cred: Credentials, ino: Ino, mask: number): Promise<void> {
    return this.#vfs.access(cred, ino, mask);
  }

  readlink(cred: Credentials, ino: Ino): Promise<Buffer> {
    return this.#vfs.readlink(cred, ino);
  }

  read(_cred: Credentials, ino: Ino, offset: number, length: number): Promise<Buffer> {
    return this.#vfs.read(ROOT_CREDENTIALS, ino, offset, length);
  }

  async write(_cred: Credentials, ino: Ino, offset: number, data: Buffer): Promise<void> {
    let wh = this.#writeHandles.get(ino);
    if (wh === undefined) {
      const opening = this.#vfs.open(ROOT_CREDENTIALS, ino, MODE_WRITE).then((o) => o.handle);
      wh = { handle: opening, users: 0, timer: undefined };
      this.#writeHandles.set(ino, wh);
      const entry = wh;
      opening.catch(() => {
        if (this.#writeHandles.get(ino) === entry) this.#writeHandles.delete(ino);
      });
    }
    wh.users++;
    if (wh.timer !== undefined) clearTimeout(wh.timer);
    wh.timer = undefined;
    try {
      await this.#vfs.write(ROOT_CREDENTIALS, await wh.handle, offset, data);
    } finally {
      wh.users--;
      if (wh.users === 0 && this.#writeHandles.get(ino) === wh) {
        const entry = wh;
        wh.timer = setTimeout(() => this.#release(ino, entry), this.#idleMs);
        wh.timer.unref();
      }
    }
  }

  #release(ino: Ino, wh: WriteHandle): void {
    if (wh.users > 0 || this.#writeHandles.get(ino) !== wh) return;
    this.#writeHandles.delete(ino);
    const done = wh.handle
      .then((h) => this.#vfs.release(ROOT_CREDENTIALS, h))
      .catch((err: unknown) => {
        this.#log.error({ err, ino: String(ino) }, 'release of an NFS write handle failed: unstable writes lost');
        this.#onDataLost(ino, err);
      })
      .finally(() => this.#releasing.delete(done));
    this.#releasing.add(done);
  }

  fsync(ino: Ino): Promise<void> {
    return this.#vfs.fsync(ROOT_CREDENTIALS, ino);
  }

  create(cred: Credentials, parent: Ino, name: Buffer, mode: number, exclusive: boolean): Promise<{ ino: Ino; attr: Attr; created: boolean }> {
    return this.#vfs.create(cred, parent, name, mode, NO_UMASK, exclusive);
  }

  mkdir(cred: Credentials, parent: Ino, name: Buffer, mode: number): Promise<{ ino: Ino; attr: Attr }> {
    return this.#vfs.mkdir(cred, parent, name, mode, NO_UMASK);
  }

  symlink(cred: Credentials, parent: Ino, name: Buffer, target: Buffer): Promise<{ ino: Ino; attr: Attr }> {
    return this.#vfs.symlink(cred, parent, name, target);
  }

  mknod(cred: Credentials, parent: Ino, name: Buffer, type: FileType, mode: number, rdev: number): Promise<{ ino: Ino; attr: Attr }> {
    return this.#vfs.mknod(cred, parent, name, type, mode, NO_UMASK, rdev);
  }

  unlink(cred: Credentials, parent: Ino, name: Buffer): Promise<void> {
    return this.#vfs.unlink(cred, parent, name);
  }

  rmdir(cred: Credentials, parent: Ino, name: Buffer): Promise<void> {
    return this.#vfs.rmdir(cred, parent, name);
  }

  async rename(cred: Credentials, srcParent: Ino, srcName: Buffer, dstParent: Ino, dstName: Buffer): Promise<void> {
    await this.#vfs.rename(cred, srcParent, srcName, dstParent, dstName);
  }

  link(cred: Credentials, ino: Ino, parent: Ino, name: Buffer): Promise<Attr> {
    return this.#vfs.link(cred, ino, parent, name);
  }

  readdir(cred: Credentials, ino: Ino, req: ReaddirRequest): AsyncIterable<DirEntry> {
    return this.#vfs.readdir(cred, ino, { after: req.after, plus: req.plus, batchSize: req.batchSize });
  }

  statfs(cred: Credentials, ino: Ino): Promise<StatFs> {
    return this.#vfs.statfs(cred, ino);
  }

  /** Releases every write handle (flushing the files) and waits for releases under way. */
  async close(): Promise<void> {
    for (const [ino, wh] of [...this.#writeHandles]) {
      if (wh.timer !== undefined) clearTimeout(wh.timer);
      wh.users = 0;
      this.#release(ino, wh);
    }
    await Promise.all([...this.#releasing]);
  }
}
