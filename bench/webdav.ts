/**
 * WebDAV benchmark (`npm run bench:webdav [-- --quick]`): Ferry (embedded default volume; Redis
 * metadata + file store for PROPFIND) next to Debian's Apache httpd with mod_dav_fs serving a
 * directory on the same disk, in one run. Apache runs as our child with a private config in a temp
 * dir on a free loopback port (the system apache2 service is never touched). Measures GET and PUT
 * of a large file with curl; 1,000 PUTs of 4 KiB over 16 keep-alive connections (after 3,000
 * untimed warm-up PUTs on every server) with each server's CPU time per PUT (its whole process
 * tree); PROPFIND Depth 1 of a 10,000-file directory (median of 7 after 3 untimed); and Ferry's
 * peak RSS (VmHWM) over the large transfers. Each server's directory gets its own ext4 block group
 * and no files are deleted before the end (see spreadDirectories). Apache is measured first and
 * again last, and ratios are taken against its better run (a shared machine's load drifts). The
 * small PUTs are also measured against durable-put-peer (fsync of each file and its directory,
 * nothing else): Apache answers without fsync, Ferry only once the bytes are durable. Figures and
 * ratios only; asserts nothing beyond status codes and the PROPFIND entry count.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/free-port.js';
import { startRedis, type RedisServer } from '../test/helpers/redis-server.js';
import {
  MiB, PRODUCTION_REDIS_ARGS, betterRun, drive, dropPageCache, spreadDirectories, spreadName, formatFileVolume, mbs, note, num, peakRss, percentile, runOk, seconds, startChild, startFerry, table, timedRun, times, treeCpuMs, verdict,
  type ChildServer,
} from './lib.js';

const QUICK = process.argv.includes('--quick');
/** `--only small` (the small PUTs, embedded Ferry vs Apache) or `--only propfind` (PROPFIND only); default: everything. */
const ONLY = ((): 'small' | 'propfind' | undefined => {
  const i = process.argv.indexOf('--only');
  const v = i < 0 ? undefined : process.argv[i + 1];
  if (v !== undefined && v !== 'small' && v !== 'propfind') throw new Error(`--only small|propfind, not ${v}`);
  return v;
})();
const BIG_BYTES = (QUICK ? 128 : 1024) * MiB;
const SMALL_PUTS = 1000;
/**
 * PUTs into another collection before the timed ones, on every server: a server that has run a
 * while is what clients meet. Ferry's JIT was still compiling after 500 (V8's compiler threads
 * took ~0.13 ms of CPU per PUT then, ~0.04 after 6,000).
 */
const WARMUP_PUTS = 3000;
const SMALL_BYTES = 4096;
const CONNECTIONS = 16;
const LISTING = QUICK ? 1000 : 10_000;
const PROPFIND_RUNS = 7;
/** Untimed PROPFINDs of each kind first, on every server: Ferry's listing code is otherwise timed while V8 still compiles it. */
const PROPFIND_WARMUP = 3;
const RSS_TARGET = 300 * MiB;
const MODULES = '/usr/lib/apache2/modules';

interface Figures {
  putMBs?: number;
  getMBs?: number;
  smallPerSec?: number;
  /** Server CPU (its process tree: user + system) per small PUT, ms. */
  smallCpuMs?: number;
  propfindSec?: number;
  propfindLiveSec?: number;
  rss?: number | undefined;
}

/** One HTTP request on a keep-alive agent; answers the status and the body. */
function http(agent: Agent, port: number, method: string, path: string, body?: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(body.length) }) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end(body);
  });
}

async function ok(what: string, p: Promise<{ status: number; body: Buffer }>): Promise<Buffer> {
  const r = await p;
  if (r.status < 200 || r.status >= 300) throw new Error(`${what}: HTTP ${r.status} ${r.body.toString().slice(0, 300)}`);
  return r.body;
}

/** 1 GiB PUT then GET with curl; answers MB/s of each. */
async function bigTransfers(port: number, src: string): Promise<{ putMBs: number; getMBs: number }> {
  const url = `http://127.0.0.1:${port}/big.bin`;
  dropPageCache(); // every server writes into the same kind of pages (see dropPageCache)
  note(`PUT ${BIG_BYTES / MiB} MiB`);
  const put = await timedRun('curl', ['-sSf', '-T', src, '-o', '/dev/null', url]);
  note(`GET ${BIG_BYTES / MiB} MiB`);
  const get = await timedRun('curl', ['-sSf', '-o', '/dev/null', url]);
  const size = await runOk('curl', ['-sSf', '-I', url]);
  if (!new RegExp(`content-length: ${BIG_BYTES}\\b`, 'i').test(size)) throw new Error(`HEAD after PUT: ${size}`);
  return { putMBs: mbs(BIG_BYTES, put), getMBs: mbs(BIG_BYTES, get) };
}

/** `n` PUTs of 4 KiB into a new collection over CONNECTIONS keep-alive connections; answers files/s. */
async function smallPuts(agent: Agent, port: number, dir: string, n: number): Promise<number> {
  await ok(`MKCOL /${dir}/`, http(agent, port, 'MKCOL', `/${dir}/`));
  const body = Buffer.alloc(SMALL_BYTES, 'x');
  const sec = await drive(n, CONNECTIONS, (i) => ok(`PUT /${dir}/f${i}`, http(agent, port, 'PUT', `/${dir}/f${i}`, body)));
  return n / sec;
}

/** What file browsers ask for (a named-props PROPFIND of live properties only). */
const LIVE_PROPS = Buffer.from('<?xml version="1.0" encoding="utf-8"?>\n<D:propfind xmlns:D="DAV:"><D:prop>'
  + '<D:resourcetype/><D:getcontentlength/><D:getlastmodified/><D:creationdate/></D:prop></D:propfind>');

/** PROPFIND Depth 1 of /many/ (allprop without a body, or `body`); answers the median seconds. */
async function propfind(agent: Agent, port: number, body?: Buffer): Promise<number> {
  const headers: Record<string, string> = { depth: '1', ...(body === undefined ? {} : { 'content-type': 'application/xml' }) };
  const runs: number[] = [];
  for (let i = 0; i < PROPFIND_WARMUP; i++) await ok('PROPFIND /many/', http(agent, port, 'PROPFIND', '/many/', body, headers));
  for (let i = 0; i < PROPFIND_RUNS; i++) {
    const start = process.hrtime.bigint();
    const answer = await ok('PROPFIND /many/', http(agent, port, 'PROPFIND', '/many/', body, headers));
    runs.push(seconds(start));
    const entries = answer.toString().match(/<([A-Za-z0-9]+:)?response[\s>]/g)?.length ?? 0;
    if (entries !== LISTING + 1) throw new Error(`PROPFIND listed ${entries} responses, expected ${LISTING + 1}`);
  }
  return percentile(runs, 50);
}

/** `rssPid`: the process whose peak RSS is a figure (Ferry); `serverPid`: the root of the server's process tree. */
async function measure(name: string, port: number, src: string, server: { rssPid?: number; serverPid: number }, wanted: { big: boolean; small: boolean }): Promise<Figures> {
  const parts = { big: wanted.big && ONLY === undefined, small: wanted.small && ONLY !== 'propfind', propfind: ONLY !== 'small' };
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  try {
    const f: Figures = {};
    if (parts.big) {
      note(`${name}: large transfers`);
      Object.assign(f, await bigTransfers(port, src));
      if (server.rssPid !== undefined) f.rss = peakRss(server.rssPid);
    }
    if (parts.small) {
      note(`${name}: ${WARMUP_PUTS} warm-up PUTs, then ${SMALL_PUTS} small PUTs`);
      await smallPuts(agent, port, 'warmup', WARMUP_PUTS);
      const cpu = treeCpuMs(server.serverPid);
      f.smallPerSec = await smallPuts(agent, port, 'small', SMALL_PUTS);
      f.smallCpuMs = (treeCpuMs(server.serverPid) - cpu) / SMALL_PUTS;
    }
    if (!parts.propfind) return f;
    note(`${name}: PROPFIND, ${LISTING} PUTs first`);
    await smallPuts(agent, port, 'many', LISTING);
    f.propfindSec = await propfind(agent, port);
    f.propfindLiveSec = await propfind(agent, port, LIVE_PROPS);
    return f;
  } finally {
    agent.destroy();
  }
}

/** Apache httpd (event MPM, mod_dav_fs) serving `root`, from a private config in `dir`. */
async function startApache(dir: string, root: string, port: number): Promise<ChildServer> {
  const conf = join(dir, 'httpd.conf');
  writeFileSync(conf, [
    `ServerRoot ${dir}`, `DefaultRuntimeDir ${dir}`, `PidFile ${join(dir, 'httpd.pid')}`, `ErrorLog ${join(dir, 'error.log')}`,
    `Listen 127.0.0.1:${port}`, 'ServerName 127.0.0.1',
    ...['mpm_event', 'authz_core', 'dav', 'dav_fs'].map((m) => `LoadModule ${m}_module ${MODULES}/mod_${m}.so`),
    'User www-data', 'Group www-data',
    'KeepAlive On', 'MaxKeepAliveRequests 0', 'LimitRequestBody 0',
    `DavLockDB ${join(dir, 'DavLock')}`, `DocumentRoot ${root}`,
    `<Directory ${root}>`, '  Dav On', '  Require all granted', '</Directory>', '',
  ].join('\n'));
  const www = spawnSync('id', ['-u', 'www-data'], { encoding: 'utf8' });
  const uid = Number(www.stdout.trim());
  const gid = Number(spawnSync('id', ['-g', 'www-data'], { encoding: 'utf8' }).stdout.trim());
  if (www.status !== 0 || !Number.isInteger(uid)) throw new Error('user www-data missing (apt-get install apache2)');
  chmodSync(join(dir, '..'), 0o755); // mkdtemp made it 0700; www-data must reach the DAV root
  chownSync(root, uid, gid);
  chownSync(dir, uid, gid);
  return startChild('apache2', ['-f', conf, '-DFOREGROUND'], port, { timeoutMs: 20_000 });
}

/** Small PUTs against durable-put-peer on a fresh directory; files/s and its CPU per PUT. */
async function durableFloor(work: string): Promise<Figures> {
  const port = await freePort();
  const root = join(work, spreadName('durable-peer'));
  mkdirSync(root);
  note('durable-put-peer: small PUTs');
  const peer = await startChild(process.execPath, [join(dirname(fileURLToPath(import.meta.url)), 'durable-put-peer.js'), String(port), root], port);
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  try {
    await smallPuts(agent, port, 'warmup', WARMUP_PUTS);
    const cpu = treeCpuMs(peer.pid);
    const smallPerSec = await smallPuts(agent, port, 'small', SMALL_PUTS);
    return { smallPerSec, smallCpuMs: (treeCpuMs(peer.pid) - cpu) / SMALL_PUTS };
  } finally {
    agent.destroy();
    await peer.stop();
  }
}

/** Per figure, the better of two runs of the peer (more MB/s and files/s, fewer seconds). */
const bestOf = (a: Figures, b: Figures): Figures => betterRun(a, b, new Set(['propfindSec', 'propfindLiveSec', 'smallCpuMs']));

function print(apache: Figures, runs: Figures[], ferry: Figures, redis: Figures, durable: Figures): void {
  const each = (pick: (f: Figures) => number | undefined, digits?: number): string[] => runs.map((f) => num(pick(f), digits));
  const blank = runs.map(() => '');
  table(`WebDAV: ${BIG_BYTES / MiB} MiB PUT/GET with curl; ${SMALL_PUTS} PUTs of 4 KiB and PROPFIND (median of ${PROPFIND_RUNS} after ${PROPFIND_WARMUP} untimed) with a Node http client, ${CONNECTIONS} keep-alive connections. Apache measured first and again last; ratios against its better run. ratio > 1: Ferry better`, [
    ['figure', 'apache', 'apache again', 'peer', 'ferry', 'ratio', 'ferry+redis', 'ratio'],
    ['PUT 1 file, MB/s', ...each((f) => f.putMBs), num(apache.putMBs), num(ferry.putMBs), times(ferry.putMBs, apache.putMBs), '', ''],
    ['GET 1 file, MB/s', ...each((f) => f.getMBs), num(apache.getMBs), num(ferry.getMBs), times(ferry.getMBs, apache.getMBs), '', ''],
    ['small PUTs, files/s', ...each((f) => f.smallPerSec, 0), num(apache.smallPerSec, 0), num(ferry.smallPerSec, 0), times(ferry.smallPerSec, apache.smallPerSec), '', ''],
    ['small PUTs, files/s, vs durable-put-peer (fsync file + dir)', ...blank, num(durable.smallPerSec, 0), num(ferry.smallPerSec, 0), times(ferry.smallPerSec, durable.smallPerSec), '', ''],
    ['small PUTs, server CPU ms per PUT', ...each((f) => f.smallCpuMs, 3), num(apache.smallCpuMs, 3), num(ferry.smallCpuMs, 3), times(apache.smallCpuMs, ferry.smallCpuMs), '', ''],
    ['small PUTs, server CPU ms per PUT, vs durable-put-peer', ...blank, num(durable.smallCpuMs, 3), num(ferry.smallCpuMs, 3), times(durable.smallCpuMs, ferry.smallCpuMs), '', ''],
    [`PROPFIND Depth 1 of ${LISTING} files, allprop, s`, ...each((f) => f.propfindSec, 3), num(apache.propfindSec, 3), num(ferry.propfindSec, 3),
      times(apache.propfindSec, ferry.propfindSec), num(redis.propfindSec, 3), times(apache.propfindSec, redis.propfindSec)],
    [`PROPFIND Depth 1 of ${LISTING} files, 4 live props, s`, ...each((f) => f.propfindLiveSec, 3), num(apache.propfindLiveSec, 3), num(ferry.propfindLiveSec, 3),
      times(apache.propfindLiveSec, ferry.propfindLiveSec), num(redis.propfindLiveSec, 3), times(apache.propfindLiveSec, redis.propfindLiveSec)],
    ['ferry peak RSS (VmHWM) after the large transfers, MiB', ...blank, '', num(ferry.rss === undefined ? undefined : ferry.rss / MiB, 0), '', '', ''],
  ]);
  const ge = (a: number | undefined, b: number | undefined): boolean | undefined => (a === undefined || b === undefined ? undefined : a >= b);
  table('targets', [
    ['target', 'verdict'],
    ['GET >= apache MB/s (embedded)', verdict(ge(ferry.getMBs, apache.getMBs))],
    ['PUT >= apache MB/s (embedded)', verdict(ge(ferry.putMBs, apache.putMBs))],
    ['small PUTs >= apache', verdict(ge(ferry.smallPerSec, apache.smallPerSec))],
    [`PROPFIND allprop of ${LISTING} no slower than apache (redis)`, verdict(ge(apache.propfindSec, redis.propfindSec))],
    [`PROPFIND live props of ${LISTING} no slower than apache (redis)`, verdict(ge(apache.propfindLiveSec, redis.propfindLiveSec))],
    ['peak RSS during the large transfers < 300 MiB', verdict(ferry.rss === undefined ? undefined : ferry.rss < RSS_TARGET)],
  ]);
}

async function main(): Promise<void> {
  for (const tool of ['apache2', 'curl', 'redis-server']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) throw new Error(`bench:webdav needs ${tool} (apt-get install ${tool === 'apache2' ? 'apache2' : tool})`);
  }
  const cpu = spawnSync('sh', ['-c', "nproc; grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], { encoding: 'utf8' }).stdout.trim().replace(/\s*\n\s*/, ' cores,');
  process.stdout.write(`ferry WebDAV benchmark${QUICK ? ' (--quick)' : ''}: ${new Date().toISOString()}, ${cpu}\n`);
  const work = mkdtempSync(join(tmpdir(), 'ferry-bench-webdav-'));
  if (!await spreadDirectories(work)) note('chattr +T failed: the servers\' directories may share an ext4 block group');
  const shm = mkdtempSync(join('/dev/shm', 'ferry-bench-webdav-'));
  const src = join(shm, 'src.bin');
  let redis: RedisServer | undefined;
  try {
    if (ONLY === undefined) await runOk('sh', ['-c', `head -c ${BIG_BYTES} /dev/urandom > '${src}'`]);

    // Nothing is deleted until the end either (see spreadDirectories).
    const apacheRun = async (name: string, n: number): Promise<Figures> => {
      const apacheDir = join(work, spreadName(`apache-${n}`));
      const davRoot = join(work, spreadName(`apache-root-${n}`));
      mkdirSync(apacheDir);
      mkdirSync(davRoot);
      const apachePort = await freePort();
      note(`${name}: starting`);
      const apache = await startApache(apacheDir, davRoot, apachePort);
      try {
        return await measure(name, apachePort, src, { serverPid: apache.pid }, { big: true, small: true });
      } finally {
        await apache.stop();
      }
    };
    const apacheFirst = await apacheRun('apache', 1);
    const durable = ONLY === 'propfind' ? {} : await durableFloor(work);

    const ferryFigures = await withFerry('ferry', join(work, spreadName('embedded')), undefined, (port, pid) => measure('ferry', port, src, { rssPid: pid, serverPid: pid }, { big: true, small: true }));

    let redisFigures: Figures = {};
    if (ONLY !== 'small') {
      redis = await startRedis({ databases: 2, args: PRODUCTION_REDIS_ARGS });
      const url = redis.url(1);
      const redisDir = join(work, spreadName('redis'));
      await formatFileVolume(url, redisDir);
      redisFigures = await withFerry('ferry+redis', redisDir, url, (port, pid) => measure('ferry+redis', port, src, { rssPid: pid, serverPid: pid }, { big: false, small: false }));
    }

    const apacheAgain = await apacheRun('apache again', 2);
    print(bestOf(apacheFirst, apacheAgain), [apacheFirst, apacheAgain], ferryFigures, redisFigures, durable);
  } finally {
    await redis?.stop();
    rmSync(shm, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}

async function withFerry(name: string, dir: string, metaUrl: string | undefined, fn: (port: number, pid: number) => Promise<Figures>): Promise<Figures> {
  const port = await freePort();
  note(`${name}: starting ferry serve`);
  const ferry = await startFerry({ dataDir: dir, webdavPort: port, ...(metaUrl === undefined ? {} : { metaUrl }) });
  try {
    return await fn(port, ferry.pid);
  } catch (err) {
    process.stderr.write(`--- ${name} log tail ---\n${ferry.log()}\n`);
    throw err;
  } finally {
    await ferry.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
