/**
 * The `cache.*` and `storage.*` keys of docs/configuration.md take effect in `ferry serve`: each
 * group is started with non-default values and the effect is looked for on disk or in /metrics.
 * The mapping of every key onto the component options is checked without a process as well.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../../src/daemon/config.js';
import { volumeOptionsOf } from '../../../src/daemon/volume.js';
import { createRegistry } from '../../../src/observability/metrics.js';
import { baseConfig, sample, startServeProcess, type RunningAppliance } from '../../helpers/appliance.js';
import { tmpDirOnOtherFs } from '../../helpers/tmp.js';

/** Every file below `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

async function put(app: RunningAppliance, name: string, bytes: number): Promise<void> {
  const r = await fetch(`http://127.0.0.1:${app.ports.webdav}/${name}`, { method: 'PUT', body: Buffer.alloc(bytes, 1) });
  assert.equal(r.status, 201, app.out());
}

async function untilMetric(app: RunningAppliance, ok: (text: string) => boolean): Promise<string> {
  let text = '';
  for (let i = 0; i < 100; i++) {
    text = await app.metrics();
    if (ok(text)) return text;
    await new Promise((r) => setTimeout(r, 100));
  }
  return text;
}

describe('ferry serve honours the cache.* and storage.* keys', function () {
  this.timeout(60_000);
  let app: RunningAppliance | undefined;

  afterEach(async function () {
    if (app !== undefined) assert.equal(await app.stop(), 0, app.out());
    app = undefined;
  });

  it('maps cache.dirs, cache-size, free-space-ratio, write-back, buffer-size and storage.* onto the volume options', function () {
    const config = parseConfig([
      'data-dir: /srv/ferry',
      'storage:',
      '  storage: s3',
      '  bucket: https://s3.example.com/b',
      '  access-key: AKFILE',
      'cache:',
      '  dirs: [/nvme0/ferry, /nvme1/ferry]',
      '  cache-size: 2GiB',
      '  free-space-ratio: 0.25',
      '  write-back: true',
      '  buffer-size: 128',
    ].join('\n'), 'test.yaml', {}, { FERRY_S3_SECRET_KEY: 'sk', AWS_SESSION_TOKEN: 'tok' });
    const o = volumeOptionsOf(config, createRegistry());
    assert.deepEqual(o.cacheDirs, ['/nvme0/ferry', '/nvme1/ferry']);
    assert.deepEqual(o.cache, { cacheSizeBytes: 2 * 2 ** 30, freeSpaceRatio: 0.25 });
    assert.equal(o.writeBack, true);
    assert.equal(o.budget?.capacityBytes, 128 * 2 ** 20);
    assert.deepEqual(o.storage, { storage: 's3', bucket: 'https://s3.example.com/b', accessKey: 'AKFILE', secretKey: 'sk', sessionToken: 'tok' });
  });

  it('cache.dirs defaults to the systemd cache directory with the packaged data-dir, else to <data-dir>/cache', function () {
    assert.deepEqual(parseConfig('', 'x').cache.dirs, ['/var/cache/ferry']);
    assert.deepEqual(parseConfig('data-dir: /srv/f', 'x').cache.dirs, ['/srv/f/cache']);
  });

  it('write-back on: blocks are staged in the configured cache dir and uploaded in the background', async function () {
    const nvme = tmpDirOnOtherFs('ferry-nvme-');
    app = await startServeProcess({ config: (dir, ports) => [
      ...baseConfig(dir, ports), 'cache:', `  dirs: [${nvme}]`, '  write-back: true'] });
    await put(app, 'a.bin', 200_000);
    const text = await untilMetric(app, (t) => (sample(t, 'ferry_cache_uploads_total') ?? 0) >= 1 && sample(t, 'ferry_cache_staged_blocks') === 0);
    assert.ok((sample(text, 'ferry_cache_uploads_total') ?? 0) >= 1, 'the block went through staging');
    const cached = filesUnder(nvme);
    assert.ok(cached.some((f) => /^[0-9a-f-]{36}\/raw\/chunks\//.test(f)), `uploaded blocks stay in the cache dir: ${cached.join(', ')}`);
    assert.ok(!existsSync(join(app.dir, 'data', 'cache')), 'the default cache dir is not used');
    assert.ok(filesUnder(join(app.dir, 'data', 'objects')).length >= 1, 'the block reached the object store');
  });

  it('a cache dir on the file store\'s file system only stages write-back blocks: uploaded and read blocks are not kept there', async function () {
    app = await startServeProcess({ config: (dir, ports) => [
      ...baseConfig(dir, ports), 'cache:', `  dirs: [${join(dir, 'nvme')}]`, '  write-back: true'] });
    await put(app, 'a.bin', 200_000);
    await untilMetric(app, (t) => (sample(t, 'ferry_cache_uploads_total') ?? 0) >= 1 && sample(t, 'ferry_cache_staged_blocks') === 0);
    const r = await fetch(`http://127.0.0.1:${app.ports.webdav}/a.bin`);
    assert.equal((await r.arrayBuffer()).byteLength, 200_000);
    const text = await app.metrics();
    assert.ok((sample(text, 'ferry_cache_uploads_total') ?? 0) >= 1, 'the block went through staging');
    assert.deepEqual(filesUnder(join(app.dir, 'nvme')).filter((f) => /\/raw\//.test(f)), [], 'no second copy of the objects next to them');
    assert.ok(filesUnder(join(app.dir, 'data', 'objects')).length >= 1, 'the block reached the object store');
  });

  it('write-back off: writes go straight to the object store, nothing is staged', async function () {
    app = await startServeProcess({ extra: ['cache:', '  write-back: false'] });
    await put(app, 'a.bin', 200_000);
    assert.ok(filesUnder(join(app.dir, 'data', 'objects')).length >= 1, 'uploaded before PUT returned');
    const text = await app.metrics();
    assert.equal(sample(text, 'ferry_cache_uploads_total'), 0);
    assert.ok((sample(text, 'ferry_object_requests_total', { op: 'put' }) ?? 0) >= 1);
    assert.ok(existsSync(join(app.dir, 'data', 'cache')), 'the default cache dir <data-dir>/cache is created');
  });

  it('cache.cache-size bounds the disk cache: older blocks are evicted', async function () {
    app = await startServeProcess({ extra: ['cache:', `  dirs: [${tmpDirOnOtherFs('ferry-nvme-')}]`, '  write-back: true', '  cache-size: 1M'] });
    for (const name of ['a', 'b', 'c', 'd']) await put(app, `${name}.bin`, 600_000);
    const text = await untilMetric(app, (t) => (sample(t, 'ferry_cache_evictions_total', { tier: 'disk' }) ?? 0) >= 1);
    assert.ok((sample(text, 'ferry_cache_evictions_total', { tier: 'disk' }) ?? 0) >= 1, text.split('\n').filter((l) => l.startsWith('ferry_cache')).join('\n'));
    assert.ok((sample(text, 'ferry_cache_used_bytes', { tier: 'disk' }) ?? Infinity) <= 2 ** 20);
  });

  it('storage.storage and storage.bucket replace the object store of the format', async function () {
    app = await startServeProcess({ config: (dir, ports) => [
      ...baseConfig(dir, ports), 'storage:', '  storage: file', `  bucket: ${join(dir, 'elsewhere')}/`] });
    await put(app, 'a.bin', 10_000);
    const moved = filesUnder(join(app.dir, 'elsewhere'));
    assert.ok(moved.some((f) => f.startsWith('ferry/chunks/')), `objects under the configured bucket: ${moved.join(', ')}`);
    assert.deepEqual(filesUnder(join(app.dir, 'data', 'objects')), [], 'the format bucket is not written');
  });
});
