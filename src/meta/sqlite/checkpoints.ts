/**
 * WAL checkpoints off the event loop, for `ferry serve`. SQLite checkpoints automatically inside
 * the commit that takes the WAL past 1000 pages, on the committing connection: there, on the event
 * loop, it fsyncs the WAL, copies every page written since the last checkpoint into the database
 * file and fsyncs that. On a small database that is a few pages; on a volume of millions of files
 * the pages a thousand frames touch are scattered, and no NFS or WebDAV request is served meanwhile.
 * Here the engine's connection has automatic checkpoints off (wal_autocheckpoint=0) and a worker
 * thread with a connection of its own (checkpoint-worker.ts) runs a PASSIVE checkpoint after every
 * CHECKPOINT_OPS committed writes, one at a time. A passive checkpoint never blocks the writer;
 * the writer restarts the WAL from its start once everything in it has been copied.
 * If the worker fails, automatic checkpoints come back on, so the WAL cannot grow without bound.
 * Closing the engine stops the worker first; SQLite checkpoints on the last connection's close.
 */
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import type { Logger } from '../../observability/logger.js';

/** Committed writes between two checkpoints: a small-file create writes about 8 WAL frames, so about SQLite's 1000-frame default. */
export const CHECKPOINT_OPS = 128;
/** SQLite's own default, restored when the worker is gone. */
const AUTOCHECKPOINT_PAGES = 1000;

/** What the worker is started with. */
export interface CheckpointWorkerData {
  path: string;
  busyTimeoutMs: number;
}

/** The worker's answer to one 'checkpoint' message. */
export type CheckpointReply =
  | { ok: true; frames: number; checkpointed: number; ms: number }
  | { ok: false; message: string };

/** Counts for tests and logs. */
export interface CheckpointStats {
  /** Checkpoints completed by the worker. */
  runs: number;
  /** Frames in the WAL at the last one, and how many of them it had copied into the database. */
  walFrames: number;
  lastCheckpointed: number;
  /** True once the worker failed and SQLite's automatic checkpoints are back on. */
  fellBack: boolean;
}

export class BackgroundCheckpoints {
  readonly #db: Database.Database;
  readonly #log: Logger;
  readonly #worker: Worker;
  #sinceLast = 0;
  #running = false;
  #stopping = false;
  readonly #stats: CheckpointStats = { runs: 0, walFrames: 0, lastCheckpointed: 0, fellBack: false };

  constructor(db: Database.Database, data: CheckpointWorkerData, log: Logger) {
    this.#db = db;
    this.#log = log;
    db.pragma('wal_autocheckpoint = 0');
    this.#worker = new Worker(new URL('./checkpoint-worker.js', import.meta.url), { workerData: data });
    this.#worker.unref(); // a process whose engine was never closed may still exit
    this.#worker.on('message', (reply: CheckpointReply) => this.#done(reply));
    this.#worker.on('error', (err) => this.#fallBack(err));
    this.#worker.on('exit', (code) => {
      if (!this.#stopping) this.#fallBack(new Error(`checkpoint worker exited with code ${code}`));
    });
  }

  get stats(): Readonly<CheckpointStats> {
    return this.#stats;
  }

  /** Called after each commit with its number of writes; asks for a checkpoint every CHECKPOINT_OPS. */
  committed(ops: number): void {
    this.#sinceLast += ops;
    this.#request();
  }

  /** Stops the worker (its connection closes first); resolves once the thread has ended. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    if (this.#stats.fellBack) return;
    const exited = new Promise<void>((resolve) => this.#worker.once('exit', () => resolve()));
    this.#worker.postMessage('stop');
    await exited;
  }

  #request(): void {
    if (this.#running || this.#stopping || this.#stats.fellBack || this.#sinceLast < CHECKPOINT_OPS) return;
    this.#running = true;
    this.#sinceLast = 0;
    this.#worker.postMessage('checkpoint');
  }

  #done(reply: CheckpointReply): void {
    this.#running = false;
    if (reply.ok) {
      this.#stats.runs++;
      this.#stats.walFrames = reply.frames;
      this.#stats.lastCheckpointed = reply.checkpointed;
      this.#log.debug({ frames: reply.frames, checkpointed: reply.checkpointed, ms: Math.round(reply.ms) }, 'sqlite WAL checkpoint');
    } else {
      this.#log.warn({ err: reply.message }, 'sqlite WAL checkpoint failed; the next one retries');
    }
    this.#request();
  }

  #fallBack(err: unknown): void {
    if (this.#stats.fellBack || this.#stopping) return;
    this.#stats.fellBack = true;
    this.#running = false;
    this.#log.error({ err }, 'the sqlite checkpoint worker failed: automatic checkpoints on the event loop from now on');
    if (this.#db.open) this.#db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
  }
}
