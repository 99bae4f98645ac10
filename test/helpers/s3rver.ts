/**
 * Starts the npm `s3rver` (an S3 protocol server on local files) in a child process on a free
 * loopback port with its own temp dir and one bucket, waits until it reports its port, and stops
 * it by PID. Node 17+ needs --openssl-legacy-provider for s3rver's paged listings (else HTTP 500).
 * Known gaps we must not rely on: no signature or checksum checks, wrong suffix ranges, no If-Match.
 * Its DELETE removes directories it leaves empty, racing a concurrent PUT into the same directory
 * (ENOENT on an unhandled stream error kills the server; block keys share `chunks/0/0/`): a
 * preloaded patch (STORE_PATCH) keeps the empty directories instead. Its PUT also answers before the
 * object file is written (a Buffer body is handed to a write stream that truncated the old file,
 * and the reply does not wait for it): a GET right after a PUT, or during a concurrent PUT of the
 * key, read empty or partial objects. The patch writes the object and its metadata to temp files
 * and renames them into place before the PUT is answered, as a real S3 store behaves.
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

/** CommonJS preload for s3rver: deleteObject without the empty-directory cleanup, atomic putObject (see above). */
const STORE_PATCH = (storeModule: string): string => `
const Store = require(${JSON.stringify(storeModule)});
const fs = require('fs/promises');
const { createWriteStream } = require('fs');
const { createHash } = require('crypto');
const { dirname } = require('path');
const { pipeline } = require('stream/promises');
const { Readable, Transform } = require('stream');
let seq = 0;
const tmpOf = (p) => p + '.ferry-tmp-' + process.pid + '-' + (++seq);
Store.prototype.deleteObject = async function (bucket, key) {
  await Promise.all(['object', 'object.md5', 'metadata.json'].map((t) =>
    fs.unlink(this.getResourcePath(bucket, key, t)).catch((err) => { if (err.code !== 'ENOENT') throw err; })));
};
const putMetadata = Store.prototype.putMetadata;
Store.prototype.putMetadata = async function (bucket, key, metadata, md5) {
  // the original writes metadata.json and object.md5 in place; write them beside and rename
  const store = Object.create(this);
  const renames = [];
  store.getResourcePath = (b, k, t) => { const p = this.getResourcePath(b, k, t); const tmp = tmpOf(p); renames.push([tmp, p]); return tmp; };
  await putMetadata.call(store, bucket, key, metadata, md5);
  for (const [tmp, p] of renames) await fs.rename(tmp, p).catch((err) => { if (err.code !== 'ENOENT') throw err; });
};
Store.prototype.putObject = async function (object) {
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
  await fs.mkdir(dirname(objectPath), { recursive: true });
  const tmp = tmpOf(objectPath);
  const md5 = createHash('md5');
  let size = 0;
  const body = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
  try {
    await pipeline(body, new Transform({ transform(chunk, enc, cb) { md5.update(chunk); size += chunk.length; cb(null, chunk); } }), createWriteStream(tmp));
    const digest = md5.digest('hex');
    await this.putMetadata(object.bucket, object.key, object.metadata, digest);
    await fs.rename(tmp, objectPath);
    return { size, md5: digest };
  } catch (err) {
    await fs.unlink(tmp).catch(() => undefined);
    throw err;
  }
};
`;

/** `tls`: serve HTTPS with this PEM key and certificate (the endpoint is then https://). */
export async function startS3rver(opts: { bucket?: string; timeoutMs?: number; tls?: { key: string; cert: string } } = {}): Promise<S3rverServer> {
  const bucket = opts.bucket ?? 'ferry-test';
  const dir = tmpDir('ferry-s3rver-');
  const bin = require.resolve('s3rver/bin/s3rver.js');
  const patch = join(tmpDir('ferry-s3rver-patch-'), 'store-patch.cjs');
  writeFileSync(patch, STORE_PATCH(require.resolve('s3rver/lib/stores/filesystem.js')));
  const child = spawn(process.execPath, [
    '--openssl-legacy-provider', '--require', patch, bin, '-d', dir, '-a', '127.0.0.1', '-p', '0', '--silent', '--configure-bucket', bucket,
    ...(opts.tls === undefined ? [] : ['--key', opts.tls.key, '--cert', opts.tls.cert]),
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
  const endpoint = `${opts.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`;
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
