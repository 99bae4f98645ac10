/**
 * `ferry serve` as a child process for the WebDAV end-to-end tests: WebDAV only (no NFS, no admin
 * listener) on a free loopback port, ready once it prints its "WebDAV on" line, stopped by PID.
 * Also formats a Redis + s3rver volume (the run's shared servers, a fresh db and bucket) for
 * tests that must not use the embedded default.
 */
import { randomUUID } from 'node:crypto';
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BaseMeta } from '../../src/meta/base.js';
import { openEngine } from '../../src/meta/open.js';
import { freePort } from './free-port.js';
import { freshRedisUrl, sharedS3rver } from './hooks.js';
import { freshBucket } from './s3-buckets.js';
import { tmpDir } from './tmp.js';

export const FERRY_MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface FerryServeProcess {
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly port: number;
  /** `http(s)://127.0.0.1:PORT` */
  readonly base: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM (or `signal`) and wait for the exit; a no-op when it already exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface FerryServeOptions {
  /** Volume flags, e.g. `['--data-dir', dir]` or `['--meta', url]`; default a fresh embedded volume. */
  readonly volume?: readonly string[];
  /** More `ferry serve` flags (e.g. `['--config', file]`). */
  readonly args?: readonly string[];
  /** Listen port; default a free one. */
  readonly port?: number;
  readonly env?: Readonly<Record<string, string>>;
  /** Scheme of `base` (the config decides whether TLS is on). */
  readonly scheme?: 'http' | 'https';
}

/** Starts `ferry serve --no-nfs --no-admin` and waits until WebDAV is listening. */
export async function startFerryServe(o: FerryServeOptions = {}): Promise<FerryServeProcess> {
  const port = o.port ?? await freePort();
  const volume = o.volume ?? ['--data-dir', tmpDir('ferry-serve-')];
  const proc = spawn(process.execPath, [FERRY_MAIN, 'serve', '--no-nfs', '--no-admin', '--webdav-listen', `127.0.0.1:${port}`, ...volume, ...(o.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FERRY_LOG_LEVEL: 'warn', ...o.env },
  });
  if (proc.pid === undefined) throw new Error('ferry serve did not start');
  const pid = proc.pid;
  let out = '';
  proc.stdout?.on('data', (b: Buffer) => { out += b.toString(); });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ferry serve did not listen within 30 s:\n${out}`)), 30_000);
    const onData = (b: Buffer): void => {
      out += b.toString();
      if (out.includes('WebDAV on')) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stderr?.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`ferry serve exited with ${code}:\n${out}`));
    });
  });
  return {
    proc, pid, port, base: `${o.scheme ?? 'http'}://127.0.0.1:${port}`,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      process.kill(pid, signal);
      await exited;
    },
  };
}

/**
 * Formats a fresh volume with its metadata in a flushed db of the run's redis-server and its
 * blocks in a fresh bucket of the run's s3rver; returns the meta URL for `ferry serve --meta`
 * and the bucket's name.
 */
export async function formatRedisS3Volume(name = 'davvol'): Promise<{ metaUrl: string; bucket: string }> {
  const s3 = await sharedS3rver();
  const url = await freshRedisUrl();
  const bucket = await freshBucket();
  const meta = new BaseMeta(await openEngine(url));
  try {
    await meta.format({
      Name: name, UUID: randomUUID(), Storage: 'minio', Bucket: `${s3.endpoint}/${bucket}`,
      AccessKey: s3.accessKey, SecretKey: s3.secretKey, BlockSize: 4096, Compression: 'none', TrashDays: 0, MetaVersion: 1, EnableACL: false,
    });
  } finally {
    await meta.close();
  }
  return { metaUrl: url, bucket };
}

/** Formats a volume named `name` in the metadata engine at `metaUrl`, its blocks in a fresh local directory (a `file` store). */
export async function formatFileVolume(metaUrl: string, name: string): Promise<void> {
  const meta = new BaseMeta(await openEngine(metaUrl));
  try {
    await meta.format({
      Name: name, UUID: randomUUID(), Storage: 'file', Bucket: `${tmpDir('ferry-objects-')}/`, BlockSize: 4096, Compression: 'none', TrashDays: 0, EnableACL: false,
    });
  } finally {
    await meta.close();
  }
}
