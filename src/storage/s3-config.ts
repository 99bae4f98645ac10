/**
 * Configuration of the S3 backend without the AWS SDK: JuiceFS bucket URLs (spec §D.2) turned into
 * a BucketLocation, the store's options and its description. Kept apart from s3.ts so that
 * building a store's configuration (and serving a volume that has no S3 store) does not load the
 * SDK.
 */
import { Errno, FsError } from '../util/errno.js';
import { urlFlag } from '../util/url-flag.js';

/** Where a bucket lives, as parseBucketUrl() derives it from a JuiceFS `Bucket` value. */
export interface BucketLocation {
  bucket: string;
  /** Signing region (default us-east-1). */
  region: string;
  /** Service endpoint without the bucket; absent for AWS, where the SDK derives it from the region. */
  endpoint?: string;
  /** true: `endpoint/bucket/key` (MinIO); false: `bucket.endpoint/key` (AWS, OSS). */
  forcePathStyle: boolean;
  /** `?tls-insecure-skip-verify=true`: accept any HTTPS certificate of the endpoint (testing only). */
  insecureSkipVerify?: boolean;
}

export interface S3StoreConfig extends BucketLocation {
  /** Static credentials; when absent the SDK's default chain is used (AWS_ACCESS_KEY_ID... env vars first). */
  accessKey?: string;
  secretKey?: string;
  sessionToken?: string;
  /** Upper bound of concurrent connections to the endpoint (default 64). */
  maxSockets?: number;
  /** TCP/TLS connect timeout (default 10 s). */
  connectTimeoutMs?: number;
  /** Whole request/response timeout (default 60 s; a 4 MiB block on a slow link must fit). */
  requestTimeoutMs?: number;
}

const DEFAULT_REGION = 'us-east-1';

/**
 * Turns a JuiceFS-style bucket URL into a BucketLocation:
 * `http://host:9000/bucket` (path style), `https://bucket.s3.<region>.amazonaws.com` (AWS,
 * virtual host), `https://bucket.oss-<region>.aliyuncs.com` (OSS), `https://bucket.host` (other
 * virtual host). `?region=` overrides the region and `?tls-insecure-skip-verify=true` turns off the
 * certificate check, as in JuiceFS. `storage` 'minio' forces path style. EINVAL when no bucket can
 * be found.
 */
export function parseBucketUrl(raw: string, storage = 's3'): BucketLocation {
  const text = raw.includes('://') ? raw : `https://${raw}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch (err) {
    throw new FsError(Errno.EINVAL, `bad bucket URL ${JSON.stringify(raw)}`, { cause: err });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new FsError(Errno.EINVAL, `bucket URL ${JSON.stringify(raw)} must be http(s)`);
  }
  const segments = url.pathname.split('/').filter((s) => s !== '');
  if (segments.length > 1) throw new FsError(Errno.EINVAL, `bucket URL ${JSON.stringify(raw)} has a path below the bucket`);
  const pathBucket = segments[0] !== undefined ? decodeURIComponent(segments[0]) : undefined;
  const queryRegion = url.searchParams.get('region') ?? undefined;
  const skipVerify = urlFlag(url.searchParams.get('tls-insecure-skip-verify'));
  if (skipVerify === undefined) throw new FsError(Errno.EINVAL, `bucket URL ${JSON.stringify(raw)}: tls-insecure-skip-verify expects true or false`);
  const host = url.hostname.toLowerCase();
  const labels = host.split('.');
  const origin = (h: string): string => `${url.protocol}//${h}${url.port === '' ? '' : `:${url.port}`}`;
  const done = (loc: { bucket: string | undefined; region?: string | undefined; endpoint?: string; forcePathStyle: boolean }): BucketLocation => {
    if (loc.bucket === undefined || loc.bucket === '') throw new FsError(Errno.EINVAL, `no bucket name in ${JSON.stringify(raw)}`);
    const out: BucketLocation = { bucket: loc.bucket, region: queryRegion ?? loc.region ?? DEFAULT_REGION, forcePathStyle: loc.forcePathStyle };
    if (loc.endpoint !== undefined) out.endpoint = loc.endpoint;
    if (skipVerify) out.insecureSkipVerify = true;
    return out;
  };

  if (host.endsWith('.amazonaws.com') || host.endsWith('.amazonaws.com.cn')) {
    // [bucket.]s3[.dualstack][.<region>].amazonaws.com  or  [bucket.]s3-<region>.amazonaws.com
    const s3At = labels.findIndex((l) => l === 's3' || l.startsWith('s3-'));
    if (s3At < 0) throw new FsError(Errno.EINVAL, `unrecognised AWS bucket URL ${JSON.stringify(raw)}`);
    const s3Label = labels[s3At] ?? 's3';
    const rest = labels.slice(s3At + 1).filter((l) => l !== 'dualstack');
    const region = s3Label.startsWith('s3-') ? s3Label.slice(3) : rest[0] !== 'amazonaws' ? rest[0] : undefined;
    const vhostBucket = labels.slice(0, s3At).join('.');
    if (vhostBucket !== '' && pathBucket === undefined) return done({ bucket: vhostBucket, region, forcePathStyle: false });
    return done({ bucket: pathBucket, region, forcePathStyle: true });
  }

  if (host.endsWith('.aliyuncs.com')) {
    // bucket.oss-<region>[-internal].aliyuncs.com (also with an `s3.` label before oss-)
    const ossAt = labels.findIndex((l) => l.startsWith('oss-'));
    if (ossAt < 0) throw new FsError(Errno.EINVAL, `unrecognised OSS bucket URL ${JSON.stringify(raw)}`);
    const ossLabel = labels[ossAt] ?? '';
    const region = ossLabel.slice(4).replace(/-internal$/, '');
    const before = labels.slice(0, ossAt);
    const bucket = pathBucket ?? before.filter((l, i) => !(l === 's3' && i === before.length - 1)).join('.');
    return done({ bucket, region, endpoint: origin(labels.slice(ossAt).join('.')), forcePathStyle: false });
  }

  if (pathBucket !== undefined || storage.toLowerCase() === 'minio') {
    return done({ bucket: pathBucket, endpoint: origin(host), forcePathStyle: true });
  }
  if (labels.length < 2) throw new FsError(Errno.EINVAL, `no bucket name in ${JSON.stringify(raw)}`);
  return done({ bucket: labels[0], endpoint: origin(labels.slice(1).join('.')), forcePathStyle: false });
}

/** How a store of `cfg` names itself in logs and errors. */
export function s3StoreDescription(cfg: Pick<S3StoreConfig, 'bucket' | 'endpoint' | 'region'>): string {
  return `s3://${cfg.bucket}${cfg.endpoint === undefined ? ` (${cfg.region})` : ` (${cfg.endpoint})`}`;
}
