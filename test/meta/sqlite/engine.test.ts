// Behaviour of the SQLite engine's transactions, called directly (the shared conformance suite
// runs them again through BaseMeta): precondition re-checks and their errnos, rename rules,
// hard links, readdir paging, data lifecycle, sessions, leases, dir stats and the loader.
import assert from 'node:assert/strict';
import type { UnlinkTxn } from '../../../src/meta/engine.js';
import { RENAME_EXCHANGE, RENAME_NOREPLACE } from '../../../src/meta/engine.js';
import { openSqliteEngine } from '../../../src/meta/sqlite/engine.js';
import { CHUNK_SIZE, type Ino, toChunkIndex, toSliceId } from '../../../src/meta/types.js';
import { Errno, isFsError } from '../../../src/util/errno.js';
import { attrOf, FileType, type Fixture, freshVolume, name, NOW, ROOT_INODE, SETTING, toIno } from './helpers.js';

const errno = (e: Errno) => (err: unknown): boolean => isFsError(err, e);

describe('sqlite engine: transactions', () => {
  let f: Fixture;
  beforeEach(async () => { f = await freshVolume(); });
  afterEach(async () => { await f.close(); });

  async function mk(parent: Ino, n: string, type = FileType.File): Promise<Ino> {
    const ino = f.ino();
    const opts = type === FileType.Symlink ? { length: 1 } : {};
    await f.engine.doMknod({
      parent, name: name(n), ino, attr: attrOf(type, parent, opts), onExist: 'fail', now: NOW,
      ...(type === FileType.Symlink ? { symlinkTarget: name('x') } : {}),
    });
    return ino;
  }
  const unlink = (parent: Ino, n: string, expectIno: Ino, more: Partial<UnlinkTxn> = {}) =>
    f.engine.doUnlink({ parent, name: name(n), expectIno, keepOpen: false, sid: 1, trash: null, now: NOW, rmdir: false, ...more });
  const rename = (sp: Ino, sn: string, dp: Ino, dn: string, expectSrcIno: Ino, expectDstIno: Ino | null, flags = 0) =>
    f.engine.doRename({
      srcParent: sp, srcName: name(sn), dstParent: dp, dstName: name(dn), flags, expectSrcIno, expectDstIno,
      dstKeepOpen: false, sid: 1, trash: null, now: NOW,
    });
  const nlink = async (ino: Ino): Promise<number> => (await f.engine.doGetAttr(ino)).nlink;

  it('mknod refuses an existing name with EEXIST and returns it untouched with onExist "return"', async () => {
    const a = await mk(ROOT_INODE, 'a');
    await assert.rejects(mk(ROOT_INODE, 'a'), errno(Errno.EEXIST));
    const r = await f.engine.doMknod({ parent: ROOT_INODE, name: name('a'), ino: f.ino(), attr: attrOf(FileType.File, ROOT_INODE), onExist: 'return', now: NOW });
    assert.deepEqual([r.ino, r.existing], [a, true]);
    assert.equal((await f.engine.getCounters()).usedInodes, 1);
  });

  it('concurrent writes sharing one transaction and WAL fsync each get their own result or error, and all are on disk after reopen', async () => {
    const taken = await mk(ROOT_INODE, 'taken');
    const names = Array.from({ length: 40 }, (_, i) => (i % 10 === 9 ? 'taken' : `c${i}`));
    // one write whose insert fails inside SQLite (inode number in use) is rolled back alone
    const reused = f.engine.doMknod({ parent: ROOT_INODE, name: name('reused'), ino: taken, attr: attrOf(FileType.File, ROOT_INODE), onExist: 'fail', now: NOW });
    const settled = await Promise.allSettled(names.map((n) => mk(ROOT_INODE, n)));
    await assert.rejects(reused, errno(Errno.EIO));
    await assert.rejects(f.engine.doLookup(ROOT_INODE, name('reused')), errno(Errno.ENOENT));
    settled.forEach((r, i) => {
      if (names[i] === 'taken') assert.ok(r.status === 'rejected' && errno(Errno.EEXIST)(r.reason), `#${i} is EEXIST`);
      else assert.equal(r.status, 'fulfilled', `#${i} created`);
    });
    await f.engine.close();
    const again = openSqliteEngine(f.url);
    try {
      for (const [i, n] of names.entries()) {
        const r = settled[i];
        if (r?.status === 'fulfilled') assert.equal((await again.doLookup(ROOT_INODE, name(n))).ino, r.value);
      }
      assert.equal((await again.getCounters()).usedInodes, 1 + names.filter((n) => n !== 'taken').length);
    } finally {
      await again.close();
    }
  });

  it('mknod with an inode number that is already in use is EIO, not EEXIST, and leaves no entry', async () => {
    const a = await mk(ROOT_INODE, 'a');
    await assert.rejects(
      f.engine.doMknod({ parent: ROOT_INODE, name: name('b'), ino: a, attr: attrOf(FileType.File, ROOT_INODE), onExist: 'fail', now: NOW }),
      errno(Errno.EIO));
    await assert.rejects(f.engine.doLookup(ROOT_INODE, name('b')), errno(Errno.ENOENT));
  });

  it('mknod under a missing parent is ENOENT, under a file ENOTDIR', async () => {
    const file = await mk(ROOT_INODE, 'file');
    await assert.rejects(mk(toIno(999_999), 'x'), errno(Errno.ENOENT));
    await assert.rejects(mk(file, 'x'), errno(Errno.ENOTDIR));
  });

  it('lookup distinguishes a missing name (ENOENT) from a non-directory parent (ENOTDIR)', async () => {
    const file = await mk(ROOT_INODE, 'file');
    const r = await f.engine.doLookup(ROOT_INODE, name('file'));
    assert.deepEqual([r.ino, r.type, r.attr.nlink], [file, FileType.File, 1]);
    await assert.rejects(f.engine.doLookup(ROOT_INODE, name('nope')), errno(Errno.ENOENT));
    await assert.rejects(f.engine.doLookup(file, name('x')), errno(Errno.ENOTDIR));
  });

  it('unlink of an entry that now points to another inode is EAGAIN and changes nothing', async () => {
    const a = await mk(ROOT_INODE, 'a');
    await assert.rejects(unlink(ROOT_INODE, 'a', toIno(a + 1n)), errno(Errno.EAGAIN));
    assert.equal((await f.engine.doLookup(ROOT_INODE, name('a'))).ino, a);
  });

  it('unlink of a directory is EISDIR; rmdir of a file ENOTDIR, of a non-empty directory ENOTEMPTY', async () => {
    const d = await mk(ROOT_INODE, 'd', FileType.Directory);
    const file = await mk(d, 'f');
    await assert.rejects(unlink(ROOT_INODE, 'd', d), errno(Errno.EISDIR));
    await assert.rejects(unlink(d, 'f', file, { rmdir: true }), errno(Errno.ENOTDIR));
    await assert.rejects(unlink(ROOT_INODE, 'd', d, { rmdir: true }), errno(Errno.ENOTEMPTY));
    await unlink(d, 'f', file);
    assert.equal(await nlink(ROOT_INODE), 3);
    const r = await unlink(ROOT_INODE, 'd', d, { rmdir: true });
    assert.deepEqual([r.deleted, r.type], [true, FileType.Directory]);
    assert.equal(await nlink(ROOT_INODE), 2);
    assert.deepEqual(await f.engine.getCounters().then((c) => [c.usedInodes, c.usedSpace]), [0, 0]);
  });

  it('a hard link keeps the inode alive until its last name goes, and linking a directory is EPERM', async () => {
    const a = await mk(ROOT_INODE, 'a');
    const d = await mk(ROOT_INODE, 'd', FileType.Directory);
    await assert.rejects(f.engine.doLink({ ino: d, parent: ROOT_INODE, name: name('d2'), now: NOW }), errno(Errno.EPERM));
    await assert.rejects(f.engine.doLink({ ino: a, parent: ROOT_INODE, name: name('d'), now: NOW }), errno(Errno.EEXIST));
    await f.engine.doLink({ ino: a, parent: d, name: name('b'), now: NOW });
    const r1 = await unlink(ROOT_INODE, 'a', a);
    assert.deepEqual([r1.deleted, r1.attr?.nlink, r1.attr?.parent], [false, 1, 0n]);
    const r2 = await unlink(d, 'b', a);
    assert.equal(r2.deleted, true);
    assert.deepEqual((await f.engine.doListDelFiles(10)).map((x) => x.ino), [a]);
  });

  it('rename moves an entry between directories, fixing parent, nlinks and dir stats', async () => {
    const d1 = await mk(ROOT_INODE, 'd1', FileType.Directory);
    const d2 = await mk(ROOT_INODE, 'd2', FileType.Directory);
    const sub = await mk(d1, 'sub', FileType.Directory);
    const r = await rename(d1, 'sub', d2, 'moved', sub, null);
    assert.equal(r.attr.parent, d2);
    assert.deepEqual([await nlink(d1), await nlink(d2)], [2, 3]);
    assert.equal((await f.engine.doLookup(d2, name('moved'))).ino, sub);
    await assert.rejects(f.engine.doLookup(d1, name('sub')), errno(Errno.ENOENT));
    assert.deepEqual(await f.engine.doGetDirStats(d1), { dataLength: 0, usedSpace: 0, usedInodes: 0 });
    assert.deepEqual(await f.engine.doGetDirStats(d2), { dataLength: 0, usedSpace: 4096, usedInodes: 1 });
  });

  it('rename enforces the type rules: dir over file ENOTDIR, file over dir EISDIR, over a non-empty dir ENOTEMPTY', async () => {
    const d = await mk(ROOT_INODE, 'd', FileType.Directory);
    const e = await mk(ROOT_INODE, 'e', FileType.Directory);
    const file = await mk(ROOT_INODE, 'f');
    await mk(e, 'inside');
    await assert.rejects(rename(ROOT_INODE, 'd', ROOT_INODE, 'f', d, file), errno(Errno.ENOTDIR));
    await assert.rejects(rename(ROOT_INODE, 'f', ROOT_INODE, 'd', file, d), errno(Errno.EISDIR));
    await assert.rejects(rename(ROOT_INODE, 'd', ROOT_INODE, 'e', d, e), errno(Errno.ENOTEMPTY));
    await assert.rejects(rename(ROOT_INODE, 'f', ROOT_INODE, 'd', file, null), errno(Errno.EAGAIN));
    await assert.rejects(rename(ROOT_INODE, 'f', ROOT_INODE, 'd', file, d, RENAME_NOREPLACE), errno(Errno.EEXIST));
  });

  it('rename of a directory into its own subtree is EINVAL', async () => {
    const a = await mk(ROOT_INODE, 'a', FileType.Directory);
    const b = await mk(a, 'b', FileType.Directory);
    const c = await mk(b, 'c', FileType.Directory);
    await assert.rejects(rename(ROOT_INODE, 'a', c, 'a', a, null), errno(Errno.EINVAL));
    await assert.rejects(rename(ROOT_INODE, 'a', a, 'x', a, null), errno(Errno.EINVAL));
  });

  it('rename over an existing file replaces it and reports the replaced inode as deleted', async () => {
    const a = await mk(ROOT_INODE, 'a');
    const b = await mk(ROOT_INODE, 'b');
    await f.engine.doWriteSlice({ ino: b, indx: toChunkIndex(0), slice: { pos: 0, id: toSliceId(5), size: 100, off: 0, len: 100 }, mtime: NOW, now: NOW });
    const r = await rename(ROOT_INODE, 'a', ROOT_INODE, 'b', a, b);
    assert.deepEqual([r.ino, r.replaced?.ino, r.replaced?.deleted, r.replaced?.length], [a, b, true, 100]);
    assert.equal((await f.engine.doLookup(ROOT_INODE, name('b'))).ino, a);
    assert.deepEqual((await f.engine.doListDelFiles(10)).map((x) => [x.ino, x.length]), [[b, 100]]);
    assert.deepEqual(await f.engine.getCounters().then((c) => [c.usedInodes, c.usedSpace]), [1, 4096]);
  });

  it("a deleted file's cleanup (dropChunk, forgetSlice, removeDelFile) starts no WAL fsync: committed at once, durable with the next durable write", async () => {
    const b = await mk(ROOT_INODE, 'b');
    await f.engine.doWriteSlice({ ino: b, indx: toChunkIndex(0), slice: { pos: 0, id: toSliceId(7), size: 100, off: 0, len: 100 }, mtime: NOW, now: NOW });
    await unlink(ROOT_INODE, 'b', b);
    const syncs = f.engine.walSyncs;
    assert.deepEqual(await f.engine.doDropChunk(b, toChunkIndex(0)), [{ id: 7n, size: 100 }]);
    await f.engine.doForgetSlice(toSliceId(7), 100);
    await f.engine.doRemoveDelFile(b);
    assert.equal(f.engine.walSyncs, syncs, 'the cleanup waited for no fsync');
    assert.deepEqual(await f.engine.doListDelFiles(10), [], 'visible at once');
    await mk(ROOT_INODE, 'c');
    assert.equal(f.engine.walSyncs, syncs + 1, 'the next durable write syncs the WAL, cleanup included');
    await f.engine.close();
    const again = openSqliteEngine(f.url);
    try {
      assert.deepEqual(await again.doListDelFiles(10), []);
      assert.deepEqual(await again.doListChunks(b), []);
      assert.equal(await again.doSliceRefs(toSliceId(7), 100), 1, 'no refcount row left (a missing one reads as 1)');
    } finally {
      await again.close();
    }
  });

  it('RENAME_EXCHANGE swaps two entries across directories, including their parents and nlinks', async () => {
    const d1 = await mk(ROOT_INODE, 'd1', FileType.Directory);
    const d2 = await mk(ROOT_INODE, 'd2', FileType.Directory);
    const sub = await mk(d1, 'x', FileType.Directory);
    const file = await mk(d2, 'y');
    await f.engine.doRename({
      srcParent: d1, srcName: name('x'), dstParent: d2, dstName: name('y'), flags: RENAME_EXCHANGE, expectSrcIno: sub,
      expectDstIno: file, dstKeepOpen: false, sid: 1, trash: null, now: NOW,
    });
    assert.equal((await f.engine.doLookup(d1, name('x'))).ino, file);
    assert.equal((await f.engine.doLookup(d2, name('y'))).ino, sub);
    assert.deepEqual([(await f.engine.doGetAttr(sub)).parent, (await f.engine.doGetAttr(file)).parent], [d2, d1]);
    assert.deepEqual([await nlink(d1), await nlink(d2)], [2, 3]);
  });

  it('readdir pages by stable positions: entries removed or added between pages neither repeat nor vanish', async () => {
    for (let i = 0; i < 10; i++) await mk(ROOT_INODE, `f${i}`);
    const p1 = await f.engine.doReaddir(ROOT_INODE, 0n, 4, false);
    assert.deepEqual(p1.entries.map((e) => e.name.toString()), ['f0', 'f1', 'f2', 'f3']);
    assert.equal(p1.more, true);
    await unlink(ROOT_INODE, 'f2', (await f.engine.doLookup(ROOT_INODE, name('f2'))).ino);
    await unlink(ROOT_INODE, 'f5', (await f.engine.doLookup(ROOT_INODE, name('f5'))).ino);
    await mk(ROOT_INODE, 'new');
    const last = p1.entries.at(-1)?.cookie ?? 0n;
    const p2 = await f.engine.doReaddir(ROOT_INODE, last, 100, true);
    assert.deepEqual(p2.entries.map((e) => e.name.toString()), ['f4', 'f6', 'f7', 'f8', 'f9', 'new']);
    assert.equal(p2.more, false);
    assert.ok(p2.entries.every((e) => e.attr?.type === FileType.File && e.cookie > last));
    await assert.rejects(f.engine.doReaddir(await mk(ROOT_INODE, 'file'), 0n, 10, false), errno(Errno.ENOTDIR));
  });

  it('setattr changes only the given fields and sets ctime; truncate of a directory is EISDIR', async () => {
    const a = await mk(ROOT_INODE, 'a');
    const later = { sec: NOW.sec + 10, nsec: 5 };
    const r = await f.engine.doSetAttr({ ino: a, mode: 0o600, uid: 7, mtime: { sec: 1, nsec: 2 }, now: later });
    assert.deepEqual([r.mode, r.uid, r.gid, r.mtime, r.mtimeNs, r.ctime, r.ctimeNs, r.atime], [0o600, 7, 1000, 1, 2, later.sec, 5, NOW.sec]);
    assert.deepEqual(await f.engine.doGetAttr(a), r);
    await assert.rejects(f.engine.doTruncate({ ino: ROOT_INODE, length: 0, now: NOW }), errno(Errno.EISDIR));
  });

  it('xattr flags: CREATE on an existing name is EEXIST, REPLACE or remove of a missing one ENODATA; a list is empty for a live inode without xattrs, ENOENT for a missing one', async () => {
    const a = await mk(ROOT_INODE, 'a');
    await f.engine.doSetXattr(a, name('user.a'), name('1'), 1);
    await assert.rejects(f.engine.doSetXattr(a, name('user.a'), name('2'), 1), errno(Errno.EEXIST));
    await assert.rejects(f.engine.doSetXattr(a, name('user.b'), name('2'), 2), errno(Errno.ENODATA));
    await f.engine.doSetXattr(a, name('user.a'), name('3'), 2);
    assert.deepEqual(await f.engine.doGetXattr(a, name('user.a')), name('3'));
    await f.engine.doRemoveXattr(a, name('user.a'));
    await assert.rejects(f.engine.doRemoveXattr(a, name('user.a')), errno(Errno.ENODATA));
    await assert.rejects(f.engine.doGetXattr(a, name('user.a')), errno(Errno.ENODATA));
    assert.deepEqual(await f.engine.doListXattr(a), []);
    await f.engine.doSetXattr(a, name('user.b'), name('2'), 0);
    assert.deepEqual(await f.engine.doListXattr(a), [name('user.b')]);
    await assert.rejects(f.engine.doListXattr(toIno(999_999)), errno(Errno.ENOENT));
  });

  it('clone references the source slices (refcount 2) and dropping both chunks releases each slice once', async () => {
    const src = await mk(ROOT_INODE, 'src');
    const dst = await mk(ROOT_INODE, 'dst');
    await f.engine.doWriteSlice({ ino: src, indx: toChunkIndex(0), slice: { pos: 0, id: toSliceId(11), size: 1000, off: 0, len: 1000 }, mtime: NOW, now: NOW });
    const a = await f.engine.doCloneRange({ src, srcOff: 100, dst, dstOff: CHUNK_SIZE - 50, length: 5000, now: NOW });
    assert.equal(a.length, CHUNK_SIZE - 50 + 900);
    assert.deepEqual(await f.engine.doReadSlices(dst, toChunkIndex(0)), [{ pos: CHUNK_SIZE - 50, id: 11n, size: 1000, off: 100, len: 50 }]);
    assert.deepEqual(await f.engine.doReadSlices(dst, toChunkIndex(1)), [{ pos: 0, id: 11n, size: 1000, off: 150, len: 850 }]);
    assert.equal(await f.engine.doSliceRefs(toSliceId(11), 1000), 3);
    assert.deepEqual(await f.engine.doListChunks(dst), [0, 1]);
    assert.deepEqual(await f.engine.doDropChunk(dst, toChunkIndex(0)), []);
    assert.deepEqual(await f.engine.doDropChunk(dst, toChunkIndex(1)), []);
    assert.deepEqual(await f.engine.doDropChunk(src, toChunkIndex(0)), [{ id: 11n, size: 1000 }]);
    await f.engine.doForgetSlice(toSliceId(11), 1000);
    assert.equal(await f.engine.doSliceRefs(toSliceId(11), 1000), 1);
  });

  it('sessions: ids count up, stale ones are found by expiry, removal drops the row', async () => {
    const info = { Version: 'v', HostName: 'h', MountPoint: 'nfs', MountTime: 't', ProcessID: 1 };
    const s1 = await f.engine.doNewSession(info, 100);
    const s2 = await f.engine.doNewSession(info, 300);
    assert.deepEqual([s1, s2], [1, 2]);
    await f.engine.doRefreshSession(s1, info, 250);
    assert.deepEqual(await f.engine.doFindStaleSessions(260, 10), [s1]);
    await f.engine.doRemoveSession(s1);
    await f.engine.doRefreshSession(s1, info, 400);
    const list = await f.engine.doListSessions();
    assert.deepEqual(list.map((s) => [s.sid, s.expire, s.info?.MountPoint, s.sustained]), [[1, 400, 'nfs', []], [2, 300, 'nfs', []]]);
  });

  it('setIfSmall grants a lease once per interval', async () => {
    assert.equal(await f.engine.doSetIfSmall('lastCleanupFiles', 1000, 60), true);
    assert.equal(await f.engine.doSetIfSmall('lastCleanupFiles', 1030, 60), false);
    assert.equal(await f.engine.doSetIfSmall('lastCleanupFiles', 1060, 60), true);
  });

  it('a missing dir_stats row is recomputed from the children when read', async () => {
    const d = await mk(ROOT_INODE, 'd', FileType.Directory);
    const file = await mk(d, 'f');
    await mk(d, 'l', FileType.Symlink);
    await f.engine.doTruncate({ ino: file, length: 5000, now: NOW });
    f.raw.prepare('DELETE FROM jfs_dir_stats WHERE inode=?').run(d);
    assert.deepEqual(await f.engine.doGetDirStats(d), { dataLength: 5000, usedSpace: 8192 + 4096, usedInodes: 2 });
    assert.equal(f.raw.prepare('SELECT used_inodes FROM jfs_dir_stats WHERE inode=?').pluck().get(d), 2n);
    assert.equal(await f.engine.doGetDirStats(file), null);
  });

  it('doReset empties every table and isEmpty tells a used volume from a fresh one', async () => {
    assert.equal(await f.engine.isEmpty(), true);
    await mk(ROOT_INODE, 'a');
    assert.equal(await f.engine.isEmpty(), false);
    await f.engine.doReset();
    assert.equal(await f.engine.getSetting(), null);
    assert.equal(f.raw.prepare('SELECT count(*) FROM jfs_node').pluck().get(), 0n);
  });

  it('the loader writes a whole volume in one transaction, invisible until commit', async () => {
    const loader = await f.engine.newLoader();
    const d = toIno(2);
    const file = toIno(3);
    loader.setting(SETTING);
    loader.node(ROOT_INODE, attrOf(FileType.Directory, ROOT_INODE, { nlink: 3 }));
    loader.node(d, attrOf(FileType.Directory, ROOT_INODE));
    loader.node(file, attrOf(FileType.File, toIno(0), { length: 10, nlink: 2 }));
    loader.entry(ROOT_INODE, name('d'), FileType.Directory, d);
    loader.entry(ROOT_INODE, name('f'), FileType.File, file);
    loader.entry(d, name('g'), FileType.File, file);
    loader.parents(file, new Map([[ROOT_INODE, 1], [d, 1]]));
    loader.chunk(file, toChunkIndex(0), [{ pos: 0, id: toSliceId(4), size: 10, off: 0, len: 10 }]);
    loader.sliceRef(toSliceId(4), 10, 1);
    loader.xattr(file, name('user.x'), name('y'));
    loader.acl(1, { owner: 7, group: 5, mask: 7, other: 4, users: [{ id: 1000, perm: 6 }], groups: [] });
    loader.counters({ usedSpace: 3 * 4096, usedInodes: 2, nextInode: 4n, nextChunk: 5n, nextSession: 0, nextTrash: 0 });
    // another connection sees nothing yet
    assert.equal(f.raw.prepare('SELECT count(*) FROM jfs_edge').pluck().get(), 0n);
    await loader.commit();
    assert.equal((await f.engine.doLookup(d, name('g'))).ino, file);
    assert.deepEqual(await f.engine.doReadSlices(file, toChunkIndex(0)), [{ pos: 0, id: 4n, size: 10, off: 0, len: 10 }]);
    assert.deepEqual(await f.engine.doGetAcl(1), { owner: 7, group: 5, mask: 7, other: 4, users: [{ id: 1000, perm: 6 }], groups: [] });
    assert.equal((await f.engine.getCounters()).nextInode, 4n);
    assert.equal(await f.engine.allocateIds('slice', 1), 5n);
    await assert.rejects(f.engine.newLoader(), errno(Errno.ENOTEMPTY));
  });

  it('a failing loader call rolls the whole load back', async () => {
    const loader = await f.engine.newLoader();
    loader.entry(ROOT_INODE, name('a'), FileType.File, toIno(2));
    assert.throws(() => loader.entry(ROOT_INODE, name('a'), FileType.File, toIno(3)), errno(Errno.EEXIST));
    await assert.rejects(loader.commit(), errno(Errno.EEXIST));
    assert.equal(f.raw.prepare('SELECT count(*) FROM jfs_edge').pluck().get(), 0n);
    // the engine can write again: the loader's connection let go of the lock
    await mk(ROOT_INODE, 'after');
  });

  it('a write that finds the database locked by another connection retries until the lock is gone', async () => {
    // busy timeout 0 so SQLite reports SQLITE_BUSY at once instead of blocking this thread
    const eager = openSqliteEngine(f.url, { busyTimeoutMs: 0 });
    try {
      f.raw.exec('BEGIN IMMEDIATE');
      setTimeout(() => f.raw.exec('COMMIT'), 30);
      const ino = f.ino();
      await eager.doMknod({ parent: ROOT_INODE, name: name('x'), ino, attr: attrOf(FileType.File, ROOT_INODE), onExist: 'fail', now: NOW });
      assert.equal(f.raw.inTransaction, false);
      assert.equal((await f.engine.doLookup(ROOT_INODE, name('x'))).ino, ino);
    } finally {
      if (f.raw.inTransaction) f.raw.exec('ROLLBACK');
      await eager.close();
    }
  });
});
