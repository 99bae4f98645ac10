/**
 * Error mapping of the Redis engine (toFsError) against a real server: OOM -> ENOSPC, auth failures,
 * lost connections, script cache flushes (EVALSHA falls back to EVAL), stale expectations -> EAGAIN.
 */
import assert from 'node:assert/strict';
import { setTimeout } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { MaxRetriesPerRequestError } from 'ioredis/built/errors/index.js';
import { openRedisEngine, toFsError } from '../../../src/meta/redis/engine.js';
import { FileType, ROOT_INODE, toIno } from '../../../src/meta/types.js';
import { Errno, FsError } from '../../../src/util/errno.js';
import { rejects } from '../conformance/helpers.js';
import { sharedRedis, nextRedisDb } from '../../helpers/hooks.js';
import { startFreezeProxy } from '../../helpers/tcp-freeze-proxy.js';
import { type Fixture, fileAttr, freshRedis, mk, name, newIno, tick } from './fixture.js';

describe('redis engine: error mapping', function () {
  let f: Fixture;
  beforeEach(async () => { f = await freshRedis(); });
  afterEach(async () => { await f.cleanup(); });

  it('toFsError: nil, script codes, Redis replies and connection errors keep the original as cause', () => {
    assert.equal(toFsError(null, 'op').errno, Errno.ENOENT);
    assert.equal(toFsError(null, 'op', Errno.ENODATA).errno, Errno.ENODATA);
    assert.equal(toFsError(Errno.ENOTEMPTY, 'op').errno, Errno.ENOTEMPTY);
    const cases: [Error, Errno][] = [
      [new Error('OOM command not allowed when used memory > \'maxmemory\'.'), Errno.ENOSPC],
      [new Error('READONLY You can\'t write against a read only replica.'), Errno.EROFS],
      [new Error('LOADING Redis is loading the dataset in memory'), Errno.EAGAIN],
      [new Error('TRYAGAIN Multiple keys request during rehashing of slot'), Errno.EAGAIN],
      [new Error('CLUSTERDOWN The cluster is down'), Errno.EAGAIN],
      [new Error('Connection is closed.'), Errno.EIO],
      [new MaxRetriesPerRequestError(6) as unknown as Error, Errno.ETIMEDOUT], // its typings miss Error's fields
      [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), Errno.EIO],
      [new Error('WRONGPASS invalid username-password pair or user is disabled.'), Errno.EACCES],
      [new Error('something nobody expected'), Errno.EIO],
    ];
    for (const [err, errno] of cases) {
      const e = toFsError(err, 'op');
      assert.ok(e instanceof FsError);
      assert.equal(Errno[e.errno], Errno[errno], err.message);
      assert.equal(e.cause, err);
    }
    const same = new FsError(Errno.EEXIST, 'x');
    assert.equal(toFsError(same, 'op'), same);
  });

  it('a server out of memory turns a create into ENOSPC', async () => {
    const admin = new Redis({ host: '127.0.0.1', port: (await sharedRedis()).port });
    const before = await admin.config('GET', 'maxmemory') as string[];
    try {
      await admin.config('SET', 'maxmemory', '1');
      await rejects(mk(f.engine, ROOT_INODE, 'f'), Errno.ENOSPC);
    } finally {
      await admin.config('SET', 'maxmemory', before[1] ?? '0');
      admin.disconnect();
    }
    await mk(f.engine, ROOT_INODE, 'f');
  });

  it('after SCRIPT FLUSH the scripts are sent again (EVAL on NOSCRIPT)', async () => {
    await f.raw.script('FLUSH');
    const ino = await mk(f.engine, ROOT_INODE, 'f');
    assert.equal((await f.engine.doLookup(ROOT_INODE, name('f'))).ino, ino);
  });

  it('a changed entry makes unlink and rename answer EAGAIN (BaseMeta retries) and change nothing', async () => {
    const a = await mk(f.engine, ROOT_INODE, 'a');
    const b = await mk(f.engine, ROOT_INODE, 'b');
    await rejects(f.engine.doUnlink({ parent: ROOT_INODE, name: name('a'), expectIno: b, keepOpen: false, sid: 0, trash: null, now: tick(), rmdir: false }), Errno.EAGAIN);
    const rn = { srcParent: ROOT_INODE, srcName: name('a'), dstParent: ROOT_INODE, dstName: name('b'), flags: 0, dstKeepOpen: false, sid: 0, trash: null, now: tick() };
    await rejects(f.engine.doRename({ ...rn, expectSrcIno: b, expectDstIno: b }), Errno.EAGAIN);
    await rejects(f.engine.doRename({ ...rn, expectSrcIno: a, expectDstIno: null }), Errno.EAGAIN);
    await rejects(f.engine.doRename({ ...rn, dstName: name('c'), expectSrcIno: a, expectDstIno: b }), Errno.EAGAIN);
    assert.equal((await f.engine.doLookup(ROOT_INODE, name('a'))).ino, a);
    assert.equal((await f.engine.doLookup(ROOT_INODE, name('b'))).ino, b);
    assert.equal(await f.raw.get('totalInodes'), '2');
  });

  it('scripts re-check their preconditions: ENOENT/ENOTDIR parents, EEXIST names, ENOTEMPTY, EPERM links to dirs', async () => {
    const file = await mk(f.engine, ROOT_INODE, 'file');
    const dir = await mk(f.engine, ROOT_INODE, 'dir', FileType.Directory);
    await mk(f.engine, dir, 'inside');
    const mknod = async (parent: typeof dir, n: string): Promise<unknown> =>
      f.engine.doMknod({ parent, name: name(n), ino: await newIno(f.engine), attr: fileAttr({ parent }), onExist: 'fail', now: tick() });
    await rejects(mknod(toIno(424242), 'x'), Errno.ENOENT);
    await rejects(mknod(file, 'x'), Errno.ENOTDIR);
    await rejects(mknod(ROOT_INODE, 'file'), Errno.EEXIST);
    await rejects(f.engine.doUnlink({ parent: ROOT_INODE, name: name('dir'), expectIno: dir, keepOpen: false, sid: 0, trash: null, now: tick(), rmdir: true }), Errno.ENOTEMPTY);
    await rejects(f.engine.doUnlink({ parent: ROOT_INODE, name: name('dir'), expectIno: dir, keepOpen: false, sid: 0, trash: null, now: tick(), rmdir: false }), Errno.EISDIR);
    await rejects(f.engine.doUnlink({ parent: ROOT_INODE, name: name('file'), expectIno: file, keepOpen: false, sid: 0, trash: null, now: tick(), rmdir: true }), Errno.ENOTDIR);
    await rejects(f.engine.doLink({ ino: dir, parent: ROOT_INODE, name: name('l'), now: tick() }), Errno.EPERM);
    await rejects(f.engine.doLink({ ino: file, parent: ROOT_INODE, name: name('dir'), now: tick() }), Errno.EEXIST);
    await rejects(f.engine.doTruncate({ ino: dir, length: 1, now: tick() }), Errno.EISDIR);
    await rejects(f.engine.doWriteSlice({ ino: dir, indx: 0 as never, slice: { pos: 0, id: 1n as never, size: 1, off: 0, len: 1 }, mtime: tick(), now: tick() }), Errno.EPERM);
    await rejects(f.engine.doSetXattr(file, name('user.a'), name('1'), 2), Errno.ENODATA);
    await f.engine.doSetXattr(file, name('user.a'), name('1'), 1);
    await rejects(f.engine.doSetXattr(file, name('user.a'), name('2'), 1), Errno.EEXIST);
    await rejects(f.engine.doRemoveXattr(file, name('user.b')), Errno.ENODATA);
    await rejects(f.engine.doGetXattr(file, name('user.b')), Errno.ENODATA);
  });

  it('RENAME_EXCHANGE of a directory and a file across parents swaps them and moves one nlink each way', async () => {
    const p1 = await mk(f.engine, ROOT_INODE, 'p1', FileType.Directory);
    const p2 = await mk(f.engine, ROOT_INODE, 'p2', FileType.Directory);
    const d = await mk(f.engine, p1, 'd', FileType.Directory);
    const x = await mk(f.engine, p2, 'x');
    const r = await f.engine.doRename({
      srcParent: p1, srcName: name('d'), dstParent: p2, dstName: name('x'), flags: 2, expectSrcIno: d, expectDstIno: x,
      dstKeepOpen: false, sid: 0, trash: null, now: tick(),
    });
    assert.equal(r.attr.parent, p2);
    assert.equal((await f.engine.doLookup(p1, name('d'))).ino, x);
    assert.equal((await f.engine.doLookup(p2, name('x'))).ino, d);
    assert.equal((await f.engine.doGetAttr(x)).parent, p1);
    assert.equal((await f.engine.doGetAttr(p1)).nlink, 2);
    assert.equal((await f.engine.doGetAttr(p2)).nlink, 3);
  });

  it('a wrong password is EACCES; the password may come from REDIS_PASSWORD', async () => {
    const srv = await sharedRedis();
    const admin = new Redis({ host: '127.0.0.1', port: srv.port });
    try {
      await admin.call('ACL', 'SETUSER', 'ferrytest', 'on', '>right-pw', '~*', '&*', '+@all');
      const db = nextRedisDb();
      await admin.select(db);
      await admin.flushdb(); // db numbers wrap around in a long run
      await rejects(openRedisEngine(`redis://ferrytest:wrong@127.0.0.1:${srv.port}/${db}`, { env: {} }), Errno.EACCES);
      const e = await openRedisEngine(`redis://ferrytest@127.0.0.1:${srv.port}/${db}`, { env: { REDIS_PASSWORD: 'right-pw' } });
      assert.equal(await e.getSetting(), null);
      await e.close();
    } finally {
      await admin.call('ACL', 'DELUSER', 'ferrytest');
      admin.disconnect();
    }
  });

  it('a connection gone silent (partition, hung server) is dropped after read-timeout: new calls fail with ETIMEDOUT, the one in flight is sent again once Redis answers', async function () {
    this.timeout(60_000);
    const srv = await sharedRedis();
    const proxy = await startFreezeProxy(srv.port);
    const db = Number(new URL(f.url).pathname.slice(1));
    const e = await openRedisEngine(`redis://127.0.0.1:${proxy.port}/${db}?read-timeout=300ms`);
    try {
      const ino = await mk(e, ROOT_INODE, 'before');
      proxy.freeze();
      let inFlightDone = false;
      const inFlight = e.doGetAttr(ino).finally(() => { inFlightDone = true; });
      await setTimeout(1000); // the read timeout has dropped the connection; reconnects go silent too
      // without a read timeout the dead connection is not noticed until TCP gives up (about 15 minutes)
      // and this call waits as long: the test's own timeout fails it
      await rejects(e.doLookup(ROOT_INODE, name('before')), Errno.ETIMEDOUT);
      assert.equal(inFlightDone, false, 'a command that may have run is not failed: it waits to be sent again');
      proxy.thaw();
      assert.equal((await inFlight).type, FileType.File);
      await mk(e, ROOT_INODE, 'after');
      assert.equal((await e.doLookup(ROOT_INODE, name('after'))).type, FileType.File);
    } finally {
      await e.close();
      await proxy.stop();
    }
  });

  it('a closed engine reports EIO', async () => {
    const e = await openRedisEngine(f.url);
    await e.close();
    await rejects(e.doGetAttr(ROOT_INODE), Errno.EIO);
  });
});
