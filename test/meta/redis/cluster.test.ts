/**
 * Redis Cluster mode (spec §B.1): a one-node cluster owning every slot. The engine detects it,
 * prefixes every key with the `{db}` hash tag, and passes the whole conformance suite that way.
 */
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../../helpers/redis-server.js';
import { nextRedisDb } from '../../helpers/hooks.js';
import { openRedisEngine } from '../../../src/meta/redis/engine.js';
import { ROOT_INODE } from '../../../src/meta/types.js';
import { adminScanConformance } from '../conformance/admin-scan.js';
import { type EngineUnderTest, metaConformance } from '../conformance/suite.js';
import { SETTING, dirAttr, mk } from './fixture.js';

let server: Promise<RedisServer> | null = null;

/** A one-node cluster, started on first use and stopped when this file's tests end. */
function clusterServer(): Promise<RedisServer> {
  server ??= (async () => {
    const srv = await startRedis({ args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-announce-ip', '127.0.0.1'] });
    const admin = new Redis({ host: '127.0.0.1', port: srv.port });
    try {
      await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
      for (let i = 0; i < 200; i++) {
        if (/cluster_state:ok/.test(String(await admin.call('CLUSTER', 'INFO')))) return srv;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('one-node cluster did not reach cluster_state:ok');
    } finally {
      admin.disconnect();
    }
  })();
  return server;
}

describe('redis engine: cluster mode', function () {
  after(async () => {
    if (server !== null) await (await server).stop();
  });

  it('detects the cluster and prefixes every key with {db}', async () => {
    const srv = await clusterServer();
    const engine = await openRedisEngine(srv.url(7));
    const raw = new Redis({ host: '127.0.0.1', port: srv.port });
    try {
      assert.equal(engine.isCluster, true);
      await engine.doReset();
      await engine.doFormat(SETTING, dirAttr({ parent: ROOT_INODE, mode: 0o777 }), null);
      const ino = await mk(engine, ROOT_INODE, 'f');
      assert.equal((await engine.doLookup(ROOT_INODE, Buffer.from('f'))).ino, ino);
      const keys = (await raw.keys('*')).filter((k) => k.startsWith('{7}')).sort();
      assert.deepEqual(keys, ['{7}d1', '{7}dirUsedInodes', '{7}dirUsedSpace', '{7}dirDataLength', `{7}i${ino}`, '{7}i1', '{7}nextinode', '{7}setting', '{7}totalInodes', '{7}usedSpace'].sort());
      assert.equal(await raw.get('{7}nextinode'), String(ino), 'last used inode id');
    } finally {
      raw.disconnect();
      await engine.close();
    }
  });

  const clusterEngine = async (): Promise<EngineUnderTest> => {
    const srv = await clusterServer();
    const engine = await openRedisEngine(srv.url(nextRedisDb()));
    await engine.doReset();
    return { engine, cleanup: () => engine.close() };
  };
  metaConformance('redis cluster ({db} hash tag)', clusterEngine);
  // volumes of other dbs share the cluster's keyspace: the scan must see only its own `{db}` keys
  adminScanConformance('redis cluster ({db} hash tag)', clusterEngine);
});
