/**
 * createObjectStore: builds the volume's ObjectStore from its setting (spec §A: Storage, Bucket,
 * keys, Compression, Shards, Name). Stack, outermost first:
 *   compression -> prefix `<Name>/` -> metrics -> shards (FNV of the full key, §A.2) -> retry -> backend
 * so shards hash full keys, metrics count calls and compressed bytes, and retries stay per shard.
 * It opens no connection by itself; the first call does.
 */
import type { Registry } from 'prom-client';
import { Errno, FsError } from '../util/errno.js';
import { codecFor } from './codecs.js';
import { FileObjectStore } from './file.js';
import { MemoryObjectStore } from './memory.js';
import type { ObjectStore } from './object-store.js';
import { parseBucketUrl, s3StoreDescription, type S3StoreConfig } from './s3-config.js';
import { withCompression } from './wrappers/compression.js';
import { LazyObjectStore } from './wrappers/lazy.js';
import { withMetrics } from './wrappers/metrics.js';
import { withPrefix } from './wrappers/prefix.js';
import { withRetry, type RetryOptions } from './wrappers/retry.js';
import { MAX_SHARDS, withShards } from './wrappers/shards.js';

/** The storage part of a volume setting (Format JSON field names in camelCase) plus local tuning. */
export interface StorageSetting {
  /** Format.Storage: `file`, `s3`, `minio`, `oss` or `mem` (case-insensitive). */
  storage: string;
  /** Format.Bucket: a directory for `file`, a bucket URL otherwise; with shards a pattern with one `%d`. */
  bucket: string;
  /** Format.Name: objects live under `<name>/`. */
  name: string;
  accessKey?: string;
  /** Already decrypted (spec §A.1). */
  secretKey?: string;
  sessionToken?: string;
  /** Format.Compression: none, lz4 or zstd. */
  compression?: string;
  /** Format.Shards: > 1 spreads objects over that many buckets. */
  shards?: number;
  /** S3 connection tuning. */
  s3?: Pick<S3StoreConfig, 'maxSockets' | 'connectTimeoutMs' | 'requestTimeoutMs'>;
  /** Retry policy for network backends; false disables retries. */
  retry?: RetryOptions | false;
  /** Where ferry_object_* metrics go; none when absent. */
  metrics?: Registry;
}

export function createObjectStore(setting: StorageSetting): ObjectStore {
  if (setting.name === '' || setting.name.includes('/')) throw new FsError(Errno.EINVAL, `bad volume name ${JSON.stringify(setting.name)}`);
  const codec = codecFor(setting.compression);
  const shards = setting.shards ?? 0;
  if (!Number.isInteger(shards) || shards < 0 || shards > MAX_SHARDS) throw new FsError(Errno.EINVAL, `bad shard count ${shards}`);

  let store: ObjectStore;
  if (shards > 1) {
    if ((setting.bucket.match(/%d/g) ?? []).length !== 1) {
      throw new FsError(Errno.EINVAL, `with ${shards} shards the bucket must contain one %d: ${setting.bucket}`);
    }
    const buckets = Array.from({ length: shards }, (_, i) => setting.bucket.replace('%d', String(i)));
    store = withShards(buckets.map((b) => openBucket(setting, b)));
  } else {
    store = openBucket(setting, setting.bucket);
  }
  if (setting.metrics !== undefined) store = withMetrics(store, setting.metrics);
  store = withPrefix(store, `${setting.name}/`);
  return codec === undefined ? store : withCompression(store, codec);
}

function openBucket(setting: StorageSetting, bucket: string): ObjectStore {
  const kind = setting.storage.toLowerCase();
  switch (kind) {
    case 'file':
      return new FileObjectStore(bucket);
    case 'mem':
    case 'memory':
      return new MemoryObjectStore(bucket);
    case 's3':
    case 'minio':
    case 'oss': {
      const cfg: S3StoreConfig = { ...parseBucketUrl(bucket, kind), ...setting.s3 };
      if (setting.accessKey !== undefined && setting.accessKey !== '') cfg.accessKey = setting.accessKey;
      if (setting.secretKey !== undefined && setting.secretKey !== '') cfg.secretKey = setting.secretKey;
      if (setting.sessionToken !== undefined && setting.sessionToken !== '') cfg.sessionToken = setting.sessionToken;
      // the SDK is loaded when the store is first used, not by every process that imports this module
      const s3 = new LazyObjectStore(s3StoreDescription(cfg), async () => new (await import('./s3.js')).S3ObjectStore(cfg));
      if (setting.retry === false) return s3;
      const retry: RetryOptions = { ...setting.retry };
      if (setting.metrics !== undefined) retry.registry = setting.metrics;
      return withRetry(s3, retry);
    }
    default:
      throw new FsError(Errno.EINVAL, `storage ${JSON.stringify(setting.storage)} is not supported (file, s3, minio, oss, mem)`);
  }
}
