import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { dumpVolume, type DumpOptions } from '../../../src/meta/dump/dump.js';
import { loadVolume } from '../../../src/meta/dump/load.js';
import type { MetaEngine } from '../../../src/meta/engine.js';
import type { Meta } from '../../../src/meta/meta.js';
import { resolveChunk } from '../../../src/meta/slices.js';
import { openMeta } from '../../../src/meta/open.js';
import { FileType, ROOT_CREDENTIALS, TRASH_INODE, toChunkIndex, toIno, toSliceId, type Ino } from '../../../src/meta/types.js';
import { Errno, isFsError } from '../../../src/util/errno.js';
import { freshRedisUrl } from '../../helpers/hooks.js';
import { tmpDir } from '../../helpers/tmp.js';

const FIXTURES = '/work/shared/fixtures/juicefs';
const FULL = readFileSync(join(FIXTURES, 'metadata.sample.json'));
const SUB = readFileSync(join(FIXTURES, 'metadata-sub.sample.json'));
const GBK_FILE = 'GBK果汁数据科技有限公司文件';

interface Backend {
  /** A URL of a fresh, empty volume. */
  url(): Promise<string>;
  /** Checks of the raw backend after loading metadata.sample.json. */
  raw(url: string): Promise<void>;
}

/** Collects what a dump writes, with a small buffer so the writer meets backpressure. */
function sink(): { out: Writable; text: () => Buffer } {
  const parts: Buffer[] = [];
  const out = new Writable({
    highWaterMark: 256,
    write(chunk: Buffer, _enc, cb) {
      parts.push(chunk);
      setImmediate(cb);
    },
  });
  return { out, text: () => Buffer.concat(parts) };
}

async function dumpToBuffer(meta: Meta, opts: DumpOptions = {}): Promise<Buffer> {
  const s = sink();
  await dumpVolume(meta, s.out, opts);
  return s.text();
}

async function names(meta: Meta, ino: Ino): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const e of meta.readdir(ROOT_CREDENTIALS, ino)) out.push(e.name);
  return out;
}

async function withVolume<T>(url: string, fn: (meta: Meta, engine: MetaEngine) => Promise<T>): Promise<T> {
  const { meta, engine } = await openMeta(url);
  try {
    return await fn(meta, engine);
  } finally {
    await meta.close();
  }
}

type Volume = { meta: Meta; engine: MetaEngine };

function loadDumpSuite(name: string, backend: Backend): void {
  describe(`load and dump of the JuiceFS fixtures on ${name}`, () => {
    let url: string;
    let vol: Volume;
    /** Runs `fn` on the volume loaded once for the whole suite (memory:// cannot be reopened). */
    const withLoaded = <T>(fn: (meta: Meta, engine: MetaEngine) => Promise<T>): Promise<T> => fn(vol.meta, vol.engine);

    before(async () => {
      url = await backend.url();
      vol = await openMeta(url);
      const r = await loadVolume(vol.engine, FULL);
      assert.equal(r.setting.Name, 'load-dump-test');
    });

    after(async () => {
      await vol.meta.close();
    });

    it('recomputes the counters from the tree', async () => {
      await withLoaded(async (meta) => {
        const c = await meta.counters();
        assert.deepEqual(
          { ...c },
          { usedSpace: 115392512, usedInodes: 14, nextInode: 35n, nextChunk: 9n, nextSession: 0, nextTrash: 1 },
        );
      });
    });

    it('lists the root with raw GBK and UTF-8 names', async () => {
      await withLoaded(async (meta) => {
        await meta.load();
        const list = await names(meta, toIno(1));
        assert.equal(list.length, 11);
        const text = list.map((n) => n.toString('utf8'));
        assert.ok(text.includes('.') && text.includes('..'));
        assert.ok(text.includes('UTF8果汁数据科技有限公司目录'));
        assert.ok(text.includes('UTF8果汁数据科技有限公司文件'));
        const gbk = list.filter((n) => n.subarray(0, 3).toString() === 'GBK');
        assert.equal(gbk.length, 1);
        assert.equal(new TextDecoder('gbk').decode(gbk[0]), GBK_FILE);
        const f = await meta.lookup(ROOT_CREDENTIALS, toIno(1), gbk[0] ?? Buffer.alloc(0));
        assert.equal(f.ino, 34n);
      });
    });

    it('recomputes directory stats, link counts and lengths', async () => {
      await withLoaded(async (meta) => {
        assert.deepEqual(await meta.dirStats(toIno(1)), { dataLength: 36, usedSpace: 36864, usedInodes: 9 });
        const nlink = async (ino: bigint): Promise<number> => (await meta.getattr(toIno(ino))).nlink;
        assert.equal(await nlink(1n), 5);
        assert.equal(await nlink(3n), 2);
        assert.equal(await nlink(TRASH_INODE), 2);
        assert.equal(await nlink(TRASH_INODE + 1n), 2);
        assert.equal((await meta.getattr(toIno(3))).length, 4096);
        assert.equal((await meta.getattr(toIno(5))).length, gbkBytes().length, 'symlink length = target bytes');
        assert.equal((await meta.getattr(toIno(2))).length, 24);
      });
    });

    it('restores file 2 with flags, slices and shared ACL rules', async () => {
      await withLoaded(async (meta) => {
        const a = await meta.getattr(toIno(2));
        assert.equal(a.nlink, 1);
        assert.equal(a.length, 24);
        assert.equal(a.flags, 128);
        assert.equal(a.type, FileType.File);
        assert.notEqual(a.accessAclId, 0);
        assert.notEqual(a.defaultAclId, 0);
        assert.deepEqual(await meta.acl(a.accessAclId), { owner: 6, group: 4, mask: 4, other: 4, users: [{ id: 1, perm: 6 }, { id: 2, perm: 7 }], groups: [] });
        assert.deepEqual(await meta.acl(a.defaultAclId), { owner: 7, group: 5, mask: 5, other: 5, users: [], groups: [{ id: 3, perm: 6 }, { id: 4, perm: 7 }] });
        const gbk = await meta.getattr(toIno(34));
        assert.equal(gbk.accessAclId, a.accessAclId, 'identical rules share one id');
        assert.equal(gbk.defaultAclId, a.defaultAclId);
        const slices = await meta.readSlices(toIno(2), toChunkIndex(0));
        assert.deepEqual(slices.map((s) => s.id), [1n, 2n, 4n]);
        assert.deepEqual(resolveChunk(slices, 0, a.length), [{ start: 0, end: 24, id: toSliceId(4), size: 24, off: 0 }], 'only slice 4 is visible');
        assert.deepEqual(await meta.getxattr(ROOT_CREDENTIALS, toIno(2), Buffer.from('k')), Buffer.from('v'));
        assert.deepEqual(await meta.getxattr(ROOT_CREDENTIALS, toIno(3), Buffer.from('dk')), Buffer.from('果汁%25'));
      });
    });

    it('turns the file seen twice into a hard link with nlink 2 and parent 0', async () => {
      await withLoaded(async (meta) => {
        const a = await meta.getattr(toIno(4));
        assert.equal(a.nlink, 2);
        assert.equal(a.parent, 0n);
        assert.equal((await meta.lookup(ROOT_CREDENTIALS, toIno(1), Buffer.from('l1'))).ino, 4n);
        assert.equal((await meta.lookup(ROOT_CREDENTIALS, toIno(3), Buffer.from('f11'))).ino, 4n);
      });
    });

    it('keeps symlink targets as raw bytes', async () => {
      await withLoaded(async (meta) => {
        const target = await meta.readlink(toIno(5));
        assert.deepEqual(target, gbkBytes());
        assert.equal(new TextDecoder('gbk').decode(target), GBK_FILE);
        assert.deepEqual(await meta.readlink(toIno(26)), Buffer.from('d'));
      });
    });

    it('counts slice references across distinct inodes', async () => {
      await withLoaded(async (meta) => {
        assert.equal(await meta.sliceRefs(toSliceId(2), 12), 2);
        for (const [id, size] of [[1, 6], [4, 24], [5, 67108864], [6, 37748736], [7, 11], [8, 10485760]] as const) {
          assert.equal(await meta.sliceRefs(toSliceId(id), size), 1, `slice ${id}`);
        }
      });
    });

    it('restores quotas with usage recomputed, and the delfiles queue', async () => {
      await withLoaded(async (meta) => {
        const q = (await meta.dirQuotas()).get(toIno(1));
        assert.ok(q !== undefined);
        assert.deepEqual({ ...q }, { maxSpace: 1073741824, maxInodes: 100, usedSpace: 104898560, usedInodes: 11 });
        const u = (await meta.userGroupQuotas('user')).get(501);
        assert.equal(u?.maxSpace, 1099511627776);
        assert.equal(u?.maxInodes, 1000000);
        const g = (await meta.userGroupQuotas('group')).get(20);
        assert.equal(g?.maxSpace, 2199023255552);
        assert.equal(g?.maxInodes, 2000000);
        const del = await meta.delFiles();
        assert.deepEqual(del.map((d) => ({ ...d })), [{ ino: 23n, length: 0, expire: 1637664458 }]);
      });
    });

    it('stores the engine-specific raw values', async () => {
      await backend.raw(url);
    });

    it('dumps the loaded volume byte for byte as the fixture', async () => {
      await withLoaded(async (meta) => {
        const out = await dumpToBuffer(meta);
        assert.equal(out.toString('utf8'), FULL.toString('utf8'));
      });
    });

    it('dumps --subdir d1 byte for byte as the sub-tree fixture', async () => {
      await withLoaded(async (meta) => {
        const out = await dumpToBuffer(meta, { subdir: '/d1' });
        assert.equal(out.toString('utf8'), SUB.toString('utf8'));
      });
    });

    it('refuses to load into a volume that has files (ENOTEMPTY)', async () => {
      await withLoaded(async (_meta, engine) => {
        await assert.rejects(loadVolume(engine, SUB), (e: unknown) => isFsError(e, Errno.ENOTEMPTY));
      });
    });

    it('loads the sub-tree dump with its top directory as the root', async () => {
      const subUrl = await backend.url();
      await withVolume(subUrl, async (meta, engine) => {
        await loadVolume(engine, SUB);
        await meta.load();
        const list = (await names(meta, toIno(1))).map((n) => n.toString('utf8')).sort();
        assert.deepEqual(list, ['.', '..', 'big', 'f11']);
        const f11 = await meta.getattr(toIno(4));
        assert.equal(f11.nlink, 1, 'only one name in the sub-tree');
        assert.equal(f11.parent, 1n);
        const c = await meta.counters();
        assert.equal(c.usedInodes, 2);
        assert.equal(c.usedSpace, 104857600 + 4096);
        assert.equal(c.nextInode, 7n);
        assert.equal(c.nextChunk, 7n);
        assert.deepEqual(await meta.getxattr(ROOT_CREDENTIALS, toIno(1), Buffer.from('dk')), Buffer.from('果汁%25'));
      });
    });
  });
}

/** GBK encoding of GBK_FILE (27 bytes), written out byte by byte. */
function gbkBytes(): Buffer {
  const hex = '47424bb9fbd6adcafdbeddbfc6bcbcd3d0cfdeb9abcbbecec4bcfe';
  return Buffer.from(hex, 'hex');
}

loadDumpSuite('memory', {
  url: async () => 'memory://',
  raw: async () => {
    // the memory engine has no representation beyond the Meta API
  },
});

loadDumpSuite('redis', {
  url: freshRedisUrl,
  raw: async (url) => {
    const client = new Redis(url);
    try {
      assert.equal(await client.get('nextinode'), '34');
      assert.equal(await client.get('nextchunk'), '8');
      assert.equal(await client.get('nextsession'), '0');
      assert.equal(await client.get('nextTrash'), '1', 'the next trash sub-directory must be TrashInode + 2');
      assert.equal(await client.get('usedSpace'), '115392512');
      assert.equal(await client.get('totalInodes'), '14');
      assert.deepEqual(await client.hgetall('p4'), { 1: '1', 3: '1' });
      assert.deepEqual(await client.hgetall('sliceRef'), { k2_12: '1' });
      const setting = await client.get('setting');
      assert.ok(setting?.startsWith('{\n"Name": "load-dump-test",\n"UUID": '));
    } finally {
      await client.quit();
    }
  },
});

loadDumpSuite('sqlite', {
  url: async () => `sqlite3://${join(tmpDir('ferry-dump-'), 'meta.db')}`,
  raw: async (url) => {
    const db = new Database(url.slice('sqlite3://'.length), { readonly: true });
    try {
      const counter = (name: string): unknown => (db.prepare('SELECT value FROM jfs_counter WHERE name = ?').get(name) as { value: unknown } | undefined)?.value;
      assert.equal(Number(counter('nextInode')), 35);
      assert.equal(Number(counter('nextChunk')), 9);
      assert.equal(Number(counter('nextTrash')), 1);
      assert.equal(Number(counter('usedSpace')), 115392512);
      assert.equal(Number(counter('totalInodes')), 14);
      const refs = db.prepare('SELECT chunkid, size, refs FROM jfs_chunk_ref ORDER BY chunkid').all() as { chunkid: number; size: number; refs: number }[];
      assert.deepEqual(refs.find((r) => Number(r.chunkid) === 2), { chunkid: 2, size: 12, refs: 2 });
      assert.ok(refs.filter((r) => Number(r.chunkid) !== 2).every((r) => Number(r.refs) === 1));
    } finally {
      db.close();
    }
  },
});

describe('a malformed dump leaves the volume empty and loadable', () => {
  const truncated = FULL.subarray(0, FULL.length - 200);
  const cases: [string, () => string][] = [
    ['memory', () => 'memory://'],
    ['sqlite', () => `sqlite3://${join(tmpDir('ferry-dump-'), 'meta.db')}`],
  ];
  for (const [name, url] of cases) {
    it(`on ${name}: EINVAL, nothing loaded, and a good dump loads afterwards`, async () => {
      const { meta, engine } = await openMeta(url());
      try {
        await assert.rejects(loadVolume(engine, truncated), (e: unknown) => isFsError(e, Errno.EINVAL));
        assert.equal(await engine.isEmpty(), true);
        await loadVolume(engine, FULL);
        assert.equal((await meta.counters()).usedInodes, 14);
      } finally {
        await meta.close();
      }
    });
  }
});
