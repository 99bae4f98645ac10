/**
 * `file` ObjectStore: objects are files under a local directory, the embedded default (spec §D.2,
 * §I: the object path is the bucket path concatenated with the key, no path join). A put of a new
 * key creates the file in place and fsyncs it and its directory; a put over an existing key writes
 * a temp file, fsyncs it, renames it over the key and fsyncs the directory, so a crash leaves the
 * old object or the new one (or, for a new key, a partial object nothing references). Keys with
 * `..`/`.`/empty segments or a leading `/` are refused (EINVAL): no key may reach outside the
 * root. Symlinks are not followed in listings. Puts are refused (ENOSPC) before they would leave
 * less than FREE_FLOOR free on the file system, so that the metadata engine sharing the disk (the
 * embedded SQLite volume) can still commit the deletes that free space.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fstat as fstatCb, openSync, renameSync, write, writeSync } from 'node:fs';
import { open, readdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';
import { dirname, isAbsolute } from 'node:path';
import { logger } from '../observability/logger.js';
import { CoalescedSync } from '../util/coalesced-sync.js';
import { preadFully } from '../util/cached-read.js';
import { ensureDir, fsyncDir, fsyncFd } from '../util/durable-fs.js';
import { FreeSpaceFloor, type StatFsFn } from '../util/fs-space.js';
import { ReadFds } from '../util/read-fds.js';
import { Errno, FsError } from '../util/errno.js';
import { checkKey, checkRange, compareKeys, type ByteRange, type ListOptions, type ObjectInfo, type ObjectStore } from './object-store.js';

const log = logger.child({ module: 'storage', backend: 'file' });

/** Bytes the file store leaves free on its file system: 1 % of its size, at least 16 MiB, at most 1 GiB. */
export const FREE_FLOOR = { ratio: 0.01, minBytes: 16 * 1024 * 1024, maxBytes: 1024 * 1024 * 1024 } as const;
const freeFloorOf = (totalBytes: number): number => Math.min(FREE_FLOOR.maxBytes, Math.max(FREE_FLOOR.minBytes, FREE_FLOOR.ratio * totalBytes));

/** Temp files of in-flight puts: `.<name>.ferry-tmp-<hex>`; listings skip them, keys may not look like them. */
const TMP_MARK = '.ferry-tmp-';
const isTmpName = (name: string): boolean => name.startsWith('.') && /\.ferry-tmp-[0-9a-f]{16}$/.test(name);

type Op = 'get' | 'put' | 'delete' | 'head' | 'list';

/** Bodies up to this size are written to the temp file synchronously; larger ones in thread-pool writes of WRITE_STEP. */
const SYNC_WRITE_MAX = 256 * 1024;
/** 512 KiB, writeFile's step (one 4 MiB positional write measured slower here). */
const WRITE_STEP = 512 * 1024;
const writeFd = promisify(write);
const fstat = promisify(fstatCb);

/** The one place where Node fs errors become errnos (STYLE.md §4). */
function fileErrno(err: unknown, op: Op, key: string): FsError {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const msg = `${op} ${key}`;
  switch (code) {
    case 'ENOENT':
      return new FsError(Errno.ENOENT, msg, { cause: err });
    case 'ENOTDIR':
    case 'EEXIST':
      // A key below an existing object (`a` then `a/b`): nothing to read, and no room to write.
      return new FsError(op === 'put' ? Errno.EEXIST : Errno.ENOENT, `${msg}: an object holds a parent path`, { cause: err });
    case 'EISDIR':
    case 'ENOTEMPTY':
      // A directory is never an object: reading it finds nothing, writing over it conflicts.
      return new FsError(op === 'put' ? Errno.EEXIST : Errno.ENOENT, `${msg}: a directory has this name`, { cause: err });
    case 'EACCES':
    case 'EPERM':
      return new FsError(Errno.EACCES, msg, { cause: err });
    case 'ENOSPC':
      return new FsError(Errno.ENOSPC, msg, { cause: err });
    case 'EDQUOT':
      return new FsError(Errno.EDQUOT, msg, { cause: err });
    case 'EROFS':
      return new FsError(Errno.EROFS, msg, { cause: err });
    case 'ENAMETOOLONG':
      return new FsError(Errno.ENAMETOOLONG, msg, { cause: err });
    default:
      log.error({ err, op, key }, 'unexpected file store error');
      return new FsError(Errno.EIO, msg, { cause: err });
  }
}

export class FileObjectStore implements ObjectStore {
  readonly description: string;
  readonly #root: string;
  readonly #dirSyncs = new DirSyncs();
  /** Descriptors kept for readInto (get opens and closes its own: whole-object reads are rarer and larger). */
  readonly #fds = new ReadFds();
  readonly #tmpNames = new TmpNames();
  readonly #space: FreeSpaceFloor;

  /**
   * `root` is the bucket: an absolute path, normally ending in `/` (JuiceFS always writes it so).
   * `statfs`: free-space source (tests inject one).
   */
  constructor(root: string, opts: { statfs?: StatFsFn } = {}) {
    if (!isAbsolute(root)) throw new FsError(Errno.EINVAL, `file store root must be an absolute path: ${root}`);
    this.#root = root;
    this.description = `file://${root}`;
    this.#space = new FreeSpaceFloor(root, freeFloorOf, opts.statfs);
  }

  #path(key: string): string {
    checkKey(key);
    const segments = key.split('/');
    if (segments.some((s) => s === '' || s === '.' || s === '..' || isTmpName(s))) {
      throw new FsError(Errno.EINVAL, `object key ${JSON.stringify(key)} is not a clean relative path`);
    }
    return this.#root + key;
  }

  async get(key: string, range?: ByteRange, signal?: AbortSignal): Promise<Buffer> {
    signal?.throwIfAborted();
    const path = this.#path(key);
    if (range !== undefined) checkRange(range, key);
    try {
      // one read of the whole object (readFile reads in 512 KiB steps, each a thread-pool trip)
      const fh = await open(path, 'r');
      try {
        return await readRange(fh, range ?? { offset: 0, length: Number.MAX_SAFE_INTEGER });
      } finally {
        await fh.close();
      }
    } catch (err) {
      if (signal?.aborted === true) throw signal.reason;
      throw fileErrno(err, 'get', key);
    }
  }

  async readInto(key: string, range: ByteRange, dest: Buffer, signal?: AbortSignal): Promise<number> {
    signal?.throwIfAborted();
    const path = this.#path(key);
    checkRange(range, key);
    if (dest.length < range.length) throw new FsError(Errno.EINVAL, `read of ${range.length} bytes into ${dest.length}`);
    try {
      return await this.#fds.use(path, (fd) => preadFully(fd, dest.subarray(0, range.length), range.offset));
    } catch (err) {
      if (signal?.aborted === true) throw signal.reason;
      throw fileErrno(err, 'get', key);
    }
  }

  /**
   * A new key is created in place, exclusively ('wx'), and its fsync and the directory's run side
   * by side: one journal commit serves both, and no rename is needed. Until put resolves the
   * object may be seen partly written, which the ObjectStore contract allows for a key that did
   * not exist; a put that fails removes what it created. A key that exists (EEXIST) is replaced
   * through a temp file instead (#replace), so readers see the old object or the new one.
   * The exclusive open, writes of up to SYNC_WRITE_MAX bytes (a copy into the page cache) and the
   * close are synchronous: a thread-pool trip costs the loop a wake-up and a context switch, more
   * than they (a synchronous open: about 10 % more small WebDAV PUTs per second, 12 % less CPU).
   */
  async put(key: string, body: Buffer, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const path = this.#path(key);
    await this.#space.check(body.length);
    const dir = dirname(path);
    let fd: number;
    try {
      fd = await this.#create(path, dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return this.#replace(key, path, dir, body, signal);
      throw fileErrno(err, 'put', key);
    }
    try {
      await writeBody(fd, body);
      // both settle before the descriptor may close (a pending fsync must not outlive it)
      const synced = await Promise.allSettled([fsyncFd(fd), this.#dirSyncs.sync(dir)]);
      for (const r of synced) if (r.status === 'rejected') throw r.reason;
      signal?.throwIfAborted();
    } catch (err) {
      // nothing can reference a key before its put resolved: what this put created goes (unless
      // a concurrent put of the key has replaced it meanwhile)
      await unlinkIfSame(path, fd);
      if (signal?.aborted === true) throw signal.reason;
      throw fileErrno(err, 'put', key);
    } finally {
      closeSync(fd);
    }
    this.#fds.drop(path); // a descriptor of an object another process deleted under this key
  }

  /** Replaces an existing object: temp file, fsync, rename over the key, fsync of the directory. */
  async #replace(key: string, path: string, dir: string, body: Buffer, signal?: AbortSignal): Promise<void> {
    const tmp = `${dir}/.${path.slice(dir.length + 1)}${TMP_MARK}${this.#tmpNames.next()}`;
    try {
      const fd = await this.#create(tmp, dir);
      try {
        await writeBody(fd, body);
        await fsyncFd(fd);
      } finally {
        closeSync(fd);
      }
      signal?.throwIfAborted();
      renameSync(tmp, path);
      this.#fds.drop(path);
      await this.#dirSyncs.sync(dir);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      if (signal?.aborted === true) throw signal.reason;
      throw fileErrno(err, 'put', key);
    }
  }

  /** Opens a new file at `path` exclusively (synchronously: see put), creating its directories (durably) when missing. */
  async #create(path: string, dir: string): Promise<number> {
    try {
      return openSync(path, 'wx', 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await ensureDir(dir, true);
      return openSync(path, 'wx', 0o644);
    }
  }

  async delete(key: string, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const path = this.#path(key);
    this.#fds.drop(path);
    try {
      await unlink(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return;
      throw fileErrno(err, 'delete', key);
    }
  }

  async head(key: string, signal?: AbortSignal): Promise<{ size: number; mtime: Date }> {
    signal?.throwIfAborted();
    const path = this.#path(key);
    try {
      const st = await stat(path);
      if (!st.isFile()) throw Object.assign(new Error(`not a regular file: ${path}`), { code: 'EISDIR' });
      return { size: st.size, mtime: st.mtime };
    } catch (err) {
      throw fileErrno(err, 'head', key);
    }
  }

  /**
   * Walks directories depth-first, each one sorted so that keys come out in byte order: a
   * directory `d` sorts as `d/`. Whole subtrees before `startAfter` or outside `prefix` are skipped
   * without being read; one directory listing is held in memory at a time per level.
   */
  async *list(prefix: string, opts: ListOptions = {}): AsyncGenerator<ObjectInfo> {
    const full = this.#root + prefix;
    const after = opts.startAfter === undefined ? undefined : this.#root + opts.startAfter;
    let left = opts.limit ?? Infinity;
    if (left <= 0) return;
    const root = this.#root;
    const signal = opts.signal;

    async function* walk(dir: string): AsyncGenerator<ObjectInfo> {
      signal?.throwIfAborted();
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return;
        throw fileErrno(err, 'list', dir.slice(root.length));
      }
      const items = entries
        .filter((e) => (e.isFile() && !isTmpName(e.name)) || e.isDirectory())
        .map((e) => ({ path: dir + e.name + (e.isDirectory() ? '/' : ''), isDir: e.isDirectory() }))
        .sort((a, b) => compareKeys(a.path, b.path));
      for (const item of items) {
        if (item.isDir) {
          const inPrefix = item.path.startsWith(full) || full.startsWith(item.path);
          const beforeStart = after !== undefined && !after.startsWith(item.path) && compareKeys(item.path, after) < 0;
          if (!inPrefix || beforeStart) continue;
          yield* walk(item.path);
        } else {
          if (!item.path.startsWith(full)) continue;
          if (after !== undefined && compareKeys(item.path, after) <= 0) continue;
          let st;
          try {
            st = await stat(item.path);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // deleted meanwhile
            throw fileErrno(err, 'list', item.path.slice(root.length));
          }
          yield { key: item.path.slice(root.length), size: st.size, mtime: st.mtime };
        }
      }
    }

    for await (const info of walk(full.slice(0, full.lastIndexOf('/') + 1))) {
      yield info;
      if (--left <= 0) return;
    }
  }

  async close(): Promise<void> {
    this.#fds.clear();
  }
}

/** Unlinks `path` if it still names the file open as `fd`; errors are ignored (cleanup after a failure). */
async function unlinkIfSame(path: string, fd: number): Promise<void> {
  try {
    const [mine, named] = await Promise.all([fstat(fd), stat(path)]);
    if (mine.ino === named.ino && mine.dev === named.dev) await unlink(path);
  } catch {
    // gone already, or not ours to judge: leave it
  }
}

/** Writes `body` from offset 0: synchronously up to SYNC_WRITE_MAX bytes, else in thread-pool steps of WRITE_STEP. */
async function writeBody(fd: number, body: Buffer): Promise<void> {
  if (body.length <= SYNC_WRITE_MAX) {
    for (let done = 0; done < body.length;) done += writeSync(fd, body, done, body.length - done, done);
    return;
  }
  for (let done = 0; done < body.length;) done += (await writeFd(fd, body, done, Math.min(WRITE_STEP, body.length - done), done)).bytesWritten;
}

/**
 * Temp-name suffixes, 16 hex digits: a random half per store and a counter, unique within the
 * process without a random draw per put; the random half keeps two processes on one root apart
 * ('wx' would refuse a clash anyway).
 */
class TmpNames {
  readonly #prefix = randomBytes(4).toString('hex');
  #n = 0;

  next(): string {
    this.#n = (this.#n + 1) >>> 0;
    return this.#prefix + this.#n.toString(16).padStart(8, '0');
  }
}

/** Reads `range` with positional reads; short when the file ends first. */
async function readRange(fh: FileHandle, range: ByteRange): Promise<Buffer> {
  const { size } = await fh.stat();
  const buf = Buffer.allocUnsafe(Math.max(0, Math.min(range.length, size - range.offset)));
  const got = await preadFully(fh.fd, buf, range.offset);
  return got === buf.length ? buf : buf.subarray(0, got);
}

/**
 * fsync of directories after renames, shared: a caller needs a sync that starts after its rename,
 * so it joins the one queued behind the running sync of that directory, or queues it. Concurrent
 * puts into one directory (the blocks of a slice) then cost one or two syncs instead of one each.
 */
class DirSyncs {
  readonly #dirs = new Map<string, CoalescedSync>();

  async sync(dir: string): Promise<void> {
    let group = this.#dirs.get(dir);
    if (group === undefined) this.#dirs.set(dir, (group = new CoalescedSync(() => fsyncDir(dir))));
    try {
      await group.sync();
    } finally {
      if (group.idle && this.#dirs.get(dir) === group) this.#dirs.delete(dir);
    }
  }
}
