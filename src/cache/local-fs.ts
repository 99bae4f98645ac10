/**
 * Local-disk helpers shared by the disk tier and the staging area: object key -> file path inside
 * a cache root, atomic writes (temp file + rename, optionally fsynced with its directory), the
 * start-up directory walk, free-space queries and the choice of cache dir for a key. Keys are
 * opaque object keys; nothing here knows about slices or files of the volume.
 */
import { crc32c } from '@node-rs/crc32';
import { randomBytes } from 'node:crypto';
import { open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ensureDir, fsyncDir } from '../util/durable-fs.js';
import { Errno, FsError } from '../util/errno.js';

/** Temp files are `.ferry-tmp-<instance>-<seq>`; an instance id tells ours from a dead process's. */
const TMP_PREFIX = '.ferry-tmp-';
const INSTANCE = randomBytes(4).toString('hex');
let tmpSeq = 0;

export const isTempName = (name: string): boolean => name.startsWith(TMP_PREFIX);
const isOwnTempName = (name: string): boolean => name.startsWith(`${TMP_PREFIX}${INSTANCE}-`);

/**
 * The file of `key` under `root`; EINVAL for keys that are not clean relative paths (empty, `.` or
 * `..` segments, a leading `/`, NUL, a temp-file name) so no key reaches outside its root.
 */
export function keyPath(root: string, key: string): string {
  const segments = key.split('/');
  if (key.includes('\0') || segments.some((s) => s === '' || s === '.' || s === '..' || isTempName(s))) {
    throw new FsError(Errno.EINVAL, `object key ${JSON.stringify(key)} cannot be a cache file name`);
  }
  return `${root}/${key}`;
}

/** keyPath(), or undefined for a key that cannot be a file name (such blocks bypass the disk). */
export function tryKeyPath(root: string, key: string): string | undefined {
  try {
    return keyPath(root, key);
  } catch {
    return undefined;
  }
}

/** Which of `count` cache dirs holds `key`: a hash of the key, stable across restarts. */
export function dirIndexFor(key: string, count: number): number {
  return count <= 1 ? 0 : crc32c(key) % count;
}

/**
 * Writes `parts` to `path` through a temp file in the same directory and a rename, so readers see
 * no file or the whole file. With `durable` the file and its directory are fsynced before it
 * resolves (the write-back acknowledgement point).
 */
export async function writeAtomic(path: string, parts: Buffer[], durable: boolean): Promise<void> {
  const dir = dirname(path);
  const tmp = `${dir}/${TMP_PREFIX}${INSTANCE}-${tmpSeq++}`;
  try {
    let fh;
    try {
      fh = await open(tmp, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await ensureDir(dir, durable);
      fh = await open(tmp, 'wx', 0o600);
    }
    try {
      await fh.writev(parts);
      if (durable) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    if (durable) await fsyncDir(dir);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** Unlinks `path`; a missing file is fine. */
export async function removeFile(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

export interface FoundFile {
  key: string;
  path: string;
  size: number;
  /** Last access (or modification, if later) in ms since the epoch; orders the rebuilt LRU. */
  usedMs: number;
}

/**
 * Every file under `root` as a key (its path relative to root), depth first. Temp files left by
 * other (dead) processes are deleted on the way; names for which `skip` returns true are ignored.
 * Stops early when `stopped()` turns true.
 */
export async function* walkFiles(root: string, stopped: () => boolean, skip: (name: string) => boolean = () => false): AsyncGenerator<FoundFile> {
  const pending: string[] = [''];
  while (pending.length > 0 && !stopped()) {
    const rel = pending.pop() ?? '';
    let entries;
    try {
      entries = await readdir(rel === '' ? root : `${root}/${rel}`, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    for (const e of entries) {
      if (stopped()) return;
      const key = rel === '' ? e.name : `${rel}/${e.name}`;
      const path = `${root}/${key}`;
      if (e.isDirectory()) {
        pending.push(key);
      } else if (e.isFile()) {
        if (isTempName(e.name)) {
          if (!isOwnTempName(e.name)) await removeFile(path);
          continue;
        }
        if (skip(e.name)) continue;
        try {
          const st = await stat(path);
          yield { key, path, size: st.size, usedMs: Math.max(st.atimeMs, st.mtimeMs) };
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // removed meanwhile
        }
      }
    }
  }
}

