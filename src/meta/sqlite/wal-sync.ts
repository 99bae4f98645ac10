/**
 * Group fsync of a SQLite WAL file off the event loop. The engine runs its connection with
 * `synchronous=NORMAL` (a commit appends its frames to the WAL without fsync; checkpoints still
 * sync the WAL before and the database after) and calls `durable()` after each commit: it resolves
 * once an fdatasync of the WAL that STARTED after that commit has completed, so every caller is
 * answered only when its own transaction is on stable storage. Commits made while one fdatasync
 * runs share the next one. It never touches the database through SQLite, only the -wal file.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

export class WalSync {
  readonly #walPath: string;
  #fh: FileHandle | null = null;
  /** Commits noted so far, and the highest of them known durable. */
  #noted = 0;
  #synced = 0;
  #running: Promise<void> | null = null;
  #closed = false;

  constructor(walPath: string) {
    this.#walPath = walPath;
  }

  /** Numbers a commit that just returned; pass the number to durable(). */
  noteCommit(): number {
    return ++this.#noted;
  }

  /** Resolves when commit `seq` is on stable storage; rejects when the fdatasync covering it failed. */
  async durable(seq: number): Promise<void> {
    while (this.#synced < seq) {
      if (this.#running === null) {
        const upTo = this.#noted;
        this.#running = this.#sync().then(() => {
          if (upTo > this.#synced) this.#synced = upTo;
        }).finally(() => {
          this.#running = null;
        });
      }
      // a sync started before this commit does not cover it: wait for it, then start the next
      await this.#running;
    }
  }

  /** Waits for the running fdatasync and closes the WAL descriptor (before the database closes). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#running?.catch(() => undefined);
    const fh = this.#fh;
    this.#fh = null;
    await fh?.close();
  }

  async #sync(): Promise<void> {
    if (this.#closed) throw new Error('WAL sync after close');
    if (this.#fh === null) {
      const fh = await open(this.#walPath, 'r');
      // the WAL's directory entry must be durable too (once: SQLite keeps the file while we are connected)
      const dir = await open(dirname(this.#walPath), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
      this.#fh = fh;
    }
    await this.#fh.datasync();
  }
}
