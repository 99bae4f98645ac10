import assert from 'node:assert/strict';
import { decodeSetting, encodeSetting, immutableChanges } from '../../../src/meta/setting.js';
import type { Format } from '../../../src/meta/types.js';

/** The Setting of JuiceFS's metadata.sample (shared/fixtures/juicefs), field order as JuiceFS writes it. */
const sample = `{
"Name": "load-dump-test",
"UUID": "faa27c8f-edab-4791-a4e0-1620b732b343",
"Storage": "file",
"Tiers": {
"0": {
"ID": 0,
"StorageClass": "default",
"Tag": ""
},
"1": {
"ID": 1,
"StorageClass": "STANDARD_IA",
"Tag": ""
}
},
"Bucket": "/Users/juicefs/.juicefs/local/",
"SecretKey": "removed",
"BlockSize": 4096,
"Compression": "none",
"EncryptKey": "AQSttslKOSE/hQT/gmaMniCsdPF8JdPRfoYK6zFkdUOnifYwBA==",
"KeyEncrypted": true,
"TrashDays": 1,
"MetaVersion": 1,
"EnableACL": true
}`;

describe('volume setting JSON (spec §A)', () => {
  it('re-encodes a JuiceFS setting byte-identically (field order, omitempty, no indentation)', () => {
    assert.equal(encodeSetting(decodeSetting(sample)), sample);
  });

  it('writes non-omitempty fields even when empty (Tiers synthesised as tier 0, spec §A) and drops empty omitempty ones', () => {
    const f: Format = { Name: 'v', UUID: 'u', Storage: 'file', Bucket: '', BlockSize: 4096, TrashDays: 0, EnableACL: false, Shards: 0, Capacity: 0 };
    assert.equal(encodeSetting(f), '{\n"Name": "v",\n"UUID": "u",\n"Storage": "file",\n"Tiers": {\n"0": {\n"ID": 0,\n"StorageClass": "",\n"Tag": ""\n}\n},\n"Bucket": "",\n"BlockSize": 4096,\n"TrashDays": 0,\n"EnableACL": false\n}');
  });

  it('escapes <, > and & as Go does', () => {
    const f: Format = { Name: 'v', UUID: 'u', Storage: 's3', Bucket: 'http://h/b?a=1&b=<2>', BlockSize: 4096, TrashDays: 1, EnableACL: false };
    assert.ok(encodeSetting(f).includes('"Bucket": "http://h/b?a=1\\u0026b=\\u003c2\\u003e",'));
    assert.equal(decodeSetting(encodeSetting(f)).Bucket, f.Bucket);
  });

  it('lists immutable changes; "none" and empty compression are the same; empty UUID means keep', () => {
    const old = decodeSetting(sample);
    assert.deepEqual(immutableChanges(old, { ...old, Compression: '', UUID: '' }), []);
    assert.deepEqual(immutableChanges(old, { ...old, Name: 'x', BlockSize: 1024, HashPrefix: true }), ['Name', 'BlockSize', 'HashPrefix']);
    assert.deepEqual(immutableChanges(old, { ...old, UUID: 'other' }), ['UUID']);
    assert.deepEqual(immutableChanges(old, { ...old, TrashDays: 7, Capacity: 1 }), []);
  });

  it('rejects values that are not a setting', () => {
    assert.throws(() => decodeSetting('nope'), { code: 'EIO' });
    assert.throws(() => decodeSetting('{"UUID":"x"}'), { code: 'EIO' });
  });
});
