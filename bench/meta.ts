/**
 * Metadata benchmark (`npm run bench:meta`): creates, lookups, getattrs, renames and unlinks through
 * the Meta API (BaseMeta over an engine) at 1 and 32 concurrent callers, in one directory and spread
 * over many, next to a ceiling measured in the same run on the same server: a bare Lua create
 * script (SET attr + HSET entry + INCRBY counters) driven by ioredis at the same concurrency.
 * Prints ops/s, every ratio to the ceiling, CPU per op (this process + redis-server, the robust
 * figure on a shared machine) and commands (round trips at concurrency 1) per op.
 * Starts and stops its own redis-server; no timing assertions, numbers only.
 */
import { benchSqlite } from './meta-sqlite.js';
import { Redis } from 'ioredis';
import { BaseMeta } from '../src/meta/base.js';
import { RedisEngine } from '../src/meta/redis/engine.js';
import { encodeAttr, encodeEntry } from '../src/meta/encoding.js';
import { type Attr, type Credentials, type Format, type Ino, FileType, ROOT_INODE, toIno } from '../src/meta/types.js';
import { startRedis, type RedisServer } from '../test/helpers/redis-server.js';
import { removeTmpDirs } from '../test/helpers/tmp.js';

const ROOT: Credentials = { uid: 0, gid: 0, gids: [] };
const CONCURRENCY = [1, 32] as const;
const LAYOUTS = ['one dir', 'spread'] as const;
type Layout = (typeof LAYOUTS)[number];
const SPREAD_DIRS = 64;
/** Operations per measurement; concurrency 1 is latency-bound, so it gets fewer. */
const OPS: Record<number, number> = { 1: 2_000, 32: 10_000 };
/**
 * Each figure is the best of ROUNDS runs, ceiling and engine interleaved, after one discarded
 * warm-up run: other processes on a shared machine only ever make a run slower.
 */
const ROUNDS = 3;
const OPERATIONS = ['create', 'lookup', 'getattr', 'rename', 'unlink'] as const;
type Operation = (typeof OPERATIONS)[number];

const VOLUME: Format = { Name: 'bench', UUID: '', Storage: 'file', Bucket: '/tmp/bench/', BlockSize: 4096, Compression: 'none', TrashDays: 0, EnableACL: false };

interface Result {
  engine: string;
  op: Operation | 'ceiling create';
  concurrency: number;
  layout: Layout;
  opsPerSec: number;
  commandsPerOp: number;
  /** CPU of this process plus the redis-server per operation, in µs (robust on a busy machine). */
  cpuUsPerOp: number;
}

/** CPU seconds the redis-server has used so far (INFO cpu), read over a separate connection. */
async function serverCpuSec(admin: Redis): Promise<number> {
  const info = await admin.info('cpu');
  const f = (name: string): number => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return f('used_cpu_user') + f('used_cpu_sys');
}

/** Runs `op(i)` for i in [0, n) with `concurrency` callers; answers ops/s and CPU µs per op. */
async function drive(admin: Redis, n: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<{ opsPerSec: number; cpuUsPerOp: number }> {
  const cpu0 = process.cpuUsage();
  const server0 = await serverCpuSec(admin);
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, async (_, w) => {
    for (let i = w; i < n; i += concurrency) await op(i);
  }));
  const sec = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const server = await serverCpuSec(admin) - server0;
  return { opsPerSec: n / sec, cpuUsPerOp: ((cpu.user + cpu.system) / 1e6 + server) * 1e6 / n };
}

/** An ioredis client that counts the commands it sends (each is a round trip when issued alone). */
function countingClient(port: number, db: number, autoPipelining: boolean): { client: Redis; count: () => number } {
  const client = new Redis({ host: '127.0.0.1', port, db, enableAutoPipelining: autoPipelining, lazyConnect: true });
  let n = 0;
  const send = client.sendCommand.bind(client);
  client.sendCommand = ((...args: Parameters<Redis['sendCommand']>) => { n++; return send(...args); }) as Redis['sendCommand'];
  return { client, count: () => n };
}

async function freshDb(srv: RedisServer, db: number): Promise<void> {
  const admin = new Redis({ host: '127.0.0.1', port: srv.port, db });
  await admin.flushdb();
  admin.disconnect();
}

/** One engine under test: how to open BaseMeta over it on a fresh volume. */
interface BenchTarget {
  name: string;
  open(db: number): Promise<{ meta: BaseMeta; commands: () => number; close(): Promise<void> }>;
}

function redisTarget(srv: RedisServer): BenchTarget {
  return {
    name: 'redis',
    async open(db) {
      await freshDb(srv, db);
      // as openRedisEngine configures it: no ioredis auto-pipelining, the engine batches itself
      const { client, count } = countingClient(srv.port, db, false);
      await client.connect();
      const engine = new RedisEngine(client, '');
      await engine.loadScripts();
      const meta = new BaseMeta(engine);
      await meta.format(VOLUME);
      return { meta, commands: count, close: () => meta.close() };
    },
  };
}

// SQLite has its own ceiling (a bare better-sqlite3 insert loop), so it runs as its own half:
// bench/meta-sqlite.ts, called at the end of main().

async function benchTarget(admin: Redis, target: BenchTarget, db: number, concurrency: number, layout: Layout): Promise<Result[]> {
  const n = OPS[concurrency] ?? 1000;
  const { meta, commands, close } = await target.open(db);
  const results: Result[] = [];
  try {
    const dirs: Ino[] = [];
    if (layout === 'one dir') dirs.push((await meta.mkdir(ROOT, ROOT_INODE, Buffer.from('bench'), 0o755, 0)).ino);
    else for (let d = 0; d < SPREAD_DIRS; d++) dirs.push((await meta.mkdir(ROOT, ROOT_INODE, Buffer.from(`d${d}`), 0o755, 0)).ino);
    const dirOf = (i: number): Ino => dirs[i % dirs.length] ?? ROOT_INODE;
    const inos: Ino[] = new Array<Ino>(n);
    const run: Record<Operation, (i: number) => Promise<unknown>> = {
      create: async (i) => { inos[i] = (await meta.create(ROOT, dirOf(i), Buffer.from(`f${i}`), 0o644, 0o022, true)).ino; },
      lookup: (i) => meta.lookup(ROOT, dirOf(i), Buffer.from(`f${i}`)),
      getattr: (i) => meta.getattr(inos[i] ?? ROOT_INODE),
      rename: (i) => meta.rename(ROOT, dirOf(i), Buffer.from(`f${i}`), dirOf(i), Buffer.from(`r${i}`)),
      unlink: (i) => meta.unlink(ROOT, dirOf(i), Buffer.from(`r${i}`)),
    };
    for (const op of OPERATIONS) {
      const before = commands();
      const d = await drive(admin, n, concurrency, run[op]);
      results.push({ engine: target.name, op, concurrency, layout, ...d, commandsPerOp: (commands() - before) / n });
    }
  } finally {
    await close();
  }
  return results;
}

const BARE_CREATE = `
redis.call('SET', KEYS[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('INCRBY', KEYS[3], 4096)
redis.call('INCR', KEYS[4])
return 1`;

/**
 * The ceiling: a minimal create script (no checks, no parent update) at the same concurrency,
 * one EVALSHA per create, with ioredis auto-pipelining on or off (the caller keeps the faster).
 */
async function benchCeiling(admin: Redis, srv: RedisServer, db: number, concurrency: number, layout: Layout, autoPipelining: boolean): Promise<Result> {
  const n = OPS[concurrency] ?? 1000;
  await freshDb(srv, db);
  const { client, count } = countingClient(srv.port, db, autoPipelining);
  await client.connect();
  try {
    const sha = String(await client.script('LOAD', BARE_CREATE));
    const attr: Attr = {
      flags: 0, type: FileType.File, mode: 0o644, uid: 0, gid: 0, atime: 1, atimeNs: 0, mtime: 1, mtimeNs: 0, ctime: 1, ctimeNs: 0,
      nlink: 1, length: 0, rdev: 0, parent: ROOT_INODE, accessAclId: 0, defaultAclId: 0, tier: 0,
    };
    const dirs = layout === 'one dir' ? 1 : SPREAD_DIRS;
    const before = count();
    const d = await drive(admin, n, concurrency, (i) => {
      const ino = toIno(1000 + i);
      return client.evalsha(sha, 4, `i${ino}`, `d${2 + (i % dirs)}`, 'usedSpace', 'totalInodes',
        Buffer.from(`f${i}`), encodeAttr({ ...attr, parent: toIno(2 + (i % dirs)) }), encodeEntry(FileType.File, ino));
    });
    return { engine: 'redis', op: 'ceiling create', concurrency, layout, ...d, commandsPerOp: (count() - before) / n };
  } finally {
    client.disconnect();
  }
}

function print(results: Result[]): void {
  const ceiling = (r: Result): Result | undefined =>
    results.find((c) => c.op === 'ceiling create' && c.concurrency === r.concurrency && c.layout === r.layout);
  const rows = results.map((r) => {
    const c = ceiling(r);
    return [r.engine, r.op, String(r.concurrency), r.layout, r.opsPerSec.toFixed(0), c === undefined ? '-' : c.opsPerSec.toFixed(0),
      c === undefined ? '-' : (r.opsPerSec / c.opsPerSec).toFixed(2), r.cpuUsPerOp.toFixed(1),
      c === undefined ? '-' : (c.cpuUsPerOp / r.cpuUsPerOp).toFixed(2), r.commandsPerOp.toFixed(2)];
  });
  const head = ['engine', 'op', 'callers', 'layout', 'ops/s', 'ceiling ops/s', 'ratio', 'cpu µs/op', 'cpu ratio', 'cmds/op'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ');
  process.stdout.write(`${line(head)}\n${line(widths.map((w) => '-'.repeat(w)))}\n`);
  for (const r of rows) process.stdout.write(`${line(r)}\n`);
  process.stdout.write(`\nbest of ${ROUNDS} runs each (highest ops/s). ratio = ops/s / ceiling ops/s.\n`);
  process.stdout.write('cpu µs/op = CPU of this process + redis-server per op; cpu ratio = ceiling cpu / op cpu (robust when\n');
  process.stdout.write('  other processes share the machine). cmds/op = commands sent per op; at 1 caller, round trips.\n');
  process.stdout.write('ceiling = bare Lua create (SET attr, HSET entry, INCRBY usedSpace/totalInodes), one EVALSHA per create,\n');
  process.stdout.write('  best of ioredis auto-pipelining on and off, on the same server.\n');
  for (const layout of LAYOUTS) {
    const r = results.find((x) => x.op === 'create' && x.concurrency === 32 && x.layout === layout);
    const c = r === undefined ? undefined : ceiling(r);
    if (r === undefined || c === undefined) continue;
    const ratio = r.opsPerSec / c.opsPerSec;
    process.stdout.write(`target: creates at 32 callers (${layout}) >= 0.75 of ceiling: ${ratio.toFixed(2)} ${ratio >= 0.75 ? 'MET' : 'NOT MET'}` +
      ` (cpu ratio ${(c.cpuUsPerOp / r.cpuUsPerOp).toFixed(2)})\n`);
  }
}

/** Best (highest ops/s) result per (engine, op) over the rounds. */
function best(all: Result[]): Result[] {
  const out = new Map<string, Result>();
  for (const r of all) {
    const k = `${r.engine}|${r.op}`;
    const cur = out.get(k);
    if (cur === undefined || r.opsPerSec > cur.opsPerSec) out.set(k, r);
  }
  return [...out.values()];
}

async function main(): Promise<void> {
  const srv = await startRedis({ databases: 16 });
  const admin = new Redis({ host: '127.0.0.1', port: srv.port });
  const results: Result[] = [];
  try {
    const targets: BenchTarget[] = [redisTarget(srv)];
    for (const concurrency of CONCURRENCY) {
      for (const layout of LAYOUTS) {
        const runs: Result[] = [];
        for (let round = 0; round <= ROUNDS; round++) {
          const ceilings = [await benchCeiling(admin, srv, 1, concurrency, layout, false), await benchCeiling(admin, srv, 1, concurrency, layout, true)];
          const engines: Result[] = [];
          for (const t of targets) engines.push(...await benchTarget(admin, t, 2, concurrency, layout));
          if (round > 0) runs.push(...ceilings, ...engines);
        }
        results.push(...best(runs));
      }
    }
  } finally {
    admin.disconnect();
    await srv.stop();
    removeTmpDirs();
  }
  print(results);
  await benchSqlite();
}

await main();
