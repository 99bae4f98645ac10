import assert from 'node:assert/strict';
import { counter, createRegistry, dataBytesMetrics, metaTxnMetrics, metricName, opMetrics, opObserver } from '../../../src/observability/metrics.js';

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

  it('meta and data-byte helpers use the documented names', async function () {
    const registry = createRegistry();
    metaTxnMetrics(registry).restarts.inc({ engine: 'redis', op: 'rename' });
    dataBytesMetrics(registry).read.inc(4096);
    dataBytesMetrics(registry).written.inc(1024);
    const text = await registry.metrics();
    assert.match(text, /^ferry_meta_txn_restarts_total\{engine="redis",op="rename"\} 1$/m);
    assert.match(text, /^ferry_vfs_read_bytes_total 4096$/m);
    assert.match(text, /^ferry_vfs_written_bytes_total 1024$/m);
  });

  it('an op observer counts every record, errors only when named, and observes latency', async function () {
    const registry = createRegistry();
    const o = opObserver('webdav', registry);
    o.record('GET', 0.01);
    o.record('GET', 0.02, '404');
    const text = await registry.metrics();
    assert.match(text, /^ferry_webdav_ops_total\{op="GET"\} 2$/m);
    assert.match(text, /^ferry_webdav_errors_total\{op="GET",error="404"\} 1$/m);
    assert.match(text, /^ferry_webdav_op_seconds_count\{op="GET"\} 2$/m);
  });
});
