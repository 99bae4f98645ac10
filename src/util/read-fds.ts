/**
 * ReadFds: read-only descriptors of recently read local files, kept open so that a read is one
 * positional read instead of open + read + close (three thread-pool trips). Used for the `file`
 * store's objects and the disk cache's block files. Both hold immutable content (spec §D: a key
 * always names the same bytes), so a kept descriptor stays right for its path; the owner drops it
 * when it replaces or deletes the file. Least recently used descriptors are closed beyond `max`,
 * and idle ones after `idleMs`, so that files deleted by another process do not hold disk space
 * for long. It never writes.
 */
import { close, open } from 'node:fs';

interface Entry {
  fd: Promise<number>;
  /** Reads using the descriptor right now; it is closed only at 0. */
  users: number;
  /** Out of the table: close once unused. */
  dropped: boolean;
  lastUse: number;
}

/** Descriptors kept by default, and how long an unused one stays open (the file store and each cache dir use these). */
export const READ_FDS_DEFAULTS = { max: 128, idleMs: 10_000 } as const;

export class ReadFds {
  readonly #max: number;
  readonly #idleMs: number;
  readonly #entries = new Map<string, Entry>(); // least recently used first
  #sweeper: NodeJS.Timeout | undefined;

  constructor(opts: { max: number; idleMs: number } = READ_FDS_DEFAULTS) {
    this.#max = opts.max;
    this.#idleMs = opts.idleMs;
  }

  /** Runs `fn` with a read-only descriptor of `path` (kept, or opened now); open errors reject as fs errors. */
  async use<T>(path: string, fn: (fd: number) => Promise<T>): Promise<T> {
    let e = this.#entries.get(path);
    if (e === undefined) {
      e = { fd: openReadOnly(path), users: 0, dropped: false, lastUse: 0 };
      const entry = e;
      this.#entries.set(path, entry);
      entry.fd.catch(() => this.#remove(path, entry));
      this.#trim();
      this.#sweepLater();
    } else {
      this.#entries.delete(path); // to the most recently used end
      this.#entries.set(path, e);
    }
    e.users++;
    e.lastUse = Date.now();
    try {
      return await fn(await e.fd);
    } finally {
      e.users--;
      if (e.dropped && e.users === 0) closeEntry(e);
    }
  }

  /** Forgets the descriptor of `path` (the object is being replaced or deleted); reads in progress finish on it. */
  drop(path: string): void {
    const e = this.#entries.get(path);
    if (e !== undefined) this.#remove(path, e);
  }

  /** Closes every descriptor (in-use ones once their reads finish). */
  clear(): void {
    for (const [path, e] of this.#entries) this.#remove(path, e);
    if (this.#sweeper !== undefined) clearTimeout(this.#sweeper);
    this.#sweeper = undefined;
  }

  /** Descriptors kept. */
  get size(): number {
    return this.#entries.size;
  }

  #remove(path: string, e: Entry): void {
    if (this.#entries.get(path) === e) this.#entries.delete(path);
    if (e.dropped) return;
    e.dropped = true;
    if (e.users === 0) closeEntry(e);
  }

  #trim(): void {
    for (const [path, e] of this.#entries) {
      if (this.#entries.size <= this.#max) return;
      this.#remove(path, e);
    }
  }

  /** Closes descriptors idle for idleMs, checking again while any are kept. */
  #sweepLater(): void {
    if (this.#sweeper !== undefined) return;
    this.#sweeper = setTimeout(() => {
      this.#sweeper = undefined;
      const before = Date.now() - this.#idleMs;
      for (const [path, e] of this.#entries) {
        if (e.lastUse > before) break; // the rest were used later
        if (e.users === 0) this.#remove(path, e);
      }
      if (this.#entries.size > 0) this.#sweepLater();
    }, this.#idleMs);
    this.#sweeper.unref();
  }
}

function openReadOnly(path: string): Promise<number> {
  return new Promise((resolve, reject) => open(path, 'r', (err, fd) => (err === null ? resolve(fd) : reject(err))));
}

function closeEntry(e: Entry): void {
  e.fd.then((fd) => close(fd, () => undefined), () => undefined);
}
