import assert from 'node:assert/strict';
import { counter, createRegistry, metaTxnMetrics, metricName, opMetrics, writeMetrics } from '../../../src/observability/metrics.js';

describe('metrics registry (ferry_<layer>_<what>_<unit>)', function () {
  it('builds names from layer, what and unit and rejects malformed parts', function () {
    assert.equal(metricName('meta', 'txn', 'seconds'), 'ferry_meta_txn_seconds');
    assert.throws(() => metricName('nfs', 'Op-Count', 'total'), /must match/);
  });

  it('protocol op metrics count ops and errors and observe latency per op', async function () {
    const registry = createRegistry();
    const m = opMetrics('nfs', registry);
    m.ops.inc({ op: 'READ' });
    m.errors.inc({ op: 'READ', error: 'NFS3ERR_IO' });
    m.latency.observe({ op: 'READ' }, 0.002);
    const text = await registry.metrics();
    assert.match(text, /^ferry_nfs_ops_total\{op="READ"\} 1$/m);
    assert.match(text, /^ferry_nfs_errors_total\{op="READ",error="NFS3ERR_IO"\} 1$/m);
    assert.match(text, /^ferry_nfs_op_seconds_count\{op="READ"\} 1$/m);
  });

  it('asking twice for the same metric returns the registered one instead of throwing', function () {
    const registry = createRegistry();
    const a = counter({ layer: 'webdav', what: 'ops', help: 'x', registry });
    const b = counter({ layer: 'webdav', what: 'ops', help: 'x', registry });
    assert.equal(a, b);
    assert.equal(metaTxnMetrics(registry).txn, metaTxnMetrics(registry).txn);
  });

  it('meta and write-path helpers use the documented names', async function () {
    const registry = createRegistry();
    metaTxnMetrics(registry).restarts.inc({ engine: 'redis' });
    writeMetrics(registry).stagedBlocks.set(4);
    writeMetrics(registry).bufferUsed.set(1024);
    const text = await registry.metrics();
    assert.match(text, /^ferry_meta_txn_restarts_total\{engine="redis"\} 1$/m);
    assert.match(text, /^ferry_cache_staged_pending_blocks 4$/m);
    assert.match(text, /^ferry_vfs_write_buffer_used_bytes 1024$/m);
  });
});
