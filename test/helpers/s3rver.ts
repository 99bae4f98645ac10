/**
 * Starts the npm `s3rver` (an S3 protocol server on local files) in a child process on a free
 * loopback port with its own temp dir and one bucket, waits until it reports its port, and stops
 * it by PID. Node 17+ needs --openssl-legacy-provider for s3rver's paged listings (else HTTP 500).
 * Known gaps we must not rely on: no signature or checksum checks, wrong suffix ranges, no If-Match.
 * Its DELETE removes directories it leaves empty, racing a concurrent PUT into the same directory
 * (ENOENT on an unhandled stream error kills the server; block keys share `chunks/0/0/`): a
 * preloaded patch (NO_RMDIR_PATCH) keeps the empty directories instead.
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { tmpDir } from './tmp.js';

export interface S3rverServer {
  port: number;
  pid: number;
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** Bucket created at start. */
  bucket: string;
  /** JuiceFS-style bucket URL (path style). */
  bucketUrl: string;
  accessKey: string;
  secretKey: string;
  stop(): Promise<void>;
}

const require = createRequire(import.meta.url);

/** CommonJS preload for s3rver: deleteObject without the empty-directory cleanup (see above). */
const NO_RMDIR_PATCH = (storeModule: string): string => `
const Store = require(${JSON.stringify(storeModule)});
const fs = require('fs/promises');
Store.prototype.deleteObject = async function (bucket, key) {
  await Promise.all(['object', 'object.md5', 'metadata.json'].map((t) =>
    fs.unlink(this.getResourcePath(bucket, key, t)).catch((err) => { if (err.code !== 'ENOENT') throw err; })));
};
`;

export async function startS3rver(opts: { bucket?: string; timeoutMs?: number } = {}): Promise<S3rverServer> {
  const bucket = opts.bucket ?? 'ferry-test';
  const dir = tmpDir('ferry-s3rver-');
  const bin = require.resolve('s3rver/bin/s3rver.js');
  const patch = join(tmpDir('ferry-s3rver-patch-'), 'no-rmdir-patch.cjs');
  writeFileSync(patch, NO_RMDIR_PATCH(require.resolve('s3rver/lib/stores/filesystem.js')));
  const child = spawn(process.execPath, [
    '--openssl-legacy-provider', '--require', patch, bin, '-d', dir, '-a', '127.0.0.1', '-p', '0', '--silent', '--configure-bucket', bucket,
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  if (child.pid === undefined) throw new Error('s3rver did not start');
  const pid = child.pid;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`s3rver did not report a port within ${opts.timeoutMs ?? 20_000} ms: ${out}`)), opts.timeoutMs ?? 20_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on [\d.]+:(\d+)/.exec(out);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited with ${code} before listening: ${out}`));
    });
  });
  child.stdout?.resume();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    port,
    pid,
    endpoint,
    bucket,
    bucketUrl: `${endpoint}/${bucket}`,
    accessKey: 'S3RVER',
    secretKey: 'S3RVER',
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(pid, 'SIGTERM');
        await exited;
      }
    },
  };
}

/** Creates bucket `name` on `srv` with a plain SDK client (path style, its static keys). */
export async function createBucket(srv: S3rverServer, name: string): Promise<void> {
  const client = new S3Client({
    endpoint: srv.endpoint, region: 'us-east-1', forcePathStyle: true, maxAttempts: 1,
    credentials: { accessKeyId: srv.accessKey, secretAccessKey: srv.secretKey },
  });
  try {
    await client.send(new CreateBucketCommand({ Bucket: name }));
  } finally {
    client.destroy();
  }
}
