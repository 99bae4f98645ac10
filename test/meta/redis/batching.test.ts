/**
 * Tick batching (batcher.ts) and its use by the Redis engine: requests of one tick become one
 * command, yet every item is checked and answered on its own.
 */
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { TickBatcher } from '../../../src/meta/redis/batcher.js';
import { RedisEngine } from '../../../src/meta/redis/engine.js';
import { FileType, ROOT_INODE, toIno } from '../../../src/meta/types.js';
import { Errno, isFsError } from '../../../src/util/errno.js';
import { type Fixture, SETTING, dirAttr, fileAttr, freshRedis, mk, name, newIno, tick } from './fixture.js';

describe('tick batcher', () => {
  it('sends the items of one tick together, at most `max` per send, answering each in order', async () => {
    const sends: number[][] = [];
    const b = new TickBatcher<number, number>(async (items) => { sends.push(items); return items.map((x) => x * 10); }, 3);
    const out = await Promise.all([1, 2, 3, 4, 5].map((x) => b.add(x)));
    assert.deepEqual(out, [10, 20, 30, 40, 50]);
    assert.deepEqual(sends, [[1, 2, 3], [4, 5]]);
    assert.equal(await b.add(6), 60);
    assert.deepEqual(sends[2], [6]);
  });

  it('an Error result rejects only its item; a failed send rejects the whole batch', async () => {
    let fail = false;
    const b = new TickBatcher<number, number>(async (items) => {
      if (fail) throw new Error('down');
      return items.map((x) => (x === 2 ? new Error('bad item') : x));
    }, 10);
    const r = await Promise.allSettled([1, 2, 3].map((x) => b.add(x)));
    assert.deepEqual(r.map((x) => x.status), ['fulfilled', 'rejected', 'fulfilled']);
    fail = true;
    const r2 = await Promise.allSettled([1, 3].map((x) => b.add(x)));
    assert.ok(r2.every((x) => x.status === 'rejected'));
  });
});

describe('redis engine: batched getattr, lookup, mknod and getxattr', function () {
  let f: Fixture;
  beforeEach(async () => { f = await freshRedis(); });
  afterEach(async () => { await f.cleanup(); });

  it('32 concurrent creates of one name in one tick: exactly one wins, the rest get EEXIST', async () => {
    const inos = await Promise.all(Array.from({ length: 32 }, () => newIno(f.engine)));
    const r = await Promise.allSettled(inos.map((ino) => f.engine.doMknod({
      parent: ROOT_INODE, name: name('same'), ino, attr: fileAttr(), onExist: 'fail', now: tick(),
    })));
    assert.equal(r.filter((x) => x.status === 'fulfilled').length, 1);
    for (const x of r) if (x.status === 'rejected') assert.ok(isFsError(x.reason, Errno.EEXIST));
    assert.equal(await f.raw.get('totalInodes'), '1');
    assert.equal(await f.raw.hget('dirUsedInodes', '1'), '1');
  });

  it('one batch mixing parents, a missing parent, mkdirs and files answers each item and sums the counters', async () => {
    const a = await mk(f.engine, ROOT_INODE, 'a', FileType.Directory);
    const b = await mk(f.engine, ROOT_INODE, 'b', FileType.Directory);
    const items = [
      { parent: a, n: 'x', type: FileType.File }, { parent: b, n: 'y', type: FileType.Directory },
      { parent: toIno(999_999), n: 'z', type: FileType.File }, { parent: a, n: 'sub', type: FileType.Directory },
      { parent: b, n: 'w', type: FileType.File },
    ];
    const inos = await Promise.all(items.map(() => newIno(f.engine)));
    const r = await Promise.allSettled(items.map((it, i) => f.engine.doMknod({
      parent: it.parent, name: name(it.n), ino: inos[i] ?? toIno(0),
      attr: it.type === FileType.Directory ? dirAttr({ parent: it.parent }) : fileAttr({ parent: it.parent }), onExist: 'fail', now: tick(),
    })));
    assert.deepEqual(r.map((x) => x.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const third = r[2];
    assert.ok(third?.status === 'rejected' && isFsError(third.reason, Errno.ENOENT));
    assert.equal((await f.engine.doGetAttr(a)).nlink, 3);
    assert.equal((await f.engine.doGetAttr(b)).nlink, 3);
    assert.equal(await f.raw.get('totalInodes'), '6');
    assert.equal(await f.raw.get('usedSpace'), String(6 * 4096));
    assert.deepEqual(await f.engine.doGetDirStats(a), { dataLength: 0, usedSpace: 8192, usedInodes: 2 });
    assert.deepEqual(await f.engine.doGetDirStats(b), { dataLength: 0, usedSpace: 8192, usedInodes: 2 });
  });

  it('32 concurrent getattrs and lookups cost one command each batch', async () => {
    const ino = await mk(f.engine, ROOT_INODE, 'f');
    // a client that counts what it sends, under an engine built on it
    const client = new Redis({ host: '127.0.0.1', port: f.raw.options.port ?? 0, db: f.db, lazyConnect: true });
    await client.connect();
    let sent = 0;
    let last: { name: string; keys: number } | undefined;
    const send = client.sendCommand.bind(client);
    client.sendCommand = ((...args: Parameters<Redis['sendCommand']>) => {
      sent++;
      last = { name: args[0].name, keys: args[0].args.length };
      return send(...args);
    }) as Redis['sendCommand'];
    const engine = new RedisEngine(client, '');
    try {
      await engine.doFormat(SETTING, null, null);
      sent = 0;
      const attrs = await Promise.all(Array.from({ length: 32 }, () => engine.doGetAttr(ino)));
      assert.ok(attrs.every((a) => a.type === FileType.File));
      assert.equal(sent, 1);
      assert.deepEqual(last, { name: 'mget', keys: 1 }, 'one key for an inode asked for 32 times');
      // repeated and missing inodes in one tick: each key once, each asker answered in order
      const other = await mk(engine, ROOT_INODE, 'g');
      sent = 0;
      const mixed = await Promise.allSettled([ino, other, ino, toIno(424243), other].map((i) => engine.doGetAttr(i)));
      assert.equal(sent, 1);
      assert.deepEqual(last, { name: 'mget', keys: 3 });
      assert.deepEqual(mixed.map((r) => (r.status === 'fulfilled' ? r.value.type : 'rejected')), [FileType.File, FileType.File, FileType.File, 'rejected', FileType.File]);
      sent = 0;
      const found = await Promise.all(Array.from({ length: 32 }, () => engine.doLookup(ROOT_INODE, name('f'))));
      assert.ok(found.every((e) => e.ino === ino));
      assert.ok(sent <= 2, `${sent} commands (EVALSHA, plus EVAL if the script was not loaded)`);
      await assert.rejects(engine.doGetAttr(toIno(424242)), { code: 'ENOENT' });
    } finally {
      await engine.close();
    }
  });

  it('getxattrs of one tick (one pipeline) answer each inode and name on its own, ENODATA where absent', async () => {
    const inos = await Promise.all(['a', 'b', 'c'].map((n) => mk(f.engine, ROOT_INODE, n)));
    const [a, b, c] = inos;
    assert.ok(a !== undefined && b !== undefined && c !== undefined);
    await f.engine.doSetXattr(a, name('user.p'), name('va'), 0);
    await f.engine.doSetXattr(c, name('user.p'), name('vc'), 0);
    await f.engine.doSetXattr(c, name('user.q'), name('qc'), 0);
    const r = await Promise.allSettled([
      f.engine.doGetXattr(a, name('user.p')), f.engine.doGetXattr(b, name('user.p')),
      f.engine.doGetXattr(c, name('user.p')), f.engine.doGetXattr(c, name('user.q')), f.engine.doGetXattr(a, name('user.q')),
    ]);
    const got = r.map((x) => (x.status === 'fulfilled' ? x.value.toString() : isFsError(x.reason, Errno.ENODATA) ? 'ENODATA' : String(x.reason)));
    assert.deepEqual(got, ['va', 'ENODATA', 'vc', 'qc', 'ENODATA']);
  });
});
