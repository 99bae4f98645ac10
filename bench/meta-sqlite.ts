/**
 * Metadata benchmark, SQLite half: creates, lookups, getattrs, renames and unlinks through the
 * Meta API (BaseMeta over SqliteEngine, the embedded default) at 1 and 32 concurrent callers, in
 * one directory and spread over many, next to a bare better-sqlite3 loop that inserts a node row
 * and an edge row per "create" in its own transaction (the floor of any create). Prints ops/s
 * and each op's ratio to that floor. Same file system, same pragmas (WAL, default synchronous).
 * Run alone: `node dist/bench/meta-sqlite.js`; bench/meta.ts calls benchSqlite().
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { BaseMeta } from '../src/meta/base.js';
import { openSqliteEngine } from '../src/meta/sqlite/engine.js';
import { openDatabase } from '../src/meta/sqlite/database.js';
import { tableNames } from '../src/meta/sqlite/schema.js';
import { type Credentials, type Format, type Ino, ROOT_INODE } from '../src/meta/types.js';

const CTX: Credentials = { uid: 0, gid: 0, gids: [] };
/** Files per (concurrency, layout) run; every phase touches each file once. FERRY_BENCH_FILES overrides. */
const FILES = Math.max(100, Number(process.env['FERRY_BENCH_FILES'] ?? 5000) || 5000);
const SPREAD_DIRS = 32;
const OPS = ['create', 'lookup', 'getattr', 'rename', 'unlink'] as const;
type Op = (typeof OPS)[number];

const VOLUME: Format = {
  Name: 'bench', UUID: '', Storage: 'file', Bucket: '/var/jfs/', BlockSize: 4096, Compression: 'none', TrashDays: 0, EnableACL: false,
};

interface Row {
  callers: number;
  layout: 'one dir' | 'spread';
  opsPerSec: Record<Op, number>;
}

/** Runs `fn(i)` for i in [0, total) with `callers` concurrent loops; returns ops/s. */
async function timed(total: number, callers: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: callers }, async () => {
    for (let i = next++; i < total; i = next++) await fn(i);
  }));
  const sec = Number(process.hrtime.bigint() - start) / 1e9;
  return total / sec;
}

async function metaRun(dir: string, callers: number, layout: Row['layout']): Promise<Row> {
  const engine = openSqliteEngine(`sqlite3://${join(dir, `meta-${callers}-${layout.replace(' ', '')}.db`)}`);
  const meta = new BaseMeta(engine);
  try {
    await meta.format(VOLUME);
    const dirs: Ino[] = [ROOT_INODE];
    if (layout === 'spread') {
      dirs.length = 0;
      for (let d = 0; d < SPREAD_DIRS; d++) dirs.push((await meta.mkdir(CTX, ROOT_INODE, Buffer.from(`d${d}`), 0o755, 0o022)).ino);
    }
    const parentOf = (i: number): Ino => dirs[i % dirs.length] ?? ROOT_INODE;
    const name = (i: number, gen: string): Buffer => Buffer.from(`${gen}-${i}`);
    const inos: Ino[] = new Array<Ino>(FILES);
    const opsPerSec = {} as Record<Op, number>;
    opsPerSec.create = await timed(FILES, callers, async (i) => {
      inos[i] = (await meta.create(CTX, parentOf(i), name(i, 'f'), 0o644, 0o022, true)).ino;
    });
    opsPerSec.lookup = await timed(FILES, callers, (i) => meta.lookup(CTX, parentOf(i), name(i, 'f')));
    opsPerSec.getattr = await timed(FILES, callers, async (i) => {
      const ino = inos[i];
      if (ino !== undefined) await meta.getattr(ino);
    });
    opsPerSec.rename = await timed(FILES, callers, (i) => meta.rename(CTX, parentOf(i), name(i, 'f'), parentOf(i), name(i, 'g')));
    opsPerSec.unlink = await timed(FILES, callers, (i) => meta.unlink(CTX, parentOf(i), name(i, 'g')));
    return { callers, layout, opsPerSec };
  } finally {
    await meta.close();
  }
}

/** The floor: one transaction per create inserting a jfs_node row and a jfs_edge row, nothing else. */
function bareCreates(dir: string): number {
  const names = tableNames();
  const db: Database.Database = openDatabase(join(dir, 'bare.db'), names);
  try {
    const node = db.prepare(
      `INSERT INTO ${names.node} (inode, type, flags, mode, uid, gid, atime, mtime, ctime, atimensec, mtimensec, ctimensec, nlink, length, rdev, parent, access_acl_id, default_acl_id, tier_id) ` +
      `VALUES (?, 1, 0, 420, 0, 0, ?, ?, ?, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0)`,
    );
    const edge = db.prepare(`INSERT INTO ${names.edge} (parent, name, inode, type) VALUES (1, ?, ?, 1)`);
    const create = db.transaction((ino: number) => {
      const us = Date.now() * 1000;
      node.run(ino, us, us, us);
      edge.run(Buffer.from(`f-${ino}`), ino);
    });
    const start = process.hrtime.bigint();
    for (let i = 0; i < FILES; i++) create.immediate(i + 2);
    return FILES / (Number(process.hrtime.bigint() - start) / 1e9);
  } finally {
    db.close();
  }
}

const fmt = (n: number): string => Math.round(n).toString().padStart(8);

export async function benchSqlite(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-sqlite-'));
  try {
    const bare = bareCreates(dir);
    const rows: Row[] = [];
    for (const callers of [1, 32]) {
      for (const layout of ['one dir', 'spread'] as const) rows.push(await metaRun(dir, callers, layout));
    }
    console.log(`\nSQLite metadata (BaseMeta over SqliteEngine), ${FILES} files per run, ops/s (ratio to the bare insert loop)`);
    console.log(`bare better-sqlite3 create (node + edge row, one txn each): ${fmt(bare)} ops/s`);
    console.log(`callers  layout   ${OPS.map((o) => o.padStart(17)).join('')}`);
    for (const r of rows) {
      const cells = OPS.map((o) => `${fmt(r.opsPerSec[o])} (${(r.opsPerSec[o] / bare).toFixed(2)})`.padStart(17));
      console.log(`${String(r.callers).padStart(7)}  ${r.layout.padEnd(7)}  ${cells.join('')}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchSqlite().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
