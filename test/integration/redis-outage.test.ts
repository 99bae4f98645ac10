/**
 * A Redis outage under both protocols, with a redis-server of the test's own that it stops and
 * starts again on the same port and append-only file: while Redis refuses connections, NFS calls
 * answer NFS3ERR_JUKEBOX (the Linux client waits and sends them again, the application sees no
 * error) without attribute reads that would wait as long again, a retransmitted non-idempotent
 * call runs once Redis is back instead of getting that JUKEBOX from the duplicate request cache,
 * and WebDAV answers 503 with Retry-After; afterwards both serve the volume as before.
 */
import assert from 'node:assert/strict';
import {
  NFS3_OK, NFS3ERR_JUKEBOX, NFS_PROGRAM, NFS_V3, NFSPROC3_MKDIR, encodeDiropargs3, encodeSattr3,
} from '../../src/protocols/nfs/nfs3/types.js';
import { SUCCESS } from '../../src/protocols/nfs/rpc/message.js';
import { XdrReader } from '../../src/protocols/nfs/xdr/reader.js';
import { XdrWriter } from '../../src/protocols/nfs/xdr/writer.js';
import { startHarness } from '../helpers/nfs-harness.js';
import { DURABLE_REDIS_ARGS, startRedis, type RedisServer } from '../helpers/redis-server.js';
import { sysCred } from '../helpers/rpc-client.js';
import { startDavHarness } from '../helpers/webdav-harness.js';

describe('a Redis outage under NFS and WebDAV (own redis-server, stopped and started again)', function () {
  this.timeout(120_000);
  let redis: RedisServer;
  beforeEach(async () => {
    redis = await startRedis({ databases: 2, args: DURABLE_REDIS_ARGS });
  });
  afterEach(async () => {
    await redis.stop();
  });

  it('NFS answers JUKEBOX without attributes while Redis is down; the same MKDIR sent again runs once it is back', async () => {
    const h = await startHarness({ engine: 'redis', redisUrl: redis.url(1), exports: [{ path: '/', squash: 'no_root_squash' }], cred: sysCred(0, 0) });
    try {
      const made = await h.client.create(h.root, 'before');
      assert.equal(made.status, NFS3_OK);
      const fh = made.fh ?? assert.fail('CREATE answered no handle');
      await redis.stop();

      assert.equal((await h.client.getattr(fh)).status, NFS3ERR_JUKEBOX);
      const args = new XdrWriter();
      encodeDiropargs3(args, { dir: h.root, name: Buffer.from('during') });
      encodeSattr3(args, { mode: 0o755 });
      const mkdir = { prog: NFS_PROGRAM, vers: NFS_V3, proc: NFSPROC3_MKDIR, cred: sysCred(0, 0), args: args.toBuffer(), xid: h.client.rpc.newXid() };
      const down = await h.client.rpc.call(mkdir);
      assert.ok(down.stat === SUCCESS);
      const r = new XdrReader(down.body);
      assert.equal(r.u32(), NFS3ERR_JUKEBOX);
      assert.deepEqual([r.u32(), r.u32()], [0, 0], 'wcc_data without pre- and post-operation attributes');
      assert.equal(down.body.length, 12);

      redis = await redis.startAgain();
      const again = await h.client.rpc.call(mkdir); // the client's retry, same xid
      assert.ok(again.stat === SUCCESS);
      assert.equal(again.body.readUInt32BE(0), NFS3_OK, 'the retransmission ran instead of replaying the JUKEBOX');
      assert.equal((await h.client.lookup(h.root, 'during')).status, NFS3_OK);
      assert.equal((await h.client.getattr(fh)).status, NFS3_OK, 'the handle from before the outage is still good');
    } finally {
      await h.close();
    }
  });

  it('WebDAV answers 503 with Retry-After while Redis is down and serves the volume again once it is back', async () => {
    const h = await startDavHarness({ engine: 'redis', redisUrl: redis.url(1) });
    try {
      assert.equal((await h.req('PUT', '/f.txt', {}, 'before')).status, 201);
      await redis.stop();

      const calls: [string, string, Record<string, string>, string | undefined][] = [
        ['GET', '/f.txt', {}, undefined], ['PUT', '/g.txt', {}, 'during'], ['PROPFIND', '/', { Depth: '1' }, undefined], ['MKCOL', '/d', {}, undefined],
      ];
      for (const [method, path, headers, body] of calls) {
        const res = await h.req(method, path, headers, body);
        assert.equal(res.status, 503, `${method} ${path}: ${res.text}`);
        assert.equal(res.headers['retry-after'], '1');
      }

      redis = await redis.startAgain();
      assert.equal((await h.req('GET', '/f.txt')).text, 'before');
      assert.equal((await h.req('PUT', '/g.txt', {}, 'after')).status, 201, 'the PUT refused during the outage created nothing');
      assert.equal((await h.req('GET', '/g.txt')).text, 'after');
    } finally {
      await h.close();
    }
  });
});
