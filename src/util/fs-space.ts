/** Capacity and free space of a file system, as the cache disks and the file store watch them. */
import { statfs } from 'node:fs/promises';
import { Errno, FsError } from './errno.js';

/** Capacity and free space (available to unprivileged users) of the filesystem holding a path. */
export interface FsSpace {
  totalBytes: number;
  freeBytes: number;
}

export type StatFsFn = (path: string) => Promise<FsSpace>;

export const statFsBytes: StatFsFn = async (path) => {
  const st = await statfs(path);
  return { totalBytes: st.blocks * st.bsize, freeBytes: st.bavail * st.bsize };
};

/**
 * Keeps a file system from filling up: check(bytes) throws ENOSPC when writing `bytes` more would
 * leave less than the floor free. Free space is read at most every REFRESH_MS (and at once when
 * the estimate nears the floor), bytes admitted since counted off it, so a write costs no statfs.
 */
export class FreeSpaceFloor {
  static readonly REFRESH_MS = 1000;
  readonly #path: string;
  readonly #statfs: StatFsFn;
  readonly #floorOf: (totalBytes: number) => number;
  #free = 0;
  #floor = 0;
  #readAt = -Infinity;

  /** `floorOf` turns the file system's capacity into the bytes to keep free. */
  constructor(path: string, floorOf: (totalBytes: number) => number, statfs: StatFsFn = statFsBytes) {
    this.#path = path;
    this.#floorOf = floorOf;
    this.#statfs = statfs;
  }

  /** Admits `bytes` more, or throws ENOSPC (with the figures) when they would go below the floor. */
  async check(bytes: number): Promise<void> {
    const stale = Date.now() - this.#readAt >= FreeSpaceFloor.REFRESH_MS;
    if (stale || this.#free - bytes < 2 * this.#floor) await this.#read();
    if (this.#free - bytes < this.#floor) {
      throw new FsError(Errno.ENOSPC, `${this.#free} bytes free, ${this.#floor} kept free (writing ${bytes} more refused)`);
    }
    this.#free -= bytes;
  }

  async #read(): Promise<void> {
    try {
      const space = await this.#statfs(this.#path);
      this.#free = space.freeBytes;
      this.#floor = this.#floorOf(space.totalBytes);
    } catch {
      this.#free = Infinity; // a path that cannot be read fails the write itself, with its own error
      this.#floor = 0;
    }
    this.#readAt = Date.now();
  }
}
