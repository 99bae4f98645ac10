/**
 * Byte-level checks of the Redis engine: after operations through the engine, the raw keys hold
 * exactly the JuiceFS bytes of spec §B (attr, entry, slice, sliceRef, delfiles, counters...).
 */
import assert from 'node:assert/strict';
import { encodeAttr, encodeEntry, encodeSlice } from '../../../src/meta/encoding.js';
import {
  type Attr, type Ino, CHUNK_SIZE, FileType, ROOT_INODE, TRASH_INODE, toChunkIndex, toIno, toSliceId,
} from '../../../src/meta/types.js';
import { Errno } from '../../../src/util/errno.js';
import { rejects } from '../conformance/helpers.js';
import { type Fixture, dirAttr, fileAttr, freshRedis, mk, name, newIno, tick } from './fixture.js';

const be64 = (n: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
};

describe('redis engine: raw key bytes (spec §B)', function () {
  let f: Fixture;
  beforeEach(async () => { f = await freshRedis(); });
  afterEach(async () => { await f.cleanup(); });

  const attrBytes = async (ino: Ino | bigint): Promise<Buffer> => {
    const v = await f.raw.getBuffer(`i${ino}`);
    assert.ok(v !== null, `i${ino} exists`);
    return v;
  };

  it('the WebDAV lock table is the hash ferryDavLocks (token -> record) and the counter ferryDavLocksVersion, nothing else', async () => {
    const before = (await f.raw.keys('*')).sort();
    assert.equal(await f.engine.doUpdateDavLocks(0, new Map([['urn:uuid:a', Buffer.from([0, 0xff])]]), []), true);
    assert.deepEqual((await f.raw.keys('*')).sort(), [...before, 'ferryDavLocks', 'ferryDavLocksVersion'].sort());
    assert.deepEqual(await f.raw.hgetallBuffer('ferryDavLocks'), { 'urn:uuid:a': Buffer.from([0, 0xff]) });
    assert.equal(await f.raw.get('ferryDavLocksVersion'), '1');
  });

  it('create writes the 72-byte attr, a 9-byte entry, counters and parent dir stats', async () => {
    const ino = await newIno(f.engine);
    const attr = fileAttr({ parent: ROOT_INODE, uid: 501, gid: 20, mode: 0o640 });
    await f.engine.doMknod({ parent: ROOT_INODE, name: name('hello'), ino, attr, onExist: 'fail', now: tick() });
    const a = await attrBytes(ino);
    assert.equal(a.length, 72);
    assert.equal(a[71], 0);
    assert.deepEqual(a, encodeAttr(attr));
    assert.equal(a.readUInt16BE(1), (1 << 12) | 0o640);
    const e = await f.raw.hgetBuffer('d1', 'hello');
    assert.deepEqual(e, Buffer.concat([Buffer.from([1]), be64(ino)]));
    assert.equal(await f.raw.get('usedSpace'), '4096');
    assert.equal(await f.raw.get('totalInodes'), '1');
    assert.equal(await f.raw.hget('dirUsedInodes', '1'), '1');
    assert.equal(await f.raw.hget('dirUsedSpace', '1'), '4096');
  });

  it('mkdir bumps the parent nlink (u32 at offset 47) and times; the new dir gets zero stats', async () => {
    const before = await attrBytes(1n);
    const now = tick();
    const ino = await newIno(f.engine);
    await f.engine.doMknod({ parent: ROOT_INODE, name: name('sub'), ino, attr: dirAttr({ parent: ROOT_INODE }), onExist: 'fail', now, skipDirMtimeMs: 100 });
    const after = await attrBytes(1n);
    assert.equal(after.readUInt32BE(47), before.readUInt32BE(47) + 1);
    assert.equal(after.readBigInt64BE(23), BigInt(now.sec));
    assert.equal(after.readUInt32BE(31), now.nsec);
    assert.equal(after.readBigInt64BE(35), BigInt(now.sec));
    // everything else of the parent attr is untouched
    assert.deepEqual(after.subarray(0, 23), before.subarray(0, 23));
    assert.deepEqual(after.subarray(51), before.subarray(51));
    const entry = await f.raw.hgetBuffer('d1', 'sub');
    assert.equal(entry?.[0], FileType.Directory);
    for (const h of ['dirUsedInodes', 'dirUsedSpace', 'dirDataLength']) assert.equal(await f.raw.hget(h, ino.toString()), '0');
    assert.equal((await attrBytes(ino)).readUInt32BE(47), 2);
  });

  it('a create within skipDirMtimeMs of the last parent change leaves the parent attr untouched', async () => {
    const t0 = tick();
    await f.engine.doMknod({ parent: ROOT_INODE, name: name('a'), ino: await newIno(f.engine), attr: fileAttr(), onExist: 'fail', now: t0, skipDirMtimeMs: 100 });
    const parent = await attrBytes(1n);
    assert.equal(parent.readBigInt64BE(23), BigInt(t0.sec));
    const soon = { sec: t0.sec, nsec: t0.nsec + 50_000_000 };
    await f.engine.doMknod({ parent: ROOT_INODE, name: name('b'), ino: await newIno(f.engine), attr: fileAttr(), onExist: 'fail', now: soon, skipDirMtimeMs: 100 });
    assert.deepEqual(await attrBytes(1n), parent);
    const later = { sec: t0.sec, nsec: t0.nsec + 150_000_000 };
    await f.engine.doMknod({ parent: ROOT_INODE, name: name('c'), ino: await newIno(f.engine), attr: fileAttr(), onExist: 'fail', now: later, skipDirMtimeMs: 100 });
    assert.equal((await attrBytes(1n)).readUInt32BE(31), later.nsec);
  });

  it('symlink stores the raw target in s<ino> and its length in the attr', async () => {
    const target = Buffer.from([0x2e, 0x2e, 0x2f, 0xff, 0x00 + 0x41]);
    const ino = await newIno(f.engine);
    await f.engine.doMknod({
      parent: ROOT_INODE, name: name('l'), ino, attr: fileAttr({ type: FileType.Symlink, mode: 0o777, length: target.length }),
      symlinkTarget: target, onExist: 'fail', now: tick(),
    });
    assert.deepEqual(await f.raw.getBuffer(`s${ino}`), target);
    assert.equal((await attrBytes(ino)).readBigUInt64BE(51), BigInt(target.length));
    assert.deepEqual(await f.engine.doReadlink(ino), target);
  });

  it('write slice: RPUSH of a 24-byte record, length, mtime = slice time, ctime = now, usedSpace delta', async () => {
    const ino = await mk(f.engine, ROOT_INODE, 'f');
    const slice = { pos: 4096, id: toSliceId(0x0102030405n), size: 10_000, off: 0, len: 10_000 };
    const mtime = { sec: 1_650_000_000, nsec: 42 };
    const now = tick();
    const r = await f.engine.doWriteSlice({ ino, indx: toChunkIndex(1), slice, mtime, now });
    assert.equal(r.listLength, 1);
    const list = await f.raw.lrangeBuffer(`c${ino}_1`, 0, -1);
    assert.equal(list.length, 1);
    assert.deepEqual(list[0], encodeSlice(slice));
    assert.equal(list[0]?.toString('hex'), '00001000' + '0000000102030405' + '00002710' + '00000000' + '00002710');
    const a = await attrBytes(ino);
    const len = CHUNK_SIZE + 4096 + 10_000;
    assert.equal(a.readBigUInt64BE(51), BigInt(len));
    assert.equal(a.readBigInt64BE(23), BigInt(mtime.sec));
    assert.equal(a.readUInt32BE(31), mtime.nsec);
    assert.equal(a.readBigInt64BE(35), BigInt(now.sec));
    assert.equal(await f.raw.get('usedSpace'), String(Math.ceil(len / 4096) * 4096));
    assert.equal(await f.raw.hget('dirDataLength', '1'), String(len));
  });

  it('truncate appends hole records: RPUSH in the first chunk, RPUSHX in the middle, RPUSH in the last partial chunk', async () => {
    const ino = await mk(f.engine, ROOT_INODE, 'f');
    const rec = (pos: number, len: number): Buffer => encodeSlice({ pos, id: toSliceId(0), size: 0, off: 0, len });
    await f.engine.doWriteSlice({ ino, indx: toChunkIndex(0), slice: { pos: 0, id: toSliceId(7), size: 100, off: 0, len: 100 }, mtime: tick(), now: tick() });
    await f.engine.doWriteSlice({ ino, indx: toChunkIndex(2), slice: { pos: 0, id: toSliceId(8), size: 100, off: 0, len: 100 }, mtime: tick(), now: tick() });
    await f.engine.doWriteSlice({ ino, indx: toChunkIndex(3), slice: { pos: 0, id: toSliceId(9), size: 100, off: 0, len: 100 }, mtime: tick(), now: tick() });
    const a = await f.engine.doTruncate({ ino, length: 50, now: tick() });
    assert.equal(a.length, 50);
    assert.deepEqual((await f.raw.lrangeBuffer(`c${ino}_0`, 0, -1))[1], rec(50, CHUNK_SIZE - 50));
    assert.equal(await f.raw.exists(`c${ino}_1`), 0, 'RPUSHX creates no list');
    assert.deepEqual((await f.raw.lrangeBuffer(`c${ino}_2`, 0, -1))[1], rec(0, CHUNK_SIZE));
    assert.deepEqual((await f.raw.lrangeBuffer(`c${ino}_3`, 0, -1))[1], rec(0, 100));
    assert.equal(await f.raw.get('usedSpace'), '4096');
    // growing inside one chunk: one hole record [old, new)
    await f.engine.doTruncate({ ino, length: 5000, now: tick() });
    assert.deepEqual((await f.raw.lrangeBuffer(`c${ino}_0`, 0, -1))[2], rec(50, 4950));
    assert.equal(await f.raw.get('usedSpace'), '8192');
  });

  it('link sets Attr.parent to 0 and counts both parents in p<ino>', async () => {
    const dir = await mk(f.engine, ROOT_INODE, 'd', FileType.Directory);
    const ino = await mk(f.engine, dir, 'f');
    const a = await f.engine.doLink({ ino, parent: ROOT_INODE, name: name('hard'), now: tick() });
    assert.equal(a.nlink, 2);
    const raw = await attrBytes(ino);
    assert.deepEqual(raw.subarray(63, 71), Buffer.alloc(8));
    assert.equal(raw.readUInt32BE(47), 2);
    assert.deepEqual(await f.raw.hgetall(`p${ino}`), { [dir.toString()]: '1', '1': '1' });
    // unlinking one name decrements its count (a 0 field may remain, spec §I)
    await f.engine.doUnlink({ parent: dir, name: name('f'), expectIno: ino, keepOpen: false, sid: 0, trash: null, now: tick(), rmdir: false });
    assert.deepEqual(await f.raw.hgetall(`p${ino}`), { [dir.toString()]: '0', '1': '1' });
    assert.equal((await attrBytes(ino)).readUInt32BE(47), 1);
  });

  it('unlink of the last link queues "<ino>:<length>" in delfiles and drops i/x keys and counters', async () => {
    const ino = await mk(f.engine, ROOT_INODE, 'f');
    await f.engine.doWriteSlice({ ino, indx: toChunkIndex(0), slice: { pos: 0, id: toSliceId(3), size: 5000, off: 0, len: 5000 }, mtime: tick(), now: tick() });
    await f.engine.doSetXattr(ino, name('user.k'), name('v'), 0);
    const now = tick();
    const r = await f.engine.doUnlink({ parent: ROOT_INODE, name: name('f'), expectIno: ino, keepOpen: false, sid: 0, trash: null, now, rmdir: false });
    assert.deepEqual([r.deleted, r.sustained, r.length, r.attr], [true, false, 5000, null]);
    assert.deepEqual(await f.raw.zrange('delfiles', 0, -1, 'WITHSCORES'), [`${ino}:5000`, String(now.sec)]);
    assert.equal(await f.raw.exists(`i${ino}`, `x${ino}`), 0);
    assert.equal(await f.raw.exists(`c${ino}_0`), 1, 'data stays until released');
    assert.equal(await f.raw.get('usedSpace'), '0');
    assert.equal(await f.raw.get('totalInodes'), '0');
    assert.equal(await f.raw.hexists('d1', 'f'), 0);
  });

  it('unlink of an open file keeps it as sustained: nlink 0, SADD session<sid>; deleting it later queues delfiles', async () => {
    const ino = await mk(f.engine, ROOT_INODE, 'f');
    const r = await f.engine.doUnlink({ parent: ROOT_INODE, name: name('f'), expectIno: ino, keepOpen: true, sid: 7, trash: null, now: tick(), rmdir: false });
    assert.deepEqual([r.deleted, r.sustained], [false, true]);
    assert.equal((await attrBytes(ino)).readUInt32BE(47), 0);
    assert.deepEqual(await f.raw.smembers('session7'), [ino.toString()]);
    assert.equal(await f.raw.get('totalInodes'), '1', 'a sustained inode still counts');
    const df = await f.engine.doDeleteSustained(7, ino);
    assert.equal(df?.ino, ino);
    assert.deepEqual(await f.raw.zrange('delfiles', 0, -1), [`${ino}:0`]);
    assert.equal(await f.raw.exists(`i${ino}`, 'session7'), 0);
    assert.equal(await f.raw.get('totalInodes'), '0');
  });

  it('clone bumps sliceRef to refs-1; dropping chunks decrements and reports slices that went below zero', async () => {
    const src = await mk(f.engine, ROOT_INODE, 'src');
    const dst = await mk(f.engine, ROOT_INODE, 'dst');
    const id = toSliceId(12345);
    await f.engine.doWriteSlice({ ino: src, indx: toChunkIndex(0), slice: { pos: 0, id, size: 8192, off: 0, len: 8192 }, mtime: tick(), now: tick() });
    assert.equal(await f.raw.exists('sliceRef'), 0, 'a plain write creates no sliceRef field');
    const a = await f.engine.doCloneRange({ src, srcOff: 100, dst, dstOff: 0, length: 1000, now: tick() });
    assert.equal(a.length, 1000);
    assert.equal(await f.raw.hget('sliceRef', 'k12345_8192'), '1');
    assert.deepEqual(await f.raw.lrangeBuffer(`c${dst}_0`, 0, -1), [encodeSlice({ pos: 0, id, size: 8192, off: 100, len: 1000 })]);
    assert.deepEqual(await f.engine.doDropChunk(src, toChunkIndex(0)), []);
    assert.equal(await f.raw.hget('sliceRef', 'k12345_8192'), '0');
    assert.deepEqual(await f.engine.doDropChunk(dst, toChunkIndex(0)), [{ id, size: 8192 }]);
    assert.equal(await f.raw.hget('sliceRef', 'k12345_8192'), '-1');
    await f.engine.doForgetSlice(id, 8192);
    assert.equal(await f.raw.hexists('sliceRef', 'k12345_8192'), 0);
    assert.equal(await f.raw.exists(`c${src}_0`, `c${dst}_0`), 0);
  });

  it('dropChunks drops every chunk list below the length in one step; a slice in two of them is reported once, when it goes below zero', async () => {
    const ino = await mk(f.engine, ROOT_INODE, 'f');
    const shared = toSliceId(500);
    const w = (indx: number, id: bigint, size: number): Promise<unknown> =>
      f.engine.doWriteSlice({ ino, indx: toChunkIndex(indx), slice: { pos: 0, id: toSliceId(id), size, off: 0, len: size }, mtime: tick(), now: tick() });
    await w(0, 501n, 100);
    await w(3, 503n, 300);
    await f.raw.rpush(`c${ino}_2`, encodeSlice({ pos: 0, id: shared, size: 50, off: 0, len: 50 }));
    await f.raw.rpush(`c${ino}_3`, encodeSlice({ pos: 100, id: shared, size: 50, off: 0, len: 50 }));
    await f.raw.hset('sliceRef', 'k500_50', '1');
    const freed = await f.engine.doDropChunks(ino, 3 * CHUNK_SIZE + 300);
    assert.deepEqual(freed.map((s) => [s.id, s.size]).sort(), [[toSliceId(500), 50], [toSliceId(501), 100], [toSliceId(503), 300]].sort());
    assert.equal(await f.raw.exists(`c${ino}_0`, `c${ino}_1`, `c${ino}_2`, `c${ino}_3`), 0);
    assert.equal(await f.raw.hget('sliceRef', 'k500_50'), '-1');
    assert.deepEqual(await f.engine.doDropChunks(ino, 0), []);
  });

  it('cleanupSlices HDELs fields still "0", reports negative ones and keeps real counts; cleanupZeroRef drops the "0" of a compaction', async () => {
    await f.raw.hset('sliceRef', 'k1_100', '0', 'k2_200', '-1', 'k3_300', '2', 'junk', '0');
    assert.deepEqual(await f.engine.doCleanupSliceRefs(100), [{ id: toSliceId(2), size: 200 }]);
    assert.deepEqual(await f.raw.hgetall('sliceRef'), { k2_200: '-1', k3_300: '2', junk: '0' });
    const ino = await mk(f.engine, ROOT_INODE, 'f');
    const old = { pos: 0, id: toSliceId(7), size: 10, off: 0, len: 10 };
    await f.engine.doWriteSlice({ ino, indx: toChunkIndex(0), slice: old, mtime: tick(), now: tick() });
    const slice = { pos: 0, id: toSliceId(8), size: 10, off: 0, len: 10 };
    const r = await f.engine.doCompactChunk({ ino, indx: toChunkIndex(0), old: [old], skipped: 0, slice, delayed: true, now: { sec: 1000, nsec: 0 } });
    assert.equal(r.applied, true);
    assert.equal(await f.raw.hget('sliceRef', 'k8_10'), '0', 'tracked while the swap is unconfirmed (spec §B.9)');
    await f.engine.doCleanupZeroRef(slice.id, 10);
    assert.equal(await f.raw.hexists('sliceRef', 'k8_10'), 0);
    assert.deepEqual(await f.raw.hkeys('delSlices'), ['8_1000']);
    assert.deepEqual(await f.engine.doReleaseDelayedSlices(1000), [], 'entries at the edge stay');
    assert.deepEqual(await f.engine.doReleaseDelayedSlices(1001), [{ id: toSliceId(7), size: 10 }]);
    assert.equal(await f.raw.exists('delSlices'), 0);
    assert.equal(await f.raw.hget('sliceRef', 'k7_10'), '-1');
  });

  it('counters hold the LAST used id: nextinode/nextchunk after INCRBY, nextsession, nextTrash; dumps add 1 to inode/chunk only', async () => {
    assert.equal(await f.engine.allocateIds('inode', 1024), 1n);
    assert.equal(await f.raw.get('nextinode'), '1024');
    assert.equal(await f.engine.allocateIds('inode', 1024), 1025n);
    assert.equal(await f.raw.get('nextinode'), '2048');
    assert.equal(await f.engine.allocateIds('slice', 4096), 1n);
    assert.equal(await f.raw.get('nextchunk'), '4096');
    const info = { Version: '1.3.0', HostName: 'h', MountPoint: 'ferry', MountTime: '2026-01-01T00:00:00Z', ProcessID: 1 };
    const sid = await f.engine.doNewSession(info, 1_800_000_000);
    assert.equal(sid, 1);
    assert.equal(await f.raw.get('nextsession'), '1');
    assert.deepEqual(await f.raw.zrange('allSessions', 0, -1, 'WITHSCORES'), ['1', '1800000000']);
    assert.deepEqual(JSON.parse(await f.raw.hget('sessionInfos', '1') ?? 'null'), info);
    assert.equal(await f.engine.nextTrashId(), 1);
    assert.equal(await f.raw.get('nextTrash'), '1');
    const c = await f.engine.getCounters();
    assert.deepEqual([c.nextInode, c.nextChunk, c.nextSession, c.nextTrash], [2049n, 4097n, 1, 1], 'dump meaning: inode/chunk + 1, session/trash as stored');
  });

  it('trash: unlink moves the entry to d<trashdir> and points Attr.parent at it', async () => {
    const trashDir = toIno(TRASH_INODE + 1n);
    // a volume with trash on has a trash root (created by format)
    await f.engine.doFormat(await f.engine.getSetting() ?? '', null, dirAttr({ parent: ROOT_INODE, mode: 0o555 }));
    await f.engine.doMknod({ parent: TRASH_INODE, name: name('2026-01-01-00'), ino: trashDir, attr: dirAttr({ parent: TRASH_INODE, mode: 0o555 }), onExist: 'fail', now: tick() });
    assert.deepEqual(await f.raw.hgetBuffer(`d${TRASH_INODE}`, '2026-01-01-00'), Buffer.concat([Buffer.from([2]), be64(trashDir)]));
    const ino = await mk(f.engine, ROOT_INODE, 'f');
    const trashName = Buffer.from(`1-${ino}-f`);
    const r = await f.engine.doUnlink({ parent: ROOT_INODE, name: name('f'), expectIno: ino, keepOpen: false, sid: 0, trash: { dir: trashDir, name: trashName }, now: tick(), rmdir: false });
    assert.deepEqual([r.deleted, r.attr?.parent], [false, trashDir]);
    assert.deepEqual(await f.raw.hgetBuffer(`d${trashDir}`, trashName), Buffer.concat([Buffer.from([1]), be64(ino)]));
    assert.deepEqual((await attrBytes(ino)).subarray(63, 71), be64(trashDir));
    assert.equal(await f.raw.zcard('delfiles'), 0);
  });

  it('inode numbers above 2^53 survive the scripts exactly (entries, p<ino> fields, lookups)', async () => {
    const big = toIno(0x0fedcba987654321n);
    await f.engine.doMknod({ parent: ROOT_INODE, name: name('bigdir'), ino: big, attr: dirAttr({ parent: ROOT_INODE }), onExist: 'fail', now: tick() });
    const child = toIno(0x0fedcba987654323n);
    await f.engine.doMknod({ parent: big, name: name('f'), ino: child, attr: fileAttr({ parent: big }), onExist: 'fail', now: tick() });
    assert.equal((await f.engine.doLookup(big, name('f'))).ino, child);
    await f.engine.doLink({ ino: child, parent: ROOT_INODE, name: name('l'), now: tick() });
    assert.deepEqual(await f.raw.hgetall(`p${child}`), { [big.toString()]: '1', '1': '1' });
    // a directory move checks ancestry by walking parent fields through i<big>
    const sub = await mk(f.engine, big, 'sub', FileType.Directory);
    await rejects(f.engine.doRename({
      srcParent: ROOT_INODE, srcName: name('bigdir'), dstParent: sub, dstName: name('x'), flags: 0, expectSrcIno: big,
      expectDstIno: null, dstKeepOpen: false, sid: 0, trash: null, now: tick(),
    }), Errno.EINVAL);
  });

  it('setattr splices only the given fields; the type bits of the mode survive', async () => {
    const ino = await mk(f.engine, ROOT_INODE, 'f');
    const before = await attrBytes(ino);
    const now = tick();
    const a = await f.engine.doSetAttr({ ino, mode: 0o4755, uid: 0xfffffffe, now });
    assert.deepEqual([a.type, a.mode, a.uid, a.gid], [FileType.File, 0o4755, 0xfffffffe, 1000]);
    const after = await attrBytes(ino);
    assert.equal(after.readUInt16BE(1), (1 << 12) | 0o4755);
    assert.equal(after.readUInt32BE(3), 0xfffffffe);
    assert.deepEqual(after.subarray(7, 35), before.subarray(7, 35));
    assert.equal(after.readBigInt64BE(35), BigInt(now.sec));
    assert.deepEqual(after.subarray(47), before.subarray(47));
  });

  it('a mknod whose inode id is already used fails with EIO and writes nothing', async () => {
    const ino = await mk(f.engine, ROOT_INODE, 'f');
    const attr: Attr = fileAttr();
    await rejects(f.engine.doMknod({ parent: ROOT_INODE, name: name('g'), ino, attr, onExist: 'fail', now: tick() }), Errno.EIO);
    assert.equal(await f.raw.hexists('d1', 'g'), 0);
    assert.equal(await f.raw.get('totalInodes'), '1');
  });

  it('job leases (setIfSmall): the first caller wins and stores the time; others lose until diff has passed', async () => {
    assert.equal(await f.engine.doSetIfSmall('lastCleanupFiles', 1_000_000, 3240), true);
    assert.equal(await f.raw.get('lastCleanupFiles'), '1000000');
    assert.equal(await f.engine.doSetIfSmall('lastCleanupFiles', 1_000_100, 3240), false);
    assert.equal(await f.raw.get('lastCleanupFiles'), '1000000');
    assert.equal(await f.engine.doSetIfSmall('lastCleanupFiles', 1_003_240, 3240), true);
    assert.equal(await f.raw.get('lastCleanupFiles'), '1003240');
  });

  it('xattrs are raw name -> value fields of x<ino>', async () => {
    const ino = await mk(f.engine, ROOT_INODE, 'f');
    const value = Buffer.from([0, 0xff, 0x10]);
    await f.engine.doSetXattr(ino, name('user.bin'), value, 0);
    assert.deepEqual(await f.raw.hgetallBuffer(`x${ino}`), { 'user.bin': value });
    assert.deepEqual(await f.engine.doListXattr(ino), [name('user.bin')]);
    await f.engine.doRemoveXattr(ino, name('user.bin'));
    assert.equal(await f.raw.exists(`x${ino}`), 0);
  });

  it('entries are written as u8 type + u64 inode for every file type', async () => {
    for (const [i, type] of [FileType.File, FileType.Fifo, FileType.Socket, FileType.CharDev, FileType.BlockDev].entries()) {
      const ino = await newIno(f.engine);
      await f.engine.doMknod({ parent: ROOT_INODE, name: name(`n${i}`), ino, attr: fileAttr({ type }), onExist: 'fail', now: tick() });
      assert.deepEqual(await f.raw.hgetBuffer('d1', `n${i}`), encodeEntry(type, ino));
    }
  });
});
