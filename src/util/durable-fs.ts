/**
 * Durability on a local file system, shared by the file object store and the cache's local
 * files: fsync of a descriptor, fsync of a directory (so names created in it survive a crash) and
 * mkdir -p that can make the directories it created durable. No knowledge of keys, objects or blocks.
 */
import { closeSync, fsync, openSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';

/** fsync of an open descriptor, in the thread pool. */
export const fsyncFd = promisify(fsync);

/**
 * fsync a directory so the names created in it survive a crash. Only the fsync goes to the
 * thread pool: opening and closing a directory are cheap calls, cheaper than two trips there.
 */
export async function fsyncDir(dir: string): Promise<void> {
  const fd = openSync(dir, 'r');
  try {
    await fsyncFd(fd);
  } finally {
    closeSync(fd);
  }
}

/** mkdir -p; when `durable`, also fsyncs the parent of every directory it created. */
export async function ensureDir(dir: string, durable: boolean): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined || !durable) return;
  for (let d = dir; ; d = dirname(d)) {
    await fsyncDir(dirname(d));
    if (d === first || d === dirname(d)) break;
  }
}
