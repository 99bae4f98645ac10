/**
 * The worker thread of BackgroundCheckpoints (checkpoints.ts): a connection of its own to the
 * database file, which runs a PASSIVE checkpoint for each 'checkpoint' message and answers with
 * its outcome; 'stop' closes the connection and ends the thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { CheckpointReply, CheckpointWorkerData } from './checkpoints.js';

const port = parentPort;
if (port === null) throw new Error('checkpoint-worker runs as a worker thread');
const { path, busyTimeoutMs } = workerData as CheckpointWorkerData;
const db = new Database(path, { fileMustExist: true });
db.pragma(`busy_timeout = ${busyTimeoutMs}`);

port.on('message', (m: unknown) => {
  if (m === 'stop') {
    db.close();
    port.close();
    return;
  }
  const started = performance.now();
  let reply: CheckpointReply;
  try {
    // PASSIVE: copies what no reader still needs, never waits for or blocks the writer
    const rows = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
    const r = rows[0];
    reply = { ok: true, frames: r?.log ?? 0, checkpointed: r?.checkpointed ?? 0, ms: performance.now() - started };
  } catch (err) {
    reply = { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply);
});
