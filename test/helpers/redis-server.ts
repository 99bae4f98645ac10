/**
 * Starts a real redis-server (Debian package) on a free loopback port with its own temp dir,
 * waits until it answers PING, and stops it by PID. One server per test run (see hooks.ts);
 * each test uses its own logical db via redisUrlForTest().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { freePort } from './free-port.js';
import { tmpDir } from './tmp.js';

export interface RedisServer {
  port: number;
  pid: number;
  /** Its working directory (where an append-only file goes). */
  dir: string;
  url(db?: number): string;
  stop(): Promise<void>;
  /** After stop(): a server with the same options on the same port and directory (its data too, with DURABLE_REDIS_ARGS). */
  startAgain(): Promise<RedisServer>;
}

/** Options under which every acknowledged write survives a stop and startAgain(). */
export const DURABLE_REDIS_ARGS = ['--appendonly', 'yes', '--appendfsync', 'always'] as const;

/**
 * `args` are extra redis-server options (e.g. `--cluster-enabled yes`); `port` and `dir` start it
 * where a stopped one was (see startAgain).
 */
export async function startRedis(opts: { databases?: number; args?: readonly string[]; port?: number; dir?: string } = {}): Promise<RedisServer> {
  const port = opts.port ?? await freePort();
  const dir = opts.dir ?? tmpDir('ferry-redis-');
  const child: ChildProcess = spawn('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no',
    '--databases', String(opts.databases ?? 256), '--daemonize', 'no', '--loglevel', 'warning', ...(opts.args ?? []),
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (child.pid === undefined) throw new Error('redis-server did not start (is the redis-server package installed?)');
  const pid = child.pid;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitForPing(port, 10_000);
  return {
    port,
    pid,
    dir,
    url: (db = 0) => `redis://127.0.0.1:${port}/${db}`,
    async stop() {
      if (child.exitCode === null) {
        process.kill(pid, 'SIGTERM');
        await exited;
      }
    },
    startAgain: () => startRedis({ ...opts, port, dir }),
  };
}

async function waitForPing(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ port, host: '127.0.0.1' }, () => s.write('PING\r\n'));
      s.once('data', (d) => { s.destroy(); resolve(d.toString().startsWith('+PONG')); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
