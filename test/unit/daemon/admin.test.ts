import assert from 'node:assert/strict';
import { Counter } from 'prom-client';
import { READY_PROBE_MS, startAdmin, type AdminServer } from '../../../src/daemon/admin.js';
import { createRegistry } from '../../../src/observability/metrics.js';
import { Errno, FsError } from '../../../src/util/errno.js';

describe('admin listener (/healthz, /readyz, /metrics)', function () {
  let admin: AdminServer | undefined;
  afterEach(async function () { await admin?.close(); admin = undefined; });

  const get = async (path: string): Promise<{ status: number; body: string; type: string | null }> => {
    assert.ok(admin);
    const res = await fetch(`http://127.0.0.1:${admin.port}${path}`);
    return { status: res.status, body: await res.text(), type: res.headers.get('content-type') };
  };

  it('/healthz is 200 while the process runs; /readyz is 503 until marked ready and again once stopping', async function () {
    admin = await startAdmin({ host: '127.0.0.1', port: 0, registry: createRegistry() });
    assert.equal((await get('/healthz')).status, 200);
    assert.deepEqual(await get('/readyz').then((r) => [r.status, r.body]), [503, 'starting\n']);
    admin.markReady();
    assert.equal((await get('/readyz')).status, 200);
    admin.markStopping();
    assert.deepEqual(await get('/readyz').then((r) => [r.status, r.body]), [503, 'stopping\n']);
    admin.markReady();
    assert.equal((await get('/readyz')).status, 503, 'a stopping process never becomes ready again');
    assert.equal((await get('/healthz')).status, 200);
  });

  it('/readyz follows the readiness probe: 503 with the reason while it fails or takes longer than READY_PROBE_MS, 200 again once it passes', async function () {
    this.timeout(10_000);
    admin = await startAdmin({ host: '127.0.0.1', port: 0, registry: createRegistry() });
    let answer: 'ok' | 'fail' | 'hang' = 'ok';
    admin.markReady(async () => {
      if (answer === 'fail') throw new FsError(Errno.ETIMEDOUT, 'getattr: Reached the max retries per request limit');
      if (answer === 'hang') await new Promise((resolve) => setTimeout(resolve, READY_PROBE_MS + 1000));
    });
    assert.deepEqual(await get('/readyz').then((r) => [r.status, r.body]), [200, 'ready\n']);
    answer = 'fail';
    const failed = await get('/readyz');
    assert.equal(failed.status, 503);
    assert.match(failed.body, /^not ready: ETIMEDOUT: getattr/);
    answer = 'hang';
    const slow = await get('/readyz');
    assert.equal(slow.status, 503);
    assert.match(slow.body, new RegExp(`did not answer within ${READY_PROBE_MS} ms`));
    answer = 'ok';
    assert.equal((await get('/readyz')).status, 200);
    admin.markStopping();
    assert.deepEqual(await get('/readyz').then((r) => [r.status, r.body]), [503, 'stopping\n']);
  });

  it('/metrics serves the registry passed in, in Prometheus text format', async function () {
    const registry = createRegistry();
    new Counter({ name: 'ferry_test_things_total', help: 'things', registers: [registry] }).inc(3);
    admin = await startAdmin({ host: '127.0.0.1', port: 0, registry });
    const r = await get('/metrics');
    assert.equal(r.status, 200);
    assert.match(r.type ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(r.body, /^ferry_test_things_total 3$/m);
    assert.match(r.body, /^process_cpu_user_seconds_total /m, 'default process metrics are included');
  });

  it('other paths are 404 and other methods 405', async function () {
    admin = await startAdmin({ host: '127.0.0.1', port: 0, registry: createRegistry() });
    assert.equal((await get('/')).status, 404);
    const res = await fetch(`http://127.0.0.1:${admin.port}/healthz`, { method: 'POST' });
    assert.equal(res.status, 405);
  });

  it('a port in use rejects startAdmin', async function () {
    admin = await startAdmin({ host: '127.0.0.1', port: 0, registry: createRegistry() });
    await assert.rejects(startAdmin({ host: '127.0.0.1', port: admin.port, registry: createRegistry() }), /EADDRINUSE/);
  });
});
