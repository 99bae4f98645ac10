/**
 * Reads of local files (the file store's objects, the disk cache's blocks). What the page cache
 * already holds is copied on the calling thread (native/read-cached.c: preadv2 with RWF_NOWAIT).
 * A thread-pool read costs a queue, a worker wake-up and a completion wake-up around a copy of a
 * few microseconds; for hot data that is most of the cost of an NFS READ. Data that is not cached
 * is never waited for here: the call answers that it read nothing and the caller goes to the
 * thread pool as before, so a slow disk cannot stall the event loop. Without the addon (not built)
 * every call answers -1.
 */
import { read } from 'node:fs';
import { createRequire } from 'node:module';
import { getSystemErrorName, promisify } from 'node:util';

const readFd = promisify(read);

/** Reads longer than this go to the thread pool even when cached: a long copy would hold the event loop. */
export const CACHED_READ_MAX = 128 * 1024;

interface ReadCachedAddon {
  readCached(fd: number, buffer: Buffer, offset: number, length: number, position: number): number;
}

let addon: ReadCachedAddon | null | undefined;

function load(): ReadCachedAddon | null {
  if (addon === undefined) {
    try {
      // dist/src/util/cached-read.js -> dist/native/ferry.node (scripts/build-native.sh)
      addon = createRequire(import.meta.url)('../../native/ferry.node') as ReadCachedAddon;
    } catch {
      addon = null;
    }
  }
  return addon;
}

/** Whether cached reads happen (the addon loaded); the daemon logs it at start. */
export function cachedReadsAvailable(): boolean {
  return load() !== null;
}

/**
 * Copies into buffer[offset, offset + length) what the page cache holds of the file from
 * `position` on: the bytes copied (fewer than asked when only a part is cached; 0 at end of file),
 * or -1 when nothing could be read without waiting (not cached, too long, no addon). Other errors
 * (EBADF, EIO) throw with the errno.
 */
export function readCached(fd: number, buffer: Buffer, offset: number, length: number, position: number): number {
  if (length > CACHED_READ_MAX) return -1;
  const a = load();
  if (a === null) return -1;
  try {
    return a.readCached(fd, buffer, offset, length, position);
  } catch (err) {
    throw asFsCallError(err);
  }
}

/** The addon's error ({ errno: positive }) as Node's fs calls throw them: code 'EIO', errno -5, syscall. */
function asFsCallError(err: unknown): Error {
  const errno = (err as { errno?: unknown } | null)?.errno;
  if (!(err instanceof Error)) return new Error(String(err));
  if (typeof errno !== 'number') return err;
  const code = getSystemErrorName(-errno);
  return Object.assign(new Error(err.message, { cause: err }), { errno: -errno, code, syscall: 'preadv2' });
}

/**
 * Fills `dest` from `position` on with positional reads of a raw descriptor; the count read, short
 * when the file ends first. What the page cache holds is copied at once (readCached), the rest is
 * read in the thread pool (node:fs callbacks: lighter than FileHandle reads).
 */
export async function preadFully(fd: number, dest: Buffer, position: number): Promise<number> {
  const cached = readCached(fd, dest, 0, dest.length, position);
  if (cached === 0 && dest.length > 0) return 0; // end of file
  let got = Math.max(cached, 0);
  while (got < dest.length) {
    const { bytesRead } = await readFd(fd, dest, got, dest.length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}
