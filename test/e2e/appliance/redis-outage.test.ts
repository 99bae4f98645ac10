/**
 * `ferry serve` on a Redis volume while Redis goes away and comes back (a redis-server of the
 * test's own, restarted on its append-only file): /readyz answers 503 with the reason, so a load
 * balancer drains the appliance, WebDAV answers 503, the process keeps running, and both are
 * back to 200 once Redis is.
 */
import assert from 'node:assert/strict';
import { baseConfig, startServeProcess, type RunningAppliance } from '../../helpers/appliance.js';
import { formatFileVolume } from '../../helpers/ferry-serve.js';
import { DURABLE_REDIS_ARGS, startRedis, type RedisServer } from '../../helpers/redis-server.js';

describe('ferry serve while its Redis is down and back', function () {
  this.timeout(120_000);
  let redis: RedisServer;
  let app: RunningAppliance | undefined;
  beforeEach(async () => {
    redis = await startRedis({ databases: 2, args: DURABLE_REDIS_ARGS });
  });
  afterEach(async () => {
    await app?.stop();
    app = undefined;
    await redis.stop();
  });

  it('/readyz and WebDAV answer 503 while Redis is down, 200 again once it is back', async () => {
    const metaUrl = redis.url(1);
    await formatFileVolume(metaUrl, 'outage');
    app = await startServeProcess({ config: (dir, ports) => [...baseConfig(dir, ports), 'meta:', `  url: ${metaUrl}`] });
    const { admin, webdav } = app.ports;
    const readyz = async (): Promise<[number, string]> => {
      const r = await fetch(`http://127.0.0.1:${admin}/readyz`);
      return [r.status, await r.text()];
    };
    assert.equal((await fetch(`http://127.0.0.1:${webdav}/a.txt`, { method: 'PUT', body: 'before' })).status, 201);
    assert.deepEqual(await readyz(), [200, 'ready\n']);

    await redis.stop();
    const [status, body] = await readyz();
    assert.equal(status, 503);
    assert.match(body, /^not ready: /);
    const get = await fetch(`http://127.0.0.1:${webdav}/a.txt`);
    assert.equal(get.status, 503, await get.text());
    assert.equal(get.headers.get('retry-after'), '1');
    assert.equal(app.child.exitCode, null, 'the process keeps running');

    redis = await redis.startAgain();
    for (let tries = 0; (await readyz())[0] !== 200; tries++) {
      assert.ok(tries < 50, `not ready again: ${app.out()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(await (await fetch(`http://127.0.0.1:${webdav}/a.txt`)).text(), 'before');
  });
});
