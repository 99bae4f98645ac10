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
import { CoalescedSync } from '../../util/coalesced-sync.js';
import { fsyncDir } from '../../util/durable-fs.js';

export class WalSync {
  readonly #walPath: string;
  readonly #group = new CoalescedSync(() => this.#sync());
  #fh: FileHandle | null = null;
  #closed = false;
  #syncs = 0;

  constructor(walPath: string) {
    this.#walPath = walPath;
  }

  /** Call after a commit returned: resolves when an fdatasync that started after the call is done (the commit is on stable storage); rejects when it failed. */
  durable(): Promise<void> {
    return this.#group.sync();
  }

  /** fdatasyncs started so far. */
  get syncs(): number {
    return this.#syncs;
  }

  /** Waits for the running fdatasync and closes the WAL descriptor (before the database closes). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#group.settled();
    const fh = this.#fh;
    this.#fh = null;
    await fh?.close();
  }

  async #sync(): Promise<void> {
    if (this.#closed) throw new Error('WAL sync after close');
    if (this.#fh === null) {
      const fh = await open(this.#walPath, 'r');
      // the WAL's directory entry must be durable too (once: SQLite keeps the file while we are connected)
      await fsyncDir(dirname(this.#walPath));
      this.#fh = fh;
    }
    this.#syncs++;
    await this.#fh.datasync();
  }
}
