// Row-level checks of the SQLite engine: after each operation the raw rows hold exactly what the
// JuiceFS SQL schema says (spec §C): µs times + ns columns, mode without type bits, slices as
// concatenated 24-byte records readable via CAST, real refcounts, "next unused" counters.
import assert from 'node:assert/strict';
import { decodeSlices } from '../../../src/meta/encoding.js';
import { CHUNK_SIZE, type SliceRecord, toChunkIndex, toSliceId } from '../../../src/meta/types.js';
import { attrOf, FileType, type Fixture, freshVolume, name, NOW, ROOT_INODE, SETTING, TRASH_INODE } from './helpers.js';

type Row = Record<string, unknown>;

describe('sqlite engine: rows as JuiceFS stores them', () => {
  let f: Fixture;
  beforeEach(async () => { f = await freshVolume(); });
  afterEach(async () => { await f.close(); });

  const row = (sql: string, ...params: unknown[]): Row | undefined => f.raw.prepare<unknown[], Row>(sql).get(...params);
  const rows = (sql: string, ...params: unknown[]): Row[] => f.raw.prepare<unknown[], Row>(sql).all(...params);
  const counter = (n: string): bigint | undefined => row('SELECT value FROM jfs_counter WHERE name=?', n)?.['value'] as bigint | undefined;
  const chunkBytes = (ino: bigint, indx: number): Buffer =>
    row('SELECT CAST(slices AS BLOB) AS b FROM jfs_chunk WHERE inode=? AND indx=?', ino, indx)?.['b'] as Buffer;

  it('format writes the setting row, root and trash nodes and the initial counters', () => {
    assert.equal(row(`SELECT value FROM jfs_setting WHERE name='format'`)?.['value'], SETTING);
    const root = row('SELECT * FROM jfs_node WHERE inode=1');
    assert.deepEqual([root?.['type'], root?.['mode'], root?.['nlink'], root?.['length'], root?.['parent']], [2n, 0o777n, 2n, 4096n, 1n]);
    const trash = row('SELECT * FROM jfs_node WHERE inode=?', TRASH_INODE);
    assert.equal(trash?.['mode'], 0o555n);
    assert.equal(counter('nextChunk'), 1n);
    assert.equal(counter('nextSession'), 0n);
    assert.equal(counter('usedSpace'), 0n);
    assert.equal(counter('totalInodes'), 0n);
    assert.equal(counter('nextCleanupSlices'), 0n);
  });

  it('nextInode and nextChunk hold the next unused id: a fresh volume hands out inode 2 and slice 1', async () => {
    // the fixture reserved 100 inodes starting at 2
    assert.equal(counter('nextInode'), 102n);
    assert.equal(await f.engine.allocateIds('slice', 10), 1n);
    assert.equal(counter('nextChunk'), 11n);
    assert.equal(await f.engine.allocateIds('inode', 5), 102n);
    assert.equal(counter('nextInode'), 107n);
    assert.equal(await f.engine.nextTrashId(), 1);
    assert.equal(await f.engine.nextTrashId(), 2);
    assert.equal(counter('nextTrash'), 2n);
  });

  it('mknod stores times in microseconds plus extra nanoseconds and the mode without type bits', async () => {
    const ino = f.ino();
    await f.engine.doMknod({ parent: ROOT_INODE, name: name('a'), ino, attr: attrOf(FileType.File, ROOT_INODE, { mode: 0o4755 }), onExist: 'fail', now: NOW });
    const n = row('SELECT * FROM jfs_node WHERE inode=?', ino);
    assert.equal(n?.['atime'], 1_700_000_000_123_456n);
    assert.equal(n?.['atimensec'], 789n);
    assert.equal(n?.['mtime'], 1_700_000_000_123_456n);
    assert.equal(n?.['ctimensec'], 789n);
    assert.equal(n?.['mode'], 0o4755n);
    assert.equal(n?.['type'], 1n);
    assert.equal(n?.['parent'], 1n);
    const e = row('SELECT parent, name, inode, type, typeof(name) AS t FROM jfs_edge WHERE inode=?', ino);
    assert.deepEqual(e, { parent: 1n, name: name('a'), inode: ino, type: 1n, t: 'blob' });
    assert.equal(counter('usedSpace'), 4096n);
    assert.equal(counter('totalInodes'), 1n);
    assert.deepEqual((await f.engine.doGetAttr(ino)).atimeNs, NOW.nsec);
  });

  it('mkdir creates a zeroed dir_stats row, bumps the parent nlink and counts in the parent stats', async () => {
    const d = f.ino();
    await f.engine.doMknod({ parent: ROOT_INODE, name: name('d'), ino: d, attr: attrOf(FileType.Directory, ROOT_INODE), onExist: 'fail', now: NOW });
    assert.deepEqual(row('SELECT data_length, used_space, used_inodes FROM jfs_dir_stats WHERE inode=?', d), { data_length: 0n, used_space: 0n, used_inodes: 0n });
    assert.equal(row('SELECT nlink FROM jfs_node WHERE inode=1')?.['nlink'], 3n);
    const file = f.ino();
    await f.engine.doMknod({ parent: d, name: name('f'), ino: file, attr: attrOf(FileType.File, d), onExist: 'fail', now: NOW });
    await f.engine.doWriteSlice({ ino: file, indx: toChunkIndex(0), slice: { pos: 0, id: toSliceId(7), size: 5000, off: 0, len: 5000 }, mtime: NOW, now: NOW });
    assert.deepEqual(row('SELECT data_length, used_space, used_inodes FROM jfs_dir_stats WHERE inode=?', d), { data_length: 5000n, used_space: 8192n, used_inodes: 1n });
    assert.equal(counter('usedSpace'), 4096n + 8192n);
  });

  it('appended slices stay readable via CAST(slices AS BLOB) after the cell turns into TEXT', async () => {
    const ino = f.ino();
    await f.engine.doMknod({ parent: ROOT_INODE, name: name('f'), ino, attr: attrOf(FileType.File, ROOT_INODE), onExist: 'fail', now: NOW });
    // ids and sizes chosen so the records contain NUL and bytes >= 0x80 (invalid UTF-8)
    const written: SliceRecord[] = [
      { pos: 0, id: toSliceId(0xff00), size: 0x80, off: 0, len: 0x80 },
      { pos: 0x40, id: toSliceId(0x1_0000_00ff), size: 300, off: 0, len: 300 },
      { pos: 0xfe, id: toSliceId(0x80), size: 1, off: 0, len: 1 },
    ];
    const lengths: number[] = [];
    for (const s of written) {
      lengths.push((await f.engine.doWriteSlice({ ino, indx: toChunkIndex(1), slice: s, mtime: NOW, now: NOW })).listLength);
    }
    assert.deepEqual(lengths, [1, 2, 3]);
    assert.equal(row('SELECT typeof(slices) AS t FROM jfs_chunk WHERE inode=?', ino)?.['t'], 'text');
    const blob = chunkBytes(ino, 1);
    assert.equal(blob.length, 72);
    assert.deepEqual(decodeSlices(blob), written);
    assert.deepEqual(await f.engine.doReadSlices(ino, toChunkIndex(1)), written);
    assert.deepEqual(rows('SELECT chunkid, size, refs FROM jfs_chunk_ref ORDER BY chunkid'), [
      { chunkid: 0x80n, size: 1n, refs: 1n }, { chunkid: 0xff00n, size: 0x80n, refs: 1n }, { chunkid: 0x1_0000_00ffn, size: 300n, refs: 1n },
    ]);
    const n = row('SELECT length FROM jfs_node WHERE inode=?', ino);
    assert.equal(n?.['length'], BigInt(CHUNK_SIZE + 0x40 + 300));
  });

  it('truncate appends hole records to the chunk of the smaller offset, existing middle chunks and the chunk of the larger offset', async () => {
    const ino = f.ino();
    await f.engine.doMknod({ parent: ROOT_INODE, name: name('f'), ino, attr: attrOf(FileType.File, ROOT_INODE), onExist: 'fail', now: NOW });
    const w = (indx: number, id: number, len: number) =>
      f.engine.doWriteSlice({ ino, indx: toChunkIndex(indx), slice: { pos: 0, id: toSliceId(id), size: len, off: 0, len }, mtime: NOW, now: NOW });
    await w(0, 1, 1000);
    await w(2, 2, 1000);
    await f.engine.doTruncate({ ino, length: 500, now: NOW });
    const hole = (pos: number, len: number): SliceRecord => ({ pos, id: toSliceId(0), size: 0, off: 0, len });
    assert.deepEqual(decodeSlices(chunkBytes(ino, 0)).slice(1), [hole(500, CHUNK_SIZE - 500)]);
    assert.equal(row('SELECT 1 AS x FROM jfs_chunk WHERE inode=? AND indx=1', ino), undefined);
    assert.deepEqual(decodeSlices(chunkBytes(ino, 2)).slice(1), [hole(0, 1000)]);

    await f.engine.doTruncate({ ino, length: 4 * CHUNK_SIZE + 10, now: NOW });
    assert.deepEqual(decodeSlices(chunkBytes(ino, 0)).slice(2), [hole(500, CHUNK_SIZE - 500)]);
    assert.equal(row('SELECT 1 AS x FROM jfs_chunk WHERE inode=? AND indx IN (1, 3)', ino), undefined);
    assert.deepEqual(decodeSlices(chunkBytes(ino, 2)).slice(2), [hole(0, CHUNK_SIZE)]);
    assert.deepEqual(decodeSlices(chunkBytes(ino, 4)), [hole(0, 10)]);
    assert.equal(row('SELECT length FROM jfs_node WHERE inode=?', ino)?.['length'], BigInt(4 * CHUNK_SIZE + 10));
    assert.equal(counter('usedSpace'), BigInt(4 * CHUNK_SIZE + 4096));
  });

  it('a hard link sets node.parent to 0 and both edges point at the inode', async () => {
    const ino = f.ino();
    const d = f.ino();
    await f.engine.doMknod({ parent: ROOT_INODE, name: name('f'), ino, attr: attrOf(FileType.File, ROOT_INODE), onExist: 'fail', now: NOW });
    await f.engine.doMknod({ parent: ROOT_INODE, name: name('d'), ino: d, attr: attrOf(FileType.Directory, ROOT_INODE), onExist: 'fail', now: NOW });
    const a = await f.engine.doLink({ ino, parent: d, name: name('g'), now: NOW });
    assert.equal(a.parent, 0n);
    assert.equal(a.nlink, 2);
    assert.deepEqual(row('SELECT nlink, parent FROM jfs_node WHERE inode=?', ino), { nlink: 2n, parent: 0n });
    assert.deepEqual(rows('SELECT parent FROM jfs_edge WHERE inode=? ORDER BY parent', ino), [{ parent: 1n }, { parent: d }]);
    assert.equal(counter('totalInodes'), 2n);
  });

  it('xattr names are TEXT cells holding the raw bytes, values BLOBs', async () => {
    const ino = f.ino();
    await f.engine.doMknod({ parent: ROOT_INODE, name: name('f'), ino, attr: attrOf(FileType.File, ROOT_INODE), onExist: 'fail', now: NOW });
    const n = Buffer.from([0x75, 0x73, 0x65, 0x72, 0x2e, 0xff, 0xfe]);
    await f.engine.doSetXattr(ino, n, Buffer.from([0, 1, 2]), 0);
    assert.deepEqual(row('SELECT typeof(name) AS tn, CAST(name AS BLOB) AS n, typeof(value) AS tv, value FROM jfs_xattr WHERE inode=?', ino),
      { tn: 'text', n, tv: 'blob', value: Buffer.from([0, 1, 2]) });
    assert.deepEqual(await f.engine.doGetXattr(ino, n), Buffer.from([0, 1, 2]));
    assert.deepEqual(await f.engine.doListXattr(ino), [n]);
  });

  it('symlink targets are BLOBs in jfs_symlink and the node length is the target length', async () => {
    const ino = f.ino();
    const target = Buffer.from([0x2f, 0xe4, 0xb8, 0x00, 0x41]);
    await f.engine.doMknod({
      parent: ROOT_INODE, name: name('l'), ino, attr: attrOf(FileType.Symlink, ROOT_INODE, { length: target.length, mode: 0o777 }),
      symlinkTarget: target, onExist: 'fail', now: NOW,
    });
    assert.deepEqual(row('SELECT target, typeof(target) AS t FROM jfs_symlink WHERE inode=?', ino), { target, t: 'blob' });
    assert.equal(row('SELECT length FROM jfs_node WHERE inode=?', ino)?.['length'], 5n);
    assert.deepEqual(await f.engine.doReadlink(ino), target);
  });

  it('unlinking the last link queues a delfile row and drops the node; unlinking while open keeps a sustained row', async () => {
    const a = f.ino();
    const b = f.ino();
    for (const [ino, n] of [[a, 'a'], [b, 'b']] as const) {
      await f.engine.doMknod({ parent: ROOT_INODE, name: name(n), ino, attr: attrOf(FileType.File, ROOT_INODE), onExist: 'fail', now: NOW });
      await f.engine.doWriteSlice({ ino, indx: toChunkIndex(0), slice: { pos: 0, id: toSliceId(ino), size: 10, off: 0, len: 10 }, mtime: NOW, now: NOW });
    }
    const base = { parent: ROOT_INODE, sid: 9, trash: null, now: NOW, rmdir: false };
    const ra = await f.engine.doUnlink({ ...base, name: name('a'), expectIno: a, keepOpen: false });
    assert.equal(ra.deleted, true);
    assert.deepEqual(row('SELECT inode, length, expire FROM jfs_delfile'), { inode: a, length: 10n, expire: BigInt(NOW.sec) });
    assert.equal(row('SELECT 1 AS x FROM jfs_node WHERE inode=?', a), undefined);
    const rb = await f.engine.doUnlink({ ...base, name: name('b'), expectIno: b, keepOpen: true });
    assert.equal(rb.sustained, true);
    assert.deepEqual(row('SELECT sid, inode FROM jfs_sustained'), { sid: 9n, inode: b });
    assert.equal(row('SELECT nlink FROM jfs_node WHERE inode=?', b)?.['nlink'], 0n);
    assert.equal(counter('totalInodes'), 1n);
    const del = await f.engine.doDeleteSustained(9, b);
    assert.equal(del?.length, 10);
    assert.equal(row('SELECT 1 AS x FROM jfs_sustained'), undefined);
    assert.equal(counter('totalInodes'), 0n);
    assert.equal(counter('usedSpace'), 0n);
  });

  it('sessions are jfs_session2 rows with the SessionInfo JSON as a BLOB', async () => {
    const info = { Version: '1.3.0-ferry', HostName: 'h', MountPoint: 'webdav', MountTime: '2024-01-01T00:00:00Z', ProcessID: 42 };
    const sid = await f.engine.doNewSession(info, 1234);
    assert.equal(sid, 1);
    const r = row('SELECT sid, expire, typeof(info) AS t, info FROM jfs_session2');
    assert.equal(r?.['t'], 'blob');
    assert.deepEqual(JSON.parse((r?.['info'] as Buffer).toString()), info);
    assert.equal(r?.['expire'], 1234n);
    assert.equal(counter('nextSession'), 1n);
  });

  it('moving an entry to trash renames it into the trash directory and keeps the counters', async () => {
    const trashDir = TRASH_INODE + 1n as typeof TRASH_INODE;
    await f.engine.doMknod({ parent: TRASH_INODE, name: name('2024-01-01-00'), ino: trashDir, attr: attrOf(FileType.Directory, TRASH_INODE, { mode: 0o555 }), onExist: 'fail', now: NOW });
    assert.equal(row('SELECT nlink FROM jfs_node WHERE inode=?', TRASH_INODE)?.['nlink'], 2n);
    const ino = f.ino();
    await f.engine.doMknod({ parent: ROOT_INODE, name: name('x'), ino, attr: attrOf(FileType.File, ROOT_INODE), onExist: 'fail', now: NOW });
    const trashName = Buffer.from(`1-${ino}-x`);
    const r = await f.engine.doUnlink({ parent: ROOT_INODE, name: name('x'), expectIno: ino, keepOpen: false, sid: 1, trash: { dir: trashDir, name: trashName }, now: NOW, rmdir: false });
    assert.equal(r.deleted, false);
    assert.deepEqual(row('SELECT parent, inode FROM jfs_edge WHERE name=?', trashName), { parent: trashDir, inode: ino });
    assert.equal(row('SELECT parent FROM jfs_node WHERE inode=?', ino)?.['parent'], trashDir);
    assert.equal(counter('totalInodes'), 2n);
  });
});
