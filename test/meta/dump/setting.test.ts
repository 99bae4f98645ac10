import assert from 'node:assert/strict';
import {
  decryptSecret, encryptSecrets, formatFromJson, marshalSetting, parseSetting, removeSecrets, VOLUME_NAME_RE,
} from '../../../src/meta/format-setting.js';
import type { Format } from '../../../src/meta/types.js';
import { Errno, isFsError } from '../../../src/util/errno.js';

const base: Format = {
  Name: 'vol1', UUID: 'faa27c8f-edab-4791-a4e0-1620b732b343', Storage: 'file',
  Tiers: { 0: { ID: 0, StorageClass: '', Tag: '' } }, Bucket: '/var/jfs/', BlockSize: 4096, Compression: 'none',
  EncryptAlgo: 'aes256gcm-rsa', TrashDays: 1, MetaVersion: 1, MinClientVersion: '1.1.0-A', DirStats: true, EnableACL: false,
};

describe('volume setting JSON (spec §A)', () => {
  it('is written like Go json.MarshalIndent(format, "", ""): struct order, omitempty, no indentation', () => {
    assert.equal(marshalSetting(base), [
      '{', '"Name": "vol1",', '"UUID": "faa27c8f-edab-4791-a4e0-1620b732b343",', '"Storage": "file",',
      '"Tiers": {', '"0": {', '"ID": 0,', '"StorageClass": "",', '"Tag": ""', '}', '},', '"Bucket": "/var/jfs/",',
      '"BlockSize": 4096,', '"Compression": "none",', '"EncryptAlgo": "aes256gcm-rsa",', '"TrashDays": 1,',
      '"MetaVersion": 1,', '"MinClientVersion": "1.1.0-A",', '"DirStats": true,', '"EnableACL": false', '}',
    ].join('\n'));
  });

  it('parses back to the same setting, and synthesises tier 0 from StorageClass when Tiers is absent', () => {
    assert.deepEqual(parseSetting(marshalSetting(base)), base);
    const legacy = parseSetting('{"Name":"v","UUID":"u","Storage":"s3","StorageClass":"GLACIER","Bucket":"b","BlockSize":1024,"TrashDays":0,"EnableACL":false}');
    assert.match(marshalSetting(legacy), /"Tiers": \{\n"0": \{\n"ID": 0,\n"StorageClass": "GLACIER",\n"Tag": ""\n\}\n\}/);
  });

  it('rejects wrongly typed fields with EINVAL', () => {
    assert.throws(() => formatFromJson({ Name: 'v', UUID: 'u', BlockSize: 'big' }), (e: unknown) => isFsError(e, Errno.EINVAL));
    assert.throws(() => parseSetting('{'), (e: unknown) => isFsError(e, Errno.EINVAL));
  });

  it('decrypts the EncryptKey of the JuiceFS fixture with MD5(UUID) AES-GCM (golden vector for §A.1)', () => {
    const f = { ...base, EncryptAlgo: '' };
    assert.equal(decryptSecret(f, 'AQSttslKOSE/hQT/gmaMniCsdPF8JdPRfoYK6zFkdUOnifYwBA=='), 'foobarbaz');
  });

  it('encrypts secrets with a fresh nonce, sets KeyEncrypted, and round-trips', () => {
    const sealed = encryptSecrets({ ...base, AccessKey: 'ak', SecretKey: 'sk-123', SessionToken: 'tok' });
    assert.equal(sealed.KeyEncrypted, true);
    assert.equal(sealed.AccessKey, 'ak');
    assert.notEqual(sealed.SecretKey, 'sk-123');
    assert.equal(decryptSecret(sealed, sealed.SecretKey ?? ''), 'sk-123');
    assert.equal(decryptSecret(sealed, sealed.SessionToken ?? ''), 'tok');
    assert.notEqual(encryptSecrets({ ...base, SecretKey: 'sk-123' }).SecretKey, sealed.SecretKey);
    assert.throws(() => decryptSecret({ ...sealed, UUID: 'other' }, sealed.SecretKey ?? ''), (e: unknown) => isFsError(e, Errno.EINVAL));
    assert.throws(() => decryptSecret(sealed, 'removed'), (e: unknown) => isFsError(e, Errno.EINVAL));
  });

  it('removeSecrets replaces only non-empty secrets', () => {
    const r = removeSecrets({ ...base, SecretKey: 'x', EncryptKey: 'k' });
    assert.equal(r.SecretKey, 'removed');
    assert.equal(r.SessionToken, undefined);
    assert.equal(r.EncryptKey, 'k');
    assert.equal(removeSecrets({ ...base, EncryptKey: 'k' }, true).EncryptKey, 'removed');
  });

  it('volume names follow ^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$', () => {
    for (const ok of ['abc', 'load-dump-test', 'a'.repeat(63)]) assert.ok(VOLUME_NAME_RE.test(ok), ok);
    for (const no of ['ab', 'Abc', '-abc', 'abc-', 'a_b', 'a'.repeat(64)]) assert.ok(!VOLUME_NAME_RE.test(no), no);
  });
});
