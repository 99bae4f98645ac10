import assert from 'node:assert/strict';
import { parseBucketUrl } from '../../../src/storage/s3.js';
import { Errno, isFsError } from '../../../src/util/errno.js';

describe('parseBucketUrl (JuiceFS bucket URLs, spec §D.2)', function () {
  it('MinIO path style: endpoint with port, bucket from the path', function () {
    assert.deepEqual(parseBucketUrl('http://10.0.0.5:9000/jfs'), { bucket: 'jfs', region: 'us-east-1', endpoint: 'http://10.0.0.5:9000', forcePathStyle: true });
    assert.deepEqual(parseBucketUrl('http://minio.lan:9000/jfs/', 'minio'), { bucket: 'jfs', region: 'us-east-1', endpoint: 'http://minio.lan:9000', forcePathStyle: true });
  });

  it('?region= sets the signing region', function () {
    assert.equal(parseBucketUrl('http://127.0.0.1:9000/b?region=eu-west-3').region, 'eu-west-3');
  });

  it('?tls-insecure-skip-verify=true turns the certificate check off; other values are EINVAL', function () {
    assert.equal(parseBucketUrl('https://minio.lan:9000/b?tls-insecure-skip-verify=true').insecureSkipVerify, true);
    assert.equal(parseBucketUrl('https://minio.lan:9000/b?tls-insecure-skip-verify=false').insecureSkipVerify, undefined);
    assert.equal(parseBucketUrl('https://minio.lan:9000/b').insecureSkipVerify, undefined);
    assert.throws(() => parseBucketUrl('https://minio.lan:9000/b?tls-insecure-skip-verify=perhaps'), (e: unknown) => isFsError(e, Errno.EINVAL));
  });

  it('AWS virtual host: bucket and region from the host name, SDK picks the endpoint', function () {
    assert.deepEqual(parseBucketUrl('https://mybucket.s3.eu-central-1.amazonaws.com'), { bucket: 'mybucket', region: 'eu-central-1', forcePathStyle: false });
    assert.deepEqual(parseBucketUrl('https://my.dotted.bucket.s3.us-west-2.amazonaws.com'), { bucket: 'my.dotted.bucket', region: 'us-west-2', forcePathStyle: false });
    assert.deepEqual(parseBucketUrl('mybucket.s3.amazonaws.com'), { bucket: 'mybucket', region: 'us-east-1', forcePathStyle: false });
    assert.deepEqual(parseBucketUrl('https://mybucket.s3-ap-southeast-1.amazonaws.com'), { bucket: 'mybucket', region: 'ap-southeast-1', forcePathStyle: false });
    assert.deepEqual(parseBucketUrl('https://b.s3.cn-north-1.amazonaws.com.cn'), { bucket: 'b', region: 'cn-north-1', forcePathStyle: false });
  });

  it('AWS path style keeps the bucket from the path', function () {
    assert.deepEqual(parseBucketUrl('https://s3.eu-west-1.amazonaws.com/mybucket'), { bucket: 'mybucket', region: 'eu-west-1', forcePathStyle: true });
  });

  it('Alibaba OSS: virtual host on the region endpoint, region without the oss- prefix', function () {
    assert.deepEqual(parseBucketUrl('https://mybucket.oss-cn-hangzhou.aliyuncs.com'), {
      bucket: 'mybucket', region: 'cn-hangzhou', endpoint: 'https://oss-cn-hangzhou.aliyuncs.com', forcePathStyle: false,
    });
    assert.deepEqual(parseBucketUrl('https://mybucket.oss-cn-beijing-internal.aliyuncs.com', 'oss'), {
      bucket: 'mybucket', region: 'cn-beijing', endpoint: 'https://oss-cn-beijing-internal.aliyuncs.com', forcePathStyle: false,
    });
  });

  it('another host without a path is a virtual-host bucket', function () {
    assert.deepEqual(parseBucketUrl('https://bkt.storage.example.com:8443'), { bucket: 'bkt', region: 'us-east-1', endpoint: 'https://storage.example.com:8443', forcePathStyle: false });
  });

  it('URLs without a bucket, with a deeper path or another scheme are EINVAL', function () {
    for (const u of ['http://127.0.0.1:9000/', 'http://127.0.0.1:9000/b/extra', 'ftp://host/b', 'http://[bad', 'https://s3.us-east-1.amazonaws.com']) {
      assert.throws(() => parseBucketUrl(u, u.startsWith('http://127') ? 'minio' : 's3'), (e: unknown) => isFsError(e, Errno.EINVAL), u);
    }
  });
});
