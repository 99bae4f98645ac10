/**
 * Per-inode mutual exclusion inside one Vfs: writes, truncates, flushes and clones of one file run
 * one at a time, in arrival order, so that "newest wins" means "arrived last" (spec §E.1).
 * A lock is held only around short in-process steps and the meta calls they order; it is not
 * visible to other processes and must never be held while waiting for another inode's lock,
 * except through withLocks(), which takes several in ascending inode order.
 */
import type { Ino } from '../meta/types.js';

export class InodeLocks {
  readonly #tails = new Map<Ino, Promise<void>>();

  /** Runs `fn` once every earlier holder of `ino` has finished. */
  async with<T>(ino: Ino, fn: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(ino) ?? Promise.resolve();
    let release = (): void => undefined;
    const mine = new Promise<void>((r) => { release = r; });
    const tail = prev.then(() => mine);
    this.#tails.set(ino, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.#tails.get(ino) === tail) this.#tails.delete(ino);
    }
  }

  /** Runs `fn` holding the locks of all `inos` (deduplicated, taken in ascending order). */
  withLocks<T>(inos: readonly Ino[], fn: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(inos)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const run = (i: number): Promise<T> => {
      const ino = sorted[i];
      return ino === undefined ? fn() : this.with(ino, () => run(i + 1));
    };
    return run(0);
  }
}
