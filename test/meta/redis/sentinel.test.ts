/**
 * The Redis engine through Redis Sentinel (`redis://master,sentinel:port/db`) against real
 * processes: a master, a replica and a sentinel (redis-server --sentinel) on free loopback ports.
 * The engine finds the master through the sentinel, and after a failover (SENTINEL FAILOVER: the
 * replica is promoted, the old master demoted and its clients disconnected) it follows the new
 * master: what was written before is there, and new writes go to the new master.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { openRedisEngine, type RedisEngine } from '../../../src/meta/redis/engine.js';
import { ROOT_INODE } from '../../../src/meta/types.js';
import { Errno, isFsError } from '../../../src/util/errno.js';
import { waitFor } from '../../helpers/deferred.js';
import { freePort } from '../../helpers/free-port.js';
import { startRedis, type RedisServer } from '../../helpers/redis-server.js';
import { tmpDir } from '../../helpers/tmp.js';
import { dirAttr, mk, name, SETTING } from './fixture.js';

const MASTER = 'ferrymaster';
/** A probe of a server that may not answer yet: a failure counts as "not yet". */
const orFalse = (probe: () => Promise<boolean>) => (): Promise<boolean> => probe().catch(() => false);

describe('redis engine through Sentinel', function () {
  this.timeout(90_000);
  let master: RedisServer;
  let replica: RedisServer;
  let sentinelPort: number;
  let sentinel: ChildProcess;
  let admin: Redis; // talks to the sentinel

  before(async () => {
    master = await startRedis({ databases: 16 });
    replica = await startRedis({ databases: 16, args: ['--replicaof', '127.0.0.1', String(master.port)] });
    sentinelPort = await freePort();
    const conf = join(tmpDir('ferry-sentinel-'), 'sentinel.conf');
    writeFileSync(conf, [
      `port ${sentinelPort}`, 'bind 127.0.0.1', `sentinel monitor ${MASTER} 127.0.0.1 ${master.port} 1`,
      `sentinel down-after-milliseconds ${MASTER} 2000`, `sentinel failover-timeout ${MASTER} 10000`, '',
    ].join('\n'));
    sentinel = spawn('redis-server', [conf, '--sentinel', '--loglevel', 'warning'], { stdio: ['ignore', 'ignore', 'inherit'] });
    admin = new Redis({ host: '127.0.0.1', port: sentinelPort, lazyConnect: true, retryStrategy: (n) => (n > 100 ? null : 100) });
    admin.on('error', () => undefined); // refused until the sentinel listens: waitFor retries
    await waitFor(orFalse(async () => { await admin.connect().catch(() => undefined); return (await admin.ping()) === 'PONG'; }), 'the sentinel', 10_000, 100);
    // a forced failover needs the sentinel to know a replica that is in sync
    await waitFor(orFalse(async () => {
      const replicas = await admin.call('SENTINEL', 'REPLICAS', MASTER) as string[][];
      return replicas.some((r) => {
        const f = new Map<string, string>();
        for (let i = 0; i + 1 < r.length; i += 2) f.set(r[i] ?? '', r[i + 1] ?? '');
        return f.get('port') === String(replica.port) && f.get('master-link-status') === 'ok' && !(f.get('flags') ?? '').includes('down');
      });
    }), 'the replica in sync and known to the sentinel', 30_000, 100);
  });

  after(async () => {
    admin?.disconnect();
    if (sentinel?.pid !== undefined && sentinel.exitCode === null) {
      const exited = new Promise((r) => sentinel.once('exit', r));
      process.kill(sentinel.pid, 'SIGTERM');
      await exited;
    }
    await replica?.stop();
    await master?.stop();
  });

  const masterPort = async (): Promise<string | undefined> => {
    const addr = await admin.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER) as string[] | null;
    return addr?.[1];
  };

  it('finds the master through the sentinel and follows it across a failover', async function () {
    const url = `redis://${MASTER},127.0.0.1:${sentinelPort}/3`;
    const engine: RedisEngine = await openRedisEngine(url, { connectTimeoutMs: 5000 });
    try {
      await engine.doFormat(SETTING, dirAttr({ parent: ROOT_INODE, mode: 0o777 }), null);
      const before = await mk(engine, ROOT_INODE, 'before-failover');
      // the write reached the master the sentinel named, and its replica
      const onMaster = new Redis({ host: '127.0.0.1', port: master.port, db: 3 });
      try {
        assert.ok(await onMaster.exists(`i${before}`) === 1, 'written to the master');
        assert.equal(await onMaster.call('WAIT', '1', '5000'), 1, 'replicated');
      } finally {
        onMaster.disconnect();
      }

      assert.equal(await admin.call('SENTINEL', 'FAILOVER', MASTER), 'OK');
      await waitFor(orFalse(async () => (await masterPort()) === String(replica.port)), 'the replica promoted', 30_000, 100);
      // until the sentinel has demoted the old master (at its next INFO poll, up to 10 s) that one
      // still takes writes, and drops them when it turns replica: Redis's own window, which
      // failoverDetector narrows but cannot close; the test waits it out
      const old = new Redis({ host: '127.0.0.1', port: master.port });
      try {
        await waitFor(orFalse(async () => /role:slave/.test(await old.info('replication'))), 'the old master demoted', 30_000, 100);
      } finally {
        old.disconnect();
      }

      // the demoted master's clients were disconnected: the engine asks the sentinel again
      let after: bigint | undefined;
      let transient = 0;
      await waitFor(async () => {
        try {
          after = await mk(engine, ROOT_INODE, 'after-failover');
          return true;
        } catch (err) {
          // during the switch a call may fail as the NFS/WebDAV layers would report it, retryably
          if (!(isFsError(err, Errno.EIO) || isFsError(err, Errno.EROFS) || isFsError(err, Errno.EAGAIN))) throw err;
          transient++;
          return false;
        }
      }, 'a write after the failover', 30_000, 100);
      assert.ok(after !== undefined);
      assert.ok(transient < 50, `${transient} failed attempts`);
      assert.equal((await engine.doLookup(ROOT_INODE, name('before-failover'))).ino, before);
      const onNew = new Redis({ host: '127.0.0.1', port: replica.port, db: 3 });
      try {
        assert.equal(await onNew.exists(`i${after}`), 1, 'the new write is on the promoted replica');
        assert.equal(await onNew.hexists('d1', 'after-failover'), 1);
      } finally {
        onNew.disconnect();
      }
    } finally {
      await engine.close();
    }
  });
});
