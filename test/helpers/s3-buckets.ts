/** Fresh buckets on the shared s3rver, one per test, made with a plain SDK client. */
import { S3ObjectStore, type S3StoreConfig } from '../../src/storage/s3.js';
import { sharedS3rver } from './hooks.js';
import { createBucket } from './s3rver.js';

let seq = 0;

/** Creates a new empty bucket on the shared s3rver and returns its name. */
export async function freshBucket(name = `b${++seq}-${process.pid}`): Promise<string> {
  await createBucket(await sharedS3rver(), name);
  return name;
}

/** Config for an S3ObjectStore on the shared s3rver (path style, its static keys). */
export async function s3rverConfig(bucket: string, extra: Partial<S3StoreConfig> = {}): Promise<S3StoreConfig> {
  const srv = await sharedS3rver();
  return {
    bucket, region: 'us-east-1', endpoint: srv.endpoint, forcePathStyle: true,
    accessKey: srv.accessKey, secretKey: srv.secretKey, ...extra,
  };
}

/** A raw S3ObjectStore on a fresh bucket of the shared s3rver. */
export async function freshS3Store(extra: Partial<S3StoreConfig> = {}): Promise<S3ObjectStore> {
  return new S3ObjectStore(await s3rverConfig(await freshBucket(), extra));
}
