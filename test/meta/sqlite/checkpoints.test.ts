// Background WAL checkpoints (ferry serve's SQLite engine): the engine's own connection never
// checkpoints inside a commit, a worker thread keeps the WAL from growing, nothing is lost across a
// reopen, and a worker that cannot run hands checkpoints back to SQLite.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { BaseMeta } from '../../../src/meta/base.js';
import { BackgroundCheckpoints, CHECKPOINT_OPS } from '../../../src/meta/sqlite/checkpoints.js';
import { openSqliteEngine } from '../../../src/meta/sqlite/engine.js';
import { type Credentials, type Format, type Ino, ROOT_INODE } from '../../../src/meta/types.js';
import { logger } from '../../../src/observability/logger.js';

const CTX: Credentials = { uid: 0, gid: 0, gids: [] };
const VOLUME: Format = {
  Name: 'ckpt', UUID: '', Storage: 'file', Bucket: '/var/jfs/', BlockSize: 4096, Compression: 'none', TrashDays: 0, EnableACL: false,
};
const MiB = 1024 * 1024;

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('sqlite background checkpoints', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'ferry-ckpt-')); });
  afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

  it('a worker checkpoints while files are created, the WAL stays small, and every file is there after a reopen', async () => {
    const url = `sqlite3://${join(dir, 'meta.db')}`;
    const engine = openSqliteEngine(url, { backgroundCheckpoints: true });
    const meta = new BaseMeta(engine);
    const files = 12 * CHECKPOINT_OPS;
    try {
      await meta.format(VOLUME);
      const dirs: Ino[] = [];
      for (let d = 0; d < 8; d++) dirs.push((await meta.mkdir(CTX, ROOT_INODE, Buffer.from(`d${d}`), 0o755, 0)).ino);
      let next = 0;
      await Promise.all(Array.from({ length: 8 }, async () => {
        for (let i = next++; i < files; i = next++) await meta.create(CTX, dirs[i % dirs.length] ?? ROOT_INODE, Buffer.from(`f${i}`), 0o644, 0, true);
      }));
      await until('a checkpoint by the worker', () => (engine.checkpointStats?.runs ?? 0) > 0);
      const stats = engine.checkpointStats;
      assert.ok(stats !== null && stats.lastCheckpointed > 0 && !stats.fellBack, JSON.stringify(stats));
      // without checkpoints these creates leave about 8 frames of 4 KiB each in the WAL: ~40 MiB
      const walBytes = statSync(join(dir, 'meta.db-wal')).size;
      assert.ok(walBytes < 16 * MiB, `WAL of ${walBytes} bytes: not checkpointed`);
    } finally {
      await meta.close();
    }
    const again = new BaseMeta(openSqliteEngine(url));
    try {
      let seen = 0;
      for (let d = 0; d < 8; d++) {
        const { ino } = await again.lookup(CTX, ROOT_INODE, Buffer.from(`d${d}`));
        for await (const e of again.readdir(CTX, ino)) if (e.name.toString().startsWith('f')) seen++;
      }
      assert.equal(seen, files);
    } finally {
      await again.close();
    }
  });

  it('a worker that cannot open the database hands checkpoints back to SQLite', async () => {
    const db = new Database(join(dir, 'real.db'));
    try {
      db.pragma('journal_mode = WAL');
      const checkpoints = new BackgroundCheckpoints(db, { path: join(dir, 'missing.db'), busyTimeoutMs: 100 }, logger);
      assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 0);
      await until('the fallback', () => checkpoints.stats.fellBack);
      assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 1000);
      checkpoints.committed(10 * CHECKPOINT_OPS); // asks nothing of a dead worker
      await checkpoints.stop();
    } finally {
      db.close();
    }
  });
});
