/**
 * Two appliances on one volume (spec §F, DESIGN.md "Scale-out"): two Vfs, each with its own BaseMeta
 * session and block cache, over one metadata engine and one object store. A reader sees another
 * node's writes after it reopens the file (close-to-open) or after a fresh getattr shows the change;
 * compaction is triggered by the list length whoever made it grow.
 */
import assert from 'node:assert/strict';
import { BaseMeta } from '../../src/meta/base.js';
import { MemoryEngine } from '../../src/meta/memory/engine.js';
import { MemoryObjectStore } from '../../src/storage/memory.js';
import { withPrefix } from '../../src/storage/wrappers/prefix.js';
import { openVolume, type Volume } from '../../src/vfs/open.js';
import { SYNC_COMPACTION_RECORDS } from '../../src/meta/meta.js';
import { toChunkIndex } from '../../src/meta/types.js';
import { MODE_READ, MODE_WRITE, ROOT_CREDENTIALS, ROOT_INODE } from '../../src/vfs/types.js';
import { BLOCK, bytes } from './rig.js';

const ROOT = ROOT_CREDENTIALS;

describe('Vfs close-to-open between two nodes (memory meta × mem store)', function () {
  const volumes: Volume[] = [];

  afterEach(async function () {
    for (const v of volumes.splice(0)) await v.close();
  });

  /** A formatted volume and two nodes on it, each with its own BaseMeta and Vfs. */
  async function twoNodes(second: { compaction?: boolean } = {}): Promise<[Volume, Volume]> {
    const engine = new MemoryEngine();
    const bucket = new MemoryObjectStore('shared');
    const setup = new BaseMeta(engine);
    await setup.format({ Name: 'twonodes', UUID: '', Storage: 'mem', Bucket: 'shared', BlockSize: BLOCK / 1024, Compression: 'none', TrashDays: 0, EnableACL: false });
    const node = async (opts: { compaction?: boolean }): Promise<Volume> => {
      const meta = new BaseMeta(engine);
      await meta.load();
      const v = await openVolume({ meta }, { store: withPrefix(bucket, 'twonodes/'), releaseIntervalMs: 0, ...opts });
      volumes.push(v);
      return v;
    };
    return [await node({}), await node(second)];
  }

  it('a reader sees another node\'s overwrite after reopening, or after getattr shows the change', async function () {
    const [a, b] = await twoNodes();

    const { ino } = await a.vfs.create(ROOT, ROOT_INODE, Buffer.from('f'), 0o644, 0);
    let h = (await a.vfs.open(ROOT, ino, MODE_WRITE)).handle;
    await a.vfs.write(ROOT, h, 0, bytes(2 * BLOCK, 1));
    await a.vfs.release(ROOT, h);

    const hb = (await b.vfs.open(ROOT, ino, MODE_READ)).handle;
    assert.ok((await b.vfs.read(ROOT, hb, 0, 2 * BLOCK)).equals(bytes(2 * BLOCK, 1)));

    h = (await a.vfs.open(ROOT, ino, MODE_WRITE)).handle;
    await a.vfs.write(ROOT, h, 100, bytes(1000, 2));
    await a.vfs.write(ROOT, h, 2 * BLOCK, bytes(500, 3)); // and grow the file
    await a.vfs.release(ROOT, h);

    const want = bytes(2 * BLOCK + 500, 0);
    bytes(2 * BLOCK, 1).copy(want, 0);
    bytes(1000, 2).copy(want, 100);
    bytes(500, 3).copy(want, 2 * BLOCK);

    // a fresh getattr (what an NFS client sends before it trusts its cache) refreshes B's view
    assert.equal((await b.vfs.getattr(ROOT, ino)).length, want.length);
    assert.ok((await b.vfs.read(ROOT, hb, 0, want.length)).equals(want));

    // and an open refreshes the file for every handle of B, also the one kept open meanwhile
    h = (await a.vfs.open(ROOT, ino, MODE_WRITE)).handle;
    await a.vfs.write(ROOT, h, 0, bytes(10, 4));
    await a.vfs.release(ROOT, h);
    bytes(10, 4).copy(want, 0);
    const hb2 = (await b.vfs.open(ROOT, ino, MODE_READ)).handle;
    assert.ok((await b.vfs.read(ROOT, hb, 0, want.length)).equals(want));
    assert.ok((await b.vfs.read(ROOT, hb2, 0, want.length)).equals(want));
    await b.vfs.release(ROOT, hb);
    await b.vfs.release(ROOT, hb2);
  });

  it('recentAttr answers what this node last knew of an open file for maxAgeMs; getattr refreshes it; its own unlink or rename, the age or a release end it', async function () {
    const [a, b] = await twoNodes();
    const name = Buffer.from('f');
    const { ino } = await a.vfs.create(ROOT, ROOT_INODE, name, 0o644, 0);
    const grow = async (length: number): Promise<void> => {
      const h = (await a.vfs.open(ROOT, ino, MODE_WRITE)).handle;
      await a.vfs.write(ROOT, h, length - 1, bytes(1, 9));
      await a.vfs.release(ROOT, h);
    };
    const MINUTE = 60_000;
    await grow(100);
    assert.equal(b.vfs.recentAttr(ino, MINUTE), undefined, 'not open on B: nothing known');
    assert.equal(b.vfs.isOpen(ino), false);

    const hb = (await b.vfs.open(ROOT, ino, MODE_READ)).handle;
    assert.equal(b.vfs.isOpen(ino), true);
    assert.equal(b.vfs.recentAttr(ino, MINUTE)?.length, 100, 'as the open read it');
    await grow(300);
    assert.equal(b.vfs.recentAttr(ino, MINUTE)?.length, 100, 'known within the last minute');
    assert.equal(b.vfs.recentAttr(ino, 0), undefined, 'older than 0 ms');
    assert.equal((await b.vfs.getattr(ROOT, ino)).length, 300, 'getattr is always fresh');
    assert.equal(b.vfs.recentAttr(ino, MINUTE)?.length, 300, 'and refreshes what recentAttr answers');

    // B's own writes show at once, buffered or committed
    const wb = (await b.vfs.open(ROOT, ino, MODE_WRITE)).handle;
    await b.vfs.write(ROOT, wb, 1000, bytes(24, 5));
    assert.equal(b.vfs.recentAttr(ino, MINUTE)?.length, 1024);
    const synced = await b.vfs.fsync(ROOT, wb);
    assert.deepEqual(b.vfs.recentAttr(ino, MINUTE), synced);
    await b.vfs.release(ROOT, wb);

    // an unlink or a rename through B changes ctime and nlink of inodes whose state B does not
    // update: attributes known before it are not recent any more
    await a.vfs.link(ROOT, ino, ROOT_INODE, Buffer.from('g'));
    assert.equal(b.vfs.recentAttr(ino, MINUTE)?.nlink, 1);
    await b.vfs.unlink(ROOT, ROOT_INODE, Buffer.from('g'));
    assert.equal(b.vfs.recentAttr(ino, MINUTE), undefined, 'after an unlink through B');
    await b.vfs.getattr(ROOT, ino);
    assert.equal(b.vfs.recentAttr(ino, MINUTE)?.nlink, 1);
    await b.vfs.rename(ROOT, ROOT_INODE, name, ROOT_INODE, Buffer.from('f2'));
    assert.equal(b.vfs.recentAttr(ino, MINUTE), undefined, 'after a rename through B');

    await b.vfs.getattr(ROOT, ino);
    await b.vfs.release(ROOT, hb);
    assert.equal(b.vfs.recentAttr(ino, MINUTE), undefined, 'released: nothing known');
    assert.equal(b.vfs.isOpen(ino), false);
  });

  it('releases the data of files another node deleted but did not release (delfiles), at the latest on close', async function () {
    const engine = new MemoryEngine();
    const bucket = new MemoryObjectStore('shared');
    const other = new BaseMeta(engine); // a node without a slice deleter: it can only queue deletions
    await other.format({ Name: 'twonodes', UUID: '', Storage: 'mem', Bucket: 'shared', BlockSize: BLOCK / 1024, Compression: 'none', TrashDays: 0, EnableACL: false });
    const meta = new BaseMeta(engine);
    await meta.load();
    const v = await openVolume({ meta }, { store: withPrefix(bucket, 'twonodes/'), releaseIntervalMs: 0 });
    volumes.push(v);
    const { ino } = await v.vfs.create(ROOT, ROOT_INODE, Buffer.from('f'), 0o644, 0);
    const h = (await v.vfs.open(ROOT, ino, MODE_WRITE)).handle;
    await v.vfs.write(ROOT, h, 0, bytes(3 * BLOCK, 5));
    await v.vfs.release(ROOT, h);
    const objects = async (): Promise<number> => {
      let count = 0;
      for await (const _ of bucket.list('twonodes/chunks/')) count++;
      return count;
    };
    assert.equal(await objects(), 3);
    await other.unlink(ROOT, ROOT_INODE, Buffer.from('f'));
    assert.equal((await meta.delFiles()).length, 1);
    await v.close();
    assert.equal(await objects(), 0);
    assert.equal((await meta.delFiles()).length, 0);
  });

  it('the compaction trigger counts commits of every node to a chunk: the 99th record, wherever it comes from', async function () {
    const [a, b] = await twoNodes();
    const { ino } = await a.vfs.create(ROOT, ROOT_INODE, Buffer.from('frag'), 0o644, 0);
    const expected = Buffer.alloc(99 * 10);
    for (let k = 0; k < 99; k++) {
      const v = k % 2 === 0 ? a : b; // neither node commits more than 50 slices itself
      const { handle } = await v.vfs.open(ROOT, ino, MODE_WRITE);
      const data = bytes(10, k + 1);
      await v.vfs.write(ROOT, handle, k * 10, data);
      data.copy(expected, k * 10);
      await v.vfs.release(ROOT, handle);
    }
    await a.vfs.settle();
    await b.vfs.settle();
    const records = await a.meta.readSlices(ino, toChunkIndex(0));
    assert.equal(records.length, 1, 'compacted into one slice');
    const { handle } = await a.vfs.open(ROOT, ino, MODE_READ);
    assert.ok((await a.vfs.read(ROOT, handle, 0, expected.length)).equals(expected));
    await a.vfs.release(ROOT, handle);
  });

  it('a commit that leaves 2500 records waits for the chunk\'s compaction (spec §B.12)', async function () {
    this.timeout(120_000);
    const [a, b] = await twoNodes({ compaction: false }); // b never compacts: its commits only grow the list
    const { ino } = await a.vfs.create(ROOT, ROOT_INODE, Buffer.from('long'), 0o644, 0);
    const expected = Buffer.alloc(SYNC_COMPACTION_RECORDS);
    const { handle: bh } = await b.vfs.open(ROOT, ino, MODE_WRITE);
    for (let k = 0; k < SYNC_COMPACTION_RECORDS - 1; k++) {
      expected[k] = (k % 250) + 1;
      await b.vfs.write(ROOT, bh, k, expected.subarray(k, k + 1));
      await b.vfs.fsync(ROOT, bh);
    }
    await b.vfs.release(ROOT, bh);
    assert.equal((await a.meta.readSlices(ino, toChunkIndex(0))).length, SYNC_COMPACTION_RECORDS - 1);
    const { handle } = await a.vfs.open(ROOT, ino, MODE_WRITE);
    expected[SYNC_COMPACTION_RECORDS - 1] = 0xee;
    await a.vfs.write(ROOT, handle, SYNC_COMPACTION_RECORDS - 1, Buffer.from([0xee]));
    await a.vfs.fsync(ROOT, handle); // the 2500th record: its commit returns after a compaction
    const records = (await a.meta.readSlices(ino, toChunkIndex(0))).length;
    assert.ok(records <= SYNC_COMPACTION_RECORDS - 999, `compacted before fsync returned: ${records} records`);
    await a.vfs.release(ROOT, handle);
    assert.ok((await a.vfs.read(ROOT, ino, 0, SYNC_COMPACTION_RECORDS)).equals(expected));
  });
});
