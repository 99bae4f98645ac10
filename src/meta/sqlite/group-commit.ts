/**
 * Group commit for the SQLite engine's write transactions. Writes requested while the previous
 * batch commits and waits for its WAL fdatasync (or, when idle, during one turn of the event loop)
 * run, in request order, inside ONE `BEGIN IMMEDIATE` transaction, each in its own
 * savepoint: a write that throws is rolled back alone and gets its own error, the others keep their
 * changes and results. One COMMIT (one set of WAL frames per page touched) and, through WalSync, one
 * fdatasync then serve the whole batch; nobody is answered before that fdatasync has completed,
 * except a write asked for as `deferred`: it is answered once committed, and `durable()` later
 * waits for an fdatasync that covers it (a WebDAV PUT's create, made durable by the PUT's fsync).
 * If SQLite drops the whole transaction (an I/O error, disk full) every write of the batch fails.
 * A busy database (another process holds the write lock) restarts the batch, i² ms apart.
 * It knows nothing of the schema: the writes are closures over the engine's statements.
 */
import type Database from 'better-sqlite3';
import type { Logger } from '../../observability/logger.js';
import { Errno, FsError } from '../../util/errno.js';
import { isBusy, toFsError } from './errors.js';
import type { WalSync } from './wal-sync.js';

/** Most writes in one transaction (bounds how long one batch holds the event loop). */
const MAX_BATCH = 64;

interface Pending {
  readonly op: string;
  /** Answered at commit; its durability is awaited through durable(). */
  readonly deferred: boolean;
  readonly fn: () => unknown;
  readonly resolve: (v: unknown) => void;
  readonly reject: (err: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; err: unknown };

function settle(p: Pending, o: Outcome | undefined): void {
  if (o === undefined) p.reject(new FsError(Errno.EIO, `${p.op}: no outcome`));
  else if (o.ok) p.resolve(o.value);
  else p.reject(toFsError(o.err, p.op));
}

export class GroupCommit {
  readonly #db: Database.Database;
  readonly #wal: Pick<WalSync, 'durable'> | null;
  readonly #log: Logger;
  readonly #maxTries: number;
  readonly #runBatch: Database.Transaction<(batch: readonly Pending[]) => Outcome[]>;
  readonly #one: Database.Transaction<(fn: () => unknown) => unknown>;
  #queue: Pending[] = [];
  #scheduled = false;
  /** A batch is running or waiting to retry: later writes wait for the next one. */
  #busy = false;
  /** Batches committed so far; the last one holding a deferred write; the last one known durable. */
  #committed = 0;
  #lastDeferred = 0;
  #durable = 0;
  /** A WAL fdatasync failed while deferred writes waited for one: they may be lost, durable() fails from then on. */
  #lostDeferred: unknown = undefined;
  readonly #afterCommit: ((ops: number) => void) | undefined;

  /** `afterCommit` hears of each committed batch and its number of writes (background checkpoints). */
  constructor(db: Database.Database, wal: Pick<WalSync, 'durable'> | null, log: Logger, maxTries: number, afterCommit?: (ops: number) => void) {
    this.#db = db;
    this.#afterCommit = afterCommit;
    this.#wal = wal;
    this.#log = log;
    this.#maxTries = maxTries;
    // nested inside #runBatch, a better-sqlite3 transaction function is a SAVEPOINT
    this.#one = db.transaction((fn: () => unknown) => fn());
    this.#runBatch = db.transaction((batch: readonly Pending[]) => batch.map((p): Outcome => {
      try {
        return { ok: true, value: this.#one(p.fn) };
      } catch (err) {
        if (!this.#db.inTransaction) throw err; // SQLite rolled back everything: the batch fails as a whole
        return { ok: false, err };
      }
    }));
  }

  /**
   * Runs `fn` in a write transaction shared with the writes of this turn; resolves once durable,
   * or with `deferred` once committed (visible to every reader; durable after `durable()`).
   */
  run<T>(op: string, fn: () => T, deferred = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ op, deferred, fn, resolve: resolve as (v: unknown) => void, reject });
      this.#schedule();
    });
  }

  /** Resolves once every write committed so far, deferred ones included, is durable. */
  async durable(): Promise<void> {
    if (this.#lostDeferred !== undefined) throw new FsError(Errno.EIO, 'an fsync of the WAL failed after deferred writes', { cause: this.#lostDeferred });
    if (this.#wal === null || this.#durable >= this.#lastDeferred) return;
    const upTo = this.#committed;
    try {
      await this.#wal.durable();
    } catch (err) {
      this.#lostDeferred ??= err;
      throw new FsError(Errno.EIO, 'fsync of the WAL', { cause: err });
    }
    this.#durable = Math.max(this.#durable, upTo);
  }

  #schedule(): void {
    if (this.#scheduled || this.#busy || this.#queue.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#busy = true;
    const batch = this.#queue.splice(0, MAX_BATCH);
    try {
      const outcomes = await this.#commit(batch);
      if (outcomes === null) return;
      const seq = ++this.#committed;
      this.#afterCommit?.(batch.length);
      if (batch.some((p) => p.deferred)) {
        this.#lastDeferred = seq;
        batch.forEach((p, i) => { if (p.deferred) settle(p, outcomes[i]); });
        // nobody waits for this batch's fdatasync: the next durable() or durable write starts one
        if (batch.every((p) => p.deferred)) return;
      }
      // Writes requested meanwhile wait for this fdatasync before committing as the next batch:
      // they could not be durable sooner (their sync must start after their commit, and syncs run
      // one at a time), and one larger batch writes each touched page to the WAL once.
      try {
        if (this.#wal !== null) {
          await this.#wal.durable();
          this.#durable = Math.max(this.#durable, seq);
        }
      } catch (err) {
        this.#log.error({ err, ops: batch.map((p) => p.op) }, 'fsync of the sqlite WAL failed');
        if (this.#lastDeferred > this.#durable) this.#lostDeferred ??= err;
        for (const p of batch) if (!p.deferred) p.reject(new FsError(Errno.EIO, `${p.op}: fsync of the WAL`, { cause: err }));
        return;
      }
      batch.forEach((p, i) => { if (!p.deferred) settle(p, outcomes[i]); });
    } finally {
      this.#busy = false;
      this.#schedule();
    }
  }

  /** Commits `batch`, restarting while the database is busy; null when it failed (callers rejected). */
  async #commit(batch: readonly Pending[]): Promise<Outcome[] | null> {
    for (let attempt = 1; ; attempt++) {
      try {
        return this.#runBatch.immediate(batch);
      } catch (err) {
        if (isBusy(err) && attempt < this.#maxTries) {
          this.#log.debug({ ops: batch.length, attempt }, 'sqlite busy, restarting transaction');
          await new Promise((r) => setTimeout(r, attempt * attempt));
          continue;
        }
        for (const p of batch) p.reject(toFsError(err, p.op));
        return null;
      }
    }
  }
}
