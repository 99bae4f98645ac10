/**
 * The admin /metrics of a running `ferry serve`: after NFS and WebDAV requests, the per-operation
 * counters, error counters and latency histograms moved with the right labels, and so did the
 * data bytes, cache, object store, meta transaction and write-buffer metrics.
 */
import assert from 'node:assert/strict';
import { NFS3_OK, NFS3ERR_NOENT, FILE_SYNC } from '../../../src/protocols/nfs/nfs3/types.js';
import { sample, startServeProcess, type RunningAppliance } from '../../helpers/appliance.js';
import { Nfs3TestClient } from '../../helpers/nfs3-client.js';
import { sysCred } from '../../helpers/rpc-client.js';

describe('ferry serve: Prometheus metrics on the admin listener', function () {
  this.timeout(60_000);
  let app: RunningAppliance;
  let text = '';

  before(async function () {
    app = await startServeProcess({ extra: ['cache:', '  write-back: true', '  buffer-size: 64'] });
    const dav = `http://127.0.0.1:${app.ports.webdav}`;
    assert.equal((await fetch(`${dav}/dav.txt`, { method: 'PUT', body: 'x'.repeat(1000) })).status, 201);
    assert.equal((await (await fetch(`${dav}/dav.txt`)).text()).length, 1000);
    assert.equal((await fetch(`${dav}/missing.txt`)).status, 404);
    assert.equal((await fetch(dav, { method: 'PROPFIND', headers: { Depth: '1' } })).status, 207);

    const c = await Nfs3TestClient.connect(app.ports.nfs, sysCred(0, 0));
    try {
      const root = (await c.mount(app.ports.mount, '/')).fh;
      assert.ok(root);
      assert.equal((await c.lookup(root, 'nothere')).status, NFS3ERR_NOENT);
      const created = await c.create(root, 'nfs.bin');
      assert.equal(created.status, NFS3_OK);
      const fh = await c.fh(root, 'nfs.bin');
      assert.equal((await c.write(fh, 0, Buffer.alloc(3000, 7), FILE_SYNC)).status, NFS3_OK);
      assert.equal((await c.read(fh, 0, 3000)).data?.length, 3000);
    } finally {
      await c.close();
    }
    // Write-back uploads in the background: wait until the staged blocks reached the store.
    for (let i = 0; i < 100; i++) {
      text = await app.metrics();
      if ((sample(text, 'ferry_cache_uploads_total') ?? 0) >= 2 && sample(text, 'ferry_cache_staged_blocks') === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  after(async function () {
    assert.equal(await app.stop(), 0, app.out());
  });

  it('counts NFS calls per procedure, their failure status and their latency', function () {
    assert.ok((sample(text, 'ferry_nfs_ops_total', { op: 'LOOKUP' }) ?? 0) >= 2, text);
    assert.equal(sample(text, 'ferry_nfs_errors_total', { op: 'LOOKUP', error: 'NFS3ERR_NOENT' }), 1);
    assert.equal(sample(text, 'ferry_nfs_ops_total', { op: 'WRITE' }), 1);
    assert.equal(sample(text, 'ferry_nfs_op_seconds_count', { op: 'READ' }), 1);
    assert.equal(sample(text, 'ferry_nfs_errors_total', { op: 'WRITE', error: 'NFS3_OK' }), undefined, 'successes are not errors');
    assert.equal(sample(text, 'ferry_mount_ops_total', { op: 'MNT' }), 1, 'MOUNT calls are counted apart from NFSv3');
    assert.equal(sample(text, 'ferry_mount_op_seconds_count', { op: 'MNT' }), 1);
  });

  it('counts WebDAV requests per method, 4xx/5xx by status, and their latency', function () {
    assert.equal(sample(text, 'ferry_webdav_ops_total', { op: 'PUT' }), 1);
    assert.equal(sample(text, 'ferry_webdav_ops_total', { op: 'GET' }), 2);
    assert.equal(sample(text, 'ferry_webdav_errors_total', { op: 'GET', error: '404' }), 1);
    assert.equal(sample(text, 'ferry_webdav_op_seconds_count', { op: 'PROPFIND' }), 1);
  });

  it('counts file bytes read and written through the vfs', function () {
    assert.ok((sample(text, 'ferry_vfs_written_bytes_total') ?? 0) >= 4000);
    assert.ok((sample(text, 'ferry_vfs_read_bytes_total') ?? 0) >= 4000);
  });

  it('reports object store requests and latency, and cache hits, misses, uploads and staged blocks', function () {
    assert.ok((sample(text, 'ferry_object_requests_total', { op: 'put' }) ?? 0) >= 2, text);
    assert.ok((sample(text, 'ferry_object_request_duration_seconds_count', { op: 'put' }) ?? 0) >= 2);
    assert.match(text, /^# TYPE ferry_object_errors_total counter$/m);
    const hits = ['memory', 'disk', 'staging'].reduce((n, tier) => n + (sample(text, 'ferry_cache_hits_total', { tier }) ?? 0), 0);
    assert.ok(hits + (sample(text, 'ferry_cache_misses_total') ?? 0) >= 1, 'the reads went through the block cache');
    assert.equal(sample(text, 'ferry_cache_staged_blocks'), 0, 'every staged block was uploaded');
    assert.ok((sample(text, 'ferry_cache_uploads_total') ?? 0) >= 2);
    assert.match(text, /^# TYPE ferry_cache_evictions_total counter$/m);
  });

  it('reports meta transaction latency by engine and operation, restarts, background checkpoints, and the write buffer', function () {
    assert.ok((sample(text, 'ferry_meta_txn_seconds_count', { engine: 'sqlite', op: 'mknod' }) ?? 0) >= 2);
    assert.ok((sample(text, 'ferry_meta_txn_seconds_count', { engine: 'sqlite', op: 'writeSlice' }) ?? 0) >= 2);
    assert.match(text, /^# TYPE ferry_meta_txn_restarts_total counter$/m);
    // the embedded volume's WAL checkpoints run in a worker thread, which is alive
    assert.match(text, /^# TYPE ferry_meta_checkpoints_total counter$/m);
    assert.equal(typeof sample(text, 'ferry_meta_checkpoints_total'), 'number');
    assert.equal(typeof sample(text, 'ferry_meta_wal_frames_count'), 'number');
    assert.equal(sample(text, 'ferry_meta_checkpoint_fallback_count'), 0);
    assert.equal(sample(text, 'ferry_cache_buffer_capacity_bytes'), 64 * 2 ** 20, 'cache.buffer-size sizes the buffer budget');
    assert.equal(typeof sample(text, 'ferry_cache_buffer_used_bytes'), 'number');
  });
});
