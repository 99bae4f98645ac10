/**
 * `s3` ObjectStore on the AWS SDK v3: AWS (virtual-host style), MinIO and other S3 clones (path
 * style with an endpoint), Alibaba OSS (virtual-host style on its S3 endpoint). Spec §D.2 for the
 * bucket URL forms. Keep-alive sockets from a bounded pool, per-request timeouts, no SDK retries
 * (withRetry does that, so tests can count tries), no optional checksums (MinIO/OSS reject some).
 * Ranged reads send `Range: bytes=a-b`, never suffix ranges. s3Errno() is the one error mapper.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { logger } from '../observability/logger.js';
import { Errno, FsError } from '../util/errno.js';
import { checkKey, checkRange, type ByteRange, type ListOptions, type ObjectInfo, type ObjectStore } from './object-store.js';
import { s3StoreDescription, type S3StoreConfig } from './s3-config.js';

const log = logger.child({ module: 'storage', backend: 's3' });

export { parseBucketUrl, s3StoreDescription, type BucketLocation, type S3StoreConfig } from './s3-config.js';

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_STREAM_PREMATURE_CLOSE']);
const DENIED = new Set(['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidToken', 'ExpiredToken', 'AllAccessDisabled', 'Forbidden']);

/**
 * The one place where SDK errors become errnos. Transient failures, which withRetry retries:
 * ETIMEDOUT when the store is out of reach or asks to come back later (socket errors, timeouts,
 * SlowDown, 503), so that once the retries are used up clients are told to retry too (NFS
 * JUKEBOX, WebDAV 503); EIO for any other 5xx.
 */
export function s3Errno(err: unknown, op: string, bucket: string, key: string): FsError {
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkErrorShape;
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? '';
  const where = `${op} s3://${bucket}/${key}`;
  const opts = { cause: err };
  if (name === 'NoSuchBucket') return new FsError(Errno.ENXIO, `${where}: bucket ${bucket} does not exist (NoSuchBucket)`, opts);
  if (name === 'NoSuchKey' || name === 'NotFound' || status === 404) return new FsError(Errno.ENOENT, `${where}: no such object`, opts);
  if (DENIED.has(name) || status === 403) {
    return new FsError(Errno.EACCES, `${where}: access denied (${name || status}); check the access key, secret key and bucket policy`, opts);
  }
  if (name === 'KeyTooLongError') return new FsError(Errno.ENAMETOOLONG, where, opts);
  if (name === 'SlowDown' || name === 'RequestTimeout' || name === 'TimeoutError' || status === 503) {
    return new FsError(Errno.ETIMEDOUT, `${where}: ${name || `HTTP ${status}`}`, opts);
  }
  if (status !== undefined && status >= 500) return new FsError(Errno.EIO, `${where}: ${name || `HTTP ${status}`}`, opts);
  if ((e.code !== undefined && NETWORK_CODES.has(e.code)) || /socket hang up/i.test(e.message ?? '')) {
    return new FsError(Errno.ETIMEDOUT, `${where}: ${e.code ?? e.message}`, opts);
  }
  if (status !== undefined && status >= 400) return new FsError(Errno.EINVAL, `${where}: ${name || `HTTP ${status}`}`, opts);
  log.error({ err, op, bucket, key }, 'unexpected S3 error');
  return new FsError(Errno.EIO, `${where}: ${e.message ?? String(err)}`, opts);
}

const PAGE_SIZE = 1000;

interface SendOptions {
  abortSignal?: AbortSignal;
}

export class S3ObjectStore implements ObjectStore {
  readonly description: string;
  readonly #bucket: string;
  readonly #client: S3Client;
  readonly #agents: (HttpAgent | HttpsAgent)[];

  constructor(cfg: S3StoreConfig) {
    this.#bucket = cfg.bucket;
    this.description = s3StoreDescription(cfg);
    const maxSockets = cfg.maxSockets ?? 64;
    const httpAgent = new HttpAgent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
    const httpsAgent = new HttpsAgent({
      keepAlive: true, maxSockets, maxFreeSockets: maxSockets, ...(cfg.insecureSkipVerify === true ? { rejectUnauthorized: false } : {}),
    });
    this.#agents = [httpAgent, httpsAgent];
    const config: S3ClientConfig = {
      region: cfg.region,
      forcePathStyle: cfg.forcePathStyle,
      maxAttempts: 1,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: new NodeHttpHandler({
        httpAgent,
        httpsAgent,
        connectionTimeout: cfg.connectTimeoutMs ?? 10_000,
        requestTimeout: cfg.requestTimeoutMs ?? 60_000,
        throwOnRequestTimeout: true,
      }),
    };
    if (cfg.endpoint !== undefined) config.endpoint = cfg.endpoint;
    if (cfg.accessKey !== undefined && cfg.secretKey !== undefined) {
      config.credentials = cfg.sessionToken === undefined
        ? { accessKeyId: cfg.accessKey, secretAccessKey: cfg.secretKey }
        : { accessKeyId: cfg.accessKey, secretAccessKey: cfg.secretKey, sessionToken: cfg.sessionToken };
    }
    this.#client = new S3Client(config);
  }

  async #call<T>(op: string, key: string, signal: AbortSignal | undefined, fn: (send: SendOptions) => Promise<T>): Promise<T> {
    signal?.throwIfAborted();
    try {
      return await fn(signal === undefined ? {} : { abortSignal: signal });
    } catch (err) {
      if (signal?.aborted === true) throw signal.reason;
      throw s3Errno(err, op, this.#bucket, key);
    }
  }

  async get(key: string, range?: ByteRange, signal?: AbortSignal): Promise<Buffer> {
    checkKey(key);
    if (range !== undefined) {
      checkRange(range, key);
      if (range.length === 0) {
        await this.head(key, signal);
        return Buffer.alloc(0);
      }
    }
    const input = { Bucket: this.#bucket, Key: key, ...(range === undefined ? {} : { Range: `bytes=${range.offset}-${range.offset + range.length - 1}` }) };
    try {
      return await this.#call('get', key, signal, async (send) => {
        const out = await this.#client.send(new GetObjectCommand(input), send);
        if (out.Body === undefined) return Buffer.alloc(0);
        const buf = await collectBody(out.Body, out.ContentLength);
        if (range === undefined) return buf;
        // Some servers answer more than asked (the whole object with 200, or a wider 206, as
        // s3rver does for bytes=0-0): cut the requested window out of what came back.
        const start = contentRangeStart(out.ContentRange);
        const from = Math.max(0, range.offset - start);
        return buf.subarray(Math.min(from, buf.length), Math.min(buf.length, from + range.length));
      });
    } catch (err) {
      // 416: the range starts at or past the end of an existing object: a read past EOF is empty.
      if (err instanceof FsError && err.errno === Errno.EINVAL && isInvalidRange(err.cause)) return Buffer.alloc(0);
      throw err;
    }
  }

  async put(key: string, body: Buffer, signal?: AbortSignal): Promise<void> {
    checkKey(key);
    await this.#call('put', key, signal, (send) =>
      this.#client.send(new PutObjectCommand({ Bucket: this.#bucket, Key: key, Body: body, ContentLength: body.length }), send));
  }

  async delete(key: string, signal?: AbortSignal): Promise<void> {
    checkKey(key);
    try {
      await this.#call('delete', key, signal, (send) =>
        this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: key }), send));
    } catch (err) {
      if (err instanceof FsError && err.errno === Errno.ENOENT) return;
      throw err;
    }
  }

  async head(key: string, signal?: AbortSignal): Promise<{ size: number; mtime: Date }> {
    checkKey(key);
    const out = await this.#call('head', key, signal, (send) =>
      this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: key }), send));
    return { size: out.ContentLength ?? 0, mtime: out.LastModified ?? new Date(0) };
  }

  /** Pages with StartAfter = last key seen (no continuation tokens: S3 clones differ on those). */
  async *list(prefix: string, opts: ListOptions = {}): AsyncGenerator<ObjectInfo> {
    let after = opts.startAfter;
    let left = opts.limit ?? Infinity;
    while (left > 0) {
      const maxKeys = Math.min(PAGE_SIZE, left);
      const input = { Bucket: this.#bucket, Prefix: prefix, MaxKeys: maxKeys, ...(after === undefined ? {} : { StartAfter: after }) };
      const out = await this.#call('list', prefix, opts.signal, (send) =>
        this.#client.send(new ListObjectsV2Command(input), send));
      const contents = out.Contents ?? [];
      for (const obj of contents) {
        if (obj.Key === undefined) continue;
        after = obj.Key;
        left--;
        yield { key: obj.Key, size: obj.Size ?? 0, mtime: obj.LastModified ?? new Date(0) };
        if (left <= 0) return;
      }
      if (out.IsTruncated !== true || contents.length === 0) return;
    }
  }

  async close(): Promise<void> {
    this.#client.destroy();
    for (const a of this.#agents) a.destroy();
  }
}

/** First byte position of a `Content-Range: bytes a-b/n` header; 0 when absent (a 200 answer). */
function contentRangeStart(header: string | undefined): number {
  const m = header === undefined ? null : /^bytes (\d+)-/.exec(header);
  return m?.[1] === undefined ? 0 : Number(m[1]);
}

function isInvalidRange(cause: unknown): boolean {
  const e = (typeof cause === 'object' && cause !== null ? cause : {}) as SdkErrorShape;
  return e.name === 'InvalidRange' || e.$metadata?.httpStatusCode === 416;
}

/**
 * A response body as one Buffer. A Node stream of known length is copied chunk by chunk into one
 * buffer of that size (no chunk list, no zero-filled array, no second concatenation); anything
 * else goes through the SDK's own collector. A body longer or shorter than announced is an error.
 */
async function collectBody(body: { transformToByteArray(): Promise<Uint8Array> }, length: number | undefined): Promise<Buffer> {
  if (length === undefined || !isAsyncIterable(body)) {
    const bytes = await body.transformToByteArray();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  const out = Buffer.allocUnsafe(length);
  let got = 0;
  for await (const chunk of body) {
    if (!(chunk instanceof Uint8Array) || got + chunk.length > length) throw new Error(`response body longer than its Content-Length ${length}`);
    out.set(chunk, got);
    got += chunk.length;
  }
  if (got !== length) throw new Error(`response body of ${got} bytes, Content-Length ${length}`);
  return out;
}

function isAsyncIterable(x: object): x is AsyncIterable<unknown> {
  return typeof (x as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function';
}
