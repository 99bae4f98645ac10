/** The Redis VolumeLoader (`ferry load`): Redis meanings of counters and sliceRef, setting last. */
import assert from 'node:assert/strict';
import { encodeAttr, encodeEntry, encodeQuota, encodeSlice } from '../../../src/meta/encoding.js';
import { FileType, ROOT_INODE, toChunkIndex, toIno, toSliceId } from '../../../src/meta/types.js';
import { Errno } from '../../../src/util/errno.js';
import { rejects } from '../conformance/helpers.js';
import { type Fixture, SETTING, dirAttr, fileAttr, freshRedis, mk } from './fixture.js';

describe('redis engine: volume loader', function () {
  let f: Fixture;
  afterEach(async () => { await f.cleanup(); });

  it('writes nodes, entries, chunks, refs and counters in Redis meaning; the setting comes last', async () => {
    f = await freshRedis({}, false);
    const loader = await f.engine.newLoader();
    const root = dirAttr({ parent: ROOT_INODE, mode: 0o777, nlink: 2 });
    const file = fileAttr({ parent: toIno(0), nlink: 2, length: 300 });
    const slice = { pos: 0, id: toSliceId(77), size: 300, off: 0, len: 300 };
    loader.setting(SETTING);
    loader.node(ROOT_INODE, root);
    loader.node(toIno(2), file);
    loader.entry(ROOT_INODE, Buffer.from('a'), FileType.File, toIno(2));
    loader.entry(ROOT_INODE, Buffer.from('b'), FileType.File, toIno(2));
    loader.parents(toIno(2), new Map([[ROOT_INODE, 2]]));
    loader.xattr(toIno(2), Buffer.from('user.x'), Buffer.from([0, 1, 2]));
    loader.chunk(toIno(2), toChunkIndex(0), Array.from({ length: 600 }, () => slice));
    loader.sliceRef(toSliceId(77), 300, 3);
    loader.sliceRef(toSliceId(78), 300, 1);
    loader.dirStats(ROOT_INODE, { dataLength: 300, usedSpace: 4096, usedInodes: 1 });
    loader.dirQuota(ROOT_INODE, { maxSpace: 1 << 30, maxInodes: -1, usedSpace: 4096, usedInodes: 1 });
    loader.acl(3, { owner: 7, group: 5, mask: 0xffff, other: 4, users: [{ id: 1000, perm: 6 }], groups: [] });
    loader.delFile({ ino: toIno(9), length: 1234, expire: 1_700_000_000 });
    loader.sustained(4, toIno(10));
    loader.counters({ usedSpace: 4096, usedInodes: 1, nextInode: 100n, nextChunk: 200n, nextSession: 5, nextTrash: 1 });
    assert.equal(await f.raw.exists('setting'), 0, 'nothing marks the volume formatted before commit');
    await loader.commit();
    assert.equal(await f.raw.get('setting'), SETTING);
    assert.deepEqual(await f.raw.getBuffer('i1'), encodeAttr(root));
    assert.deepEqual(await f.raw.getBuffer('i2'), encodeAttr(file));
    assert.deepEqual(await f.raw.hgetBuffer('d1', 'b'), encodeEntry(FileType.File, toIno(2)));
    assert.deepEqual(await f.raw.hgetall('p2'), { '1': '2' });
    assert.deepEqual(await f.raw.hgetBuffer('x2', 'user.x'), Buffer.from([0, 1, 2]));
    assert.equal(await f.raw.llen('c2_0'), 600);
    assert.deepEqual(await f.raw.lindexBuffer('c2_0', 599), encodeSlice(slice));
    assert.deepEqual(await f.raw.hgetall('sliceRef'), { k77_300: '2' });
    assert.deepEqual(await f.raw.mget('nextinode', 'nextchunk', 'nextsession', 'nextTrash', 'usedSpace', 'totalInodes'), ['99', '199', '5', '1', '4096', '1']);
    assert.deepEqual(await f.raw.hgetBuffer('dirQuota', '1'), encodeQuota(1n << 30n, -1n));
    assert.equal(await f.raw.hget('dirUsedSpace', '1'), '4096');
    assert.equal(await f.raw.get('aclMaxId'), '3');
    assert.deepEqual(await f.engine.doGetAcl(3), { owner: 7, group: 5, mask: 0xffff, other: 4, users: [{ id: 1000, perm: 6 }], groups: [] });
    assert.deepEqual(await f.raw.zrange('delfiles', 0, -1, 'WITHSCORES'), ['9:1234', '1700000000']);
    assert.deepEqual(await f.raw.smembers('session4'), ['10']);
    const c = await f.engine.getCounters();
    assert.deepEqual([c.nextInode, c.nextChunk, c.nextSession, c.nextTrash], [100n, 200n, 5, 1]);
  });

  it('refuses a volume that already has files (ENOTEMPTY)', async () => {
    f = await freshRedis();
    assert.equal(await f.engine.isEmpty(), true);
    await mk(f.engine, ROOT_INODE, 'f');
    assert.equal(await f.engine.isEmpty(), false);
    await rejects(f.engine.newLoader(), Errno.ENOTEMPTY);
  });
});
