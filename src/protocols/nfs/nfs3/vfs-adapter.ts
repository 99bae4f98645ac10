/**
 * NfsFileSystem over the vfs: stateless NFS calls onto the vfs API. The one piece of state is a
 * cache of open handles: vfs writes need an open handle and NFS WRITEs carry none, and reads
 * through a handle get vfs read-ahead. The first READ/WRITE of an inode opens one (per mode) and
 * later calls reuse it until it has been idle for `idleMs`. Releasing a write handle flushes the
 * file; a release that fails means acknowledged UNSTABLE data is gone, reported through
 * `onDataLost` (the server changes its write verifier). Data access here runs with root
 * credentials: NFS checked the caller already (owner override).
 */
import type { Logger } from '../../../observability/logger.js';
import {
  FileType, MODE_READ, MODE_WRITE, ROOT_CREDENTIALS, type Attr, type Credentials, type DirEntry, type Ino, type NewEntry, type ReaddirOptions,
  type Removed, type SetAttrRequest, type StatFs,
} from '../../../vfs/types.js';
import type { FileHandle, OpenedFile } from '../../../vfs/types.js';
import type { PooledRead } from '../../../vfs/vfs.js';
import type { BufferPool } from '../../../util/buffer-pool.js';
import { W_OK, type NfsFileSystem, type ReaddirRequest } from './fs.js';

/**
 * The vfs calls this adapter makes; the Vfs class provides them, with the contracts documented
 * on Vfs (errnos, permission checks through meta, durability of fsync).
 */
export interface VfsApi {
  lookup(ctx: Credentials, parent: Ino, name: Buffer): Promise<{ ino: Ino; attr: Attr }>;
  getattr(ctx: Credentials, ino: Ino): Promise<Attr>;
  recentAttr(ino: Ino, maxAgeMs: number): Attr | undefined;
  isOpen(ino: Ino): boolean;
  setattr(ctx: Credentials, ino: Ino, req: SetAttrRequest): Promise<Attr>;
  access(ctx: Credentials, ino: Ino, mask: number, attr?: Attr): Promise<void>;
  create(ctx: Credentials, parent: Ino, name: Buffer, mode: number, umask: number, exclusive?: boolean): Promise<NewEntry & { created: boolean }>;
  mknod(ctx: Credentials, parent: Ino, name: Buffer, type: FileType, mode: number, umask: number, rdev?: number): Promise<NewEntry>;
  mkdir(ctx: Credentials, parent: Ino, name: Buffer, mode: number, umask: number): Promise<NewEntry>;
  symlink(ctx: Credentials, parent: Ino, name: Buffer, target: Buffer): Promise<NewEntry>;
  readlink(ctx: Credentials, ino: Ino): Promise<Buffer>;
  link(ctx: Credentials, ino: Ino, parent: Ino, name: Buffer): Promise<Attr>;
  unlink(ctx: Credentials, parent: Ino, name: Buffer): Promise<Removed>;
  rmdir(ctx: Credentials, parent: Ino, name: Buffer): Promise<Removed>;
  rename(ctx: Credentials, srcParent: Ino, srcName: Buffer, dstParent: Ino, dstName: Buffer, flags?: number): Promise<unknown>;
  readdir(ctx: Credentials, ino: Ino, opts?: ReaddirOptions): AsyncIterable<DirEntry>;
  statfs(ctx: Credentials, ino: Ino): Promise<StatFs>;
  open(ctx: Credentials, ino: Ino, mask: number, opts?: { known?: Attr }): Promise<OpenedFile>;
  release(ctx: Credentials, handle: FileHandle): Promise<void>;
  readInto(ctx: Credentials, target: FileHandle | Ino, offset: number, dest: Buffer): Promise<number>;
  readPooled(ctx: Credentials, handle: FileHandle, offset: number, length: number, pool: BufferPool): Promise<PooledRead>;
  write(ctx: Credentials, handle: FileHandle, offset: number, data: Buffer): Promise<void>;
  fsync(ctx: Credentials, target: FileHandle | Ino): Promise<Attr>;
}

export interface VfsAdapterOptions {
  /** Release an open handle idle this long (default 5000 ms). */
  idleMs?: number;
  /** How old the attributes READ and WRITE answer may be (Vfs.recentAttr; default DATA_ATTR_MS, 0: always fresh). */
  dataAttrMs?: number;
  /** Called when a write handle's final flush failed: acknowledged writes were lost. */
  onDataLost?: (ino: Ino, err: unknown) => void;
  /** Where failed releases are logged. */
  log: Logger;
}

interface CachedHandle {
  ino: Ino;
  mask: number;
  handle: Promise<FileHandle>;
  /** Calls using the handle right now; it is released only at 0. */
  users: number;
  timer: NodeJS.Timeout | undefined;
}

const NO_UMASK = 0;

/**
 * READ and WRITE attributes up to this old (ms) for a file in use: a sequential reader or writer
 * then costs one metadata round trip per second instead of one per request, and the Linux client,
 * whose own attribute cache lasts at least acregmin (3 s), learns of another appliance's change to
 * the file from the next GETATTR (always fresh) or within this time.
 */
export const DATA_ATTR_MS = 1000;

/** The cache key of the handle of `ino` opened for `mask`. */
const handleKey = (ino: Ino, mask: number): string => `${mask}/${ino}`;

export class VfsNfsFileSystem implements NfsFileSystem {
  readonly #vfs: VfsApi;
  readonly #idleMs: number;
  readonly #dataAttrMs: number;
  readonly #onDataLost: (ino: Ino, err: unknown) => void;
  readonly #log: Logger;
  /** By handleKey. */
  readonly #handles = new Map<string, CachedHandle>();
  readonly #releasing = new Set<Promise<void>>();

  constructor(vfs: VfsApi, o: VfsAdapterOptions) {
    this.#vfs = vfs;
    this.#idleMs = o.idleMs ?? 5000;
    this.#dataAttrMs = o.dataAttrMs ?? DATA_ATTR_MS;
    this.#onDataLost = o.onDataLost ?? (() => undefined);
    this.#log = o.log;
  }

  /** Handles currently open (tests, metrics). */
  get openHandles(): number {
    return this.#handles.size;
  }

  getattr(ino: Ino): Promise<Attr> {
    return this.#vfs.getattr(ROOT_CREDENTIALS, ino);
  }

  recentAttr(ino: Ino): Attr | undefined {
    return this.#dataAttrMs > 0 ? this.#vfs.recentAttr(ino, this.#dataAttrMs) : undefined;
  }

  inUse(ino: Ino): boolean {
    return this.#vfs.isOpen(ino);
  }

  setattr(cred: Credentials, ino: Ino, req: SetAttrRequest): Promise<Attr> {
    return this.#vfs.setattr(cred, ino, req);
  }

  lookup(cred: Credentials, parent: Ino, name: Buffer): Promise<{ ino: Ino; attr: Attr }> {
    return this.#vfs.lookup(cred, parent, name);
  }

  access(cred: Credentials, ino: Ino, mask: number, attr?: Attr): Promise<void> {
    return this.#vfs.access(cred, ino, mask, attr);
  }

  readlink(cred: Credentials, ino: Ino): Promise<Buffer> {
    return this.#vfs.readlink(cred, ino);
  }

  readInto(_cred: Credentials, ino: Ino, offset: number, dest: Buffer): Promise<number> {
    return this.#withHandle(ino, MODE_READ, (h) => this.#vfs.readInto(ROOT_CREDENTIALS, h, offset, dest));
  }

  readPooled(_cred: Credentials, ino: Ino, offset: number, length: number, pool: BufferPool): Promise<PooledRead> {
    return this.#withHandle(ino, MODE_READ, (h) => this.#vfs.readPooled(ROOT_CREDENTIALS, h, offset, length, pool));
  }

  write(_cred: Credentials, ino: Ino, offset: number, data: Buffer): Promise<void> {
    return this.#withHandle(ino, MODE_WRITE, (h) => this.#vfs.write(ROOT_CREDENTIALS, h, offset, data));
  }

  /** Runs `fn` with the cached handle of (ino, mask), opening one if needed. */
  async #withHandle<T>(ino: Ino, mask: number, fn: (h: FileHandle) => Promise<T>): Promise<T> {
    const key = handleKey(ino, mask);
    const entry = this.#handles.get(key) ?? this.#opening(key, ino, mask);
    entry.users++;
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    entry.timer = undefined;
    try {
      return await fn(await entry.handle);
    } finally {
      entry.users--;
      this.#idle(key, entry);
    }
  }

  /**
   * Opens a handle of (ino, mask) into the cache; `known`: the attributes meta just answered (no
   * read). Once open, it idles like any handle nobody uses; a failed open is forgotten.
   */
  #opening(key: string, ino: Ino, mask: number, known?: Attr): CachedHandle {
    const opening = this.#vfs.open(ROOT_CREDENTIALS, ino, mask, known === undefined ? undefined : { known }).then((o) => o.handle);
    const entry: CachedHandle = { ino, mask, handle: opening, users: 0, timer: undefined };
    this.#handles.set(key, entry);
    opening.then(() => this.#idle(key, entry), () => {
      if (this.#handles.get(key) === entry) this.#handles.delete(key);
    });
    return entry;
  }

  /** Starts the idle timer of a cached handle nobody uses. */
  #idle(key: string, entry: CachedHandle): void {
    if (entry.users === 0 && this.#handles.get(key) === entry) {
      if (entry.timer !== undefined) clearTimeout(entry.timer);
      entry.timer = setTimeout(() => this.#release(key, entry), this.#idleMs);
      entry.timer.unref();
    }
  }

  #release(key: string, ch: CachedHandle): void {
    if (ch.users > 0 || this.#handles.get(key) !== ch) return;
    this.#handles.delete(key);
    const done = ch.handle
      .then((h) => this.#vfs.release(ROOT_CREDENTIALS, h))
      .catch((err: unknown) => {
        if ((ch.mask & MODE_WRITE) === 0) {
          this.#log.warn({ err, ino: String(ch.ino) }, 'release of an NFS read handle failed');
          return;
        }
        this.#log.error({ err, ino: String(ch.ino) }, 'release of an NFS write handle failed: unstable writes lost');
        this.#onDataLost(ch.ino, err);
      })
      .finally(() => this.#releasing.delete(done));
    this.#releasing.add(done);
  }

  fsync(ino: Ino): Promise<Attr> {
    return this.#vfs.fsync(ROOT_CREDENTIALS, ino);
  }

  async warm(ino: Ino, mask: number): Promise<void> {
    await this.#withHandle(ino, (mask & W_OK) !== 0 ? MODE_WRITE : MODE_READ, async () => undefined);
  }

  /**
   * A regular file this call created gets its write handle right away, opened with the attributes
   * the create answered: the client's WRITEs follow (a file is created to be written), and the
   * first one then needs no metadata read to open the file or to answer its attributes.
   */
  async create(cred: Credentials, parent: Ino, name: Buffer, mode: number, exclusive: boolean): Promise<NewEntry & { created: boolean }> {
    const made = await this.#vfs.create(cred, parent, name, mode, NO_UMASK, exclusive);
    const key = handleKey(made.ino, MODE_WRITE);
    // a failed open only costs the WRITE its own open (#opening forgets the entry)
    if (made.created && made.attr.type === FileType.File && !this.#handles.has(key)) this.#opening(key, made.ino, MODE_WRITE, made.attr);
    return made;
  }

  mkdir(cred: Credentials, parent: Ino, name: Buffer, mode: number): Promise<NewEntry> {
    return this.#vfs.mkdir(cred, parent, name, mode, NO_UMASK);
  }

  symlink(cred: Credentials, parent: Ino, name: Buffer, target: Buffer): Promise<NewEntry> {
    return this.#vfs.symlink(cred, parent, name, target);
  }

  mknod(cred: Credentials, parent: Ino, name: Buffer, type: FileType, mode: number, rdev: number): Promise<NewEntry> {
    return this.#vfs.mknod(cred, parent, name, type, mode, NO_UMASK, rdev);
  }

  unlink(cred: Credentials, parent: Ino, name: Buffer): Promise<Removed> {
    return this.#vfs.unlink(cred, parent, name);
  }

  rmdir(cred: Credentials, parent: Ino, name: Buffer): Promise<Removed> {
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

  /** Releases every cached handle (flushing written files) and waits for releases under way. */
  async close(): Promise<void> {
    for (const [key, ch] of [...this.#handles]) {
      if (ch.timer !== undefined) clearTimeout(ch.timer);
      ch.users = 0;
      this.#release(key, ch);
    }
    await Promise.all([...this.#releasing]);
  }
}
