/**
 * The S3 store over HTTPS against s3rver serving a self-signed certificate (made by the openssl
 * CLI): refused by default (the certificate is not trusted), accepted with the JuiceFS bucket URL
 * option `?tls-insecure-skip-verify=true`, which changes nothing else (same endpoint, bucket, keys).
 */
import assert from 'node:assert/strict';
import { parseBucketUrl, S3ObjectStore } from '../../src/storage/s3.js';
import { FsError } from '../../src/util/errno.js';
import { selfSigned } from '../helpers/certs.js';
import { startS3rver, type S3rverServer } from '../helpers/s3rver.js';
import { tmpDir } from '../helpers/tmp.js';

describe('S3 store over HTTPS with a self-signed endpoint', function () {
  this.timeout(60_000);
  let srv: S3rverServer;

  before(async () => {
    const dir = tmpDir('ferry-s3-tls-');
    srv = await startS3rver({ tls: await selfSigned(dir, 's3rver') });
  });
  after(async () => { await srv?.stop(); });

  const store = (query: string): S3ObjectStore =>
    new S3ObjectStore({ ...parseBucketUrl(`${srv.bucketUrl}${query}`, 'minio'), accessKey: srv.accessKey, secretKey: srv.secretKey, requestTimeoutMs: 10_000 });

  it('the endpoint is HTTPS', function () {
    assert.match(srv.endpoint, /^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('a certificate nobody vouches for is refused by default', async function () {
    const s = store('');
    try {
      await assert.rejects(s.put('chunks/0/0/1_0_5', Buffer.from('hello')), (err: unknown) => err instanceof FsError);
    } finally {
      await s.close();
    }
  });

  it('with ?tls-insecure-skip-verify=true objects are put, read, listed and deleted', async function () {
    const s = store('?tls-insecure-skip-verify=true');
    try {
      await s.put('chunks/0/0/2_0_5', Buffer.from('hello'));
      assert.equal((await s.get('chunks/0/0/2_0_5')).toString(), 'hello');
      const keys: string[] = [];
      for await (const o of s.list('chunks/')) keys.push(o.key);
      assert.deepEqual(keys, ['chunks/0/0/2_0_5']);
      await s.delete('chunks/0/0/2_0_5');
    } finally {
      await s.close();
    }
  });
});
