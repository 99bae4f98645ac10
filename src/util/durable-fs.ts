/**
 * Directory durability on a local file system, shared by the file object store and the cache's
 * local files: fsync of a directory (so names created in it survive a crash) and mkdir -p that
 * can make the directories it created durable. No knowledge of keys, objects or blocks.
 */
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';

/** fsync a directory so the names created in it survive a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
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
