import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BaseMeta } from '../../src/meta/base.js';
import { openEngine } from '../../src/meta/open.js';
import { type Ino, MODE_READ, MODE_WRITE, ROOT_CREDENTIALS, ROOT_INODE, toChunkIndex } from '../../src/meta/types.js';
import { openVolume } from '../../src/vfs/open.js';
import { tmpDir, tmpDirOnOtherFs } from '../helpers/tmp.js';
import { BLOCK, chunkKeys, content, ferry, json, makeVolume, populate, type TestVolume } from './admin-fixture.js';

interface InfoJson {
  inode: number; type: string; size: number; nlink: number; parents: number[];
  chunks: { index: number; slices: { id: number; size: number; off: number; len: number; pos: number; objects: { key: string; size: number }[] }[] }[];
  objects: { count: number; bytes: number };
  summary?: { files: number; dirs: number; bytes: number };
}

interface FsckJson {
  ok: boolean; files: number; missing: { key: string }[]; brokenFiles: { path: string }[]; repaired: string[];
  leaked: { count: number; keys: string[] }; young: { count: number };
}

interface GcJson {
  leaked: { count: number; bytes: number; keys: string[] }; valid: { count: number }; deleted: number;
  compacted?: { files: number; chunks: number };
}

/** The slice list of chunk 0 of a file, read with our own engine connection. */
async function slicesOf(v: TestVolume, path: string): Promise<{ id: bigint; size: number }[]> {
  const meta = new BaseMeta(await openEngine(v.metaUrl), { readOnly: true });
  try {
    const ino = v.files.get(path);
    assert.ok(ino !== undefined);
    return (await meta.readSlices(ino, toChunkIndex(0))).map((s) => ({ id: s.id, size: s.size }));
  } finally {
    await meta.close();
  }
}

/** Key of block `i` of slice `id`, written out from spec §D.2 (not through blockKey). */
const specKey = (id: bigint, i: number, len: number): string => `chunks/${id / 1_000_000n}/${id / 1000n}/${id}_${i}_${len}`;

describe('ferry info (sqlite3 + file store)', () => {
  let v: TestVolume;
  before(async () => {
    v = await makeVolume({ meta: 'sqlite', storage: 'file' });
    await populate(v);
  });
  after(async () => v.close());

  it('shows a file\'s inode, size, parents, slice fields and its object keys with block lengths', async () => {
    const r = await ferry(['info', ...v.args, '/a.bin', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const info = json<InfoJson>(r);
    const [slice] = await slicesOf(v, '/a.bin');
    assert.ok(slice !== undefined);
    assert.equal(BigInt(info.inode), v.files.get('/a.bin'));
    assert.equal(info.type, 'file');
    assert.equal(info.size, 150 * 1024);
    assert.equal(info.nlink, 1);
    assert.deepEqual(info.parents, [1]);
    assert.equal(info.chunks.length, 1);
    const s = info.chunks[0]?.slices[0];
    assert.ok(s !== undefined);
    assert.deepEqual({ id: BigInt(s.id), size: s.size, off: s.off, len: s.len, pos: s.pos }, { id: slice.id, size: 150 * 1024, off: 0, len: 150 * 1024, pos: 0 });
    assert.deepEqual(s.objects, [
      { key: `${v.name}/${specKey(slice.id, 0, BLOCK)}`, size: BLOCK },
      { key: `${v.name}/${specKey(slice.id, 1, BLOCK)}`, size: BLOCK },
      { key: `${v.name}/${specKey(slice.id, 2, 22 * 1024)}`, size: 22 * 1024 },
    ]);
    assert.deepEqual(info.objects, { count: 3, bytes: 150 * 1024 });
    for (const o of s.objects) assert.equal(statSync(join(v.dir, 'objects', o.key)).size, o.size, `${o.key} is a file of its block length`);
  });

  it('looks an inode up by number and prints the same fields as text', async () => {
    const ino = v.files.get('/dir/b.txt');
    const r = await ferry(['info', ...v.args, '--inode', String(ino)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`inode: +${ino}`));
    assert.match(r.stdout, /type: +file/);
    assert.match(r.stdout, /size: +1000 /);
    assert.match(r.stdout, new RegExp(`${v.name}/chunks/0/0/\\d+_0_1000 1000`));
    assert.match(r.stdout, /paths: +\/dir\/b\.txt$/m);
  });

  it('summarizes a directory recursively', async () => {
    const info = json<InfoJson>(await ferry(['info', ...v.args, '/dir', '--recursive', '--json']));
    assert.equal(info.type, 'directory');
    assert.deepEqual(info.summary, { files: 2, dirs: 1, symlinks: 0, others: 0, bytes: 1000 + 70 * 1024 });
  });

  it('status takes the same volume options (--meta, --config) as the admin commands', async () => {
    const r = await ferry(['status', ...v.args, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const st = json<{ Setting: { Name: string }; Counters: { usedInodes: number } }>(r);
    assert.equal(st.Setting.Name, v.name);
    assert.equal(st.Counters.usedInodes, 5);
  });

  it('lists every parent and path of a hard-linked file looked up by inode (adds a link, so after the summary test)', async () => {
    const ino = v.files.get('/a.bin');
    assert.ok(ino !== undefined);
    const meta = new BaseMeta(await openEngine(v.metaUrl));
    let sub: Ino;
    try {
      await meta.load();
      const dir = (await meta.lookup(ROOT_CREDENTIALS, ROOT_INODE, Buffer.from('dir'))).ino;
      sub = (await meta.lookup(ROOT_CREDENTIALS, dir, Buffer.from('sub'))).ino;
      await meta.link(ROOT_CREDENTIALS, ino, sub, Buffer.from('again.bin'));
    } finally {
      await meta.close();
    }
    const info = json<InfoJson & { paths: string[] }>(await ferry(['info', ...v.args, '--inode', String(ino), '--json']));
    assert.equal(info.nlink, 2);
    assert.deepEqual(info.parents.map(BigInt), [1n, sub]);
    assert.deepEqual(info.paths, ['/a.bin', '/dir/sub/again.bin']);
  });

  it('exits 1 for a missing path and 2 without a path or inode', async () => {
    const missing = await ferry(['info', ...v.args, '/nope']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /ENOENT/);
    const usage = await ferry(['info', ...v.args]);
    assert.equal(usage.code, 2);
  });
});

describe('ferry fsck (redis + s3rver)', () => {
  let v: TestVolume;
  beforeEach(async () => {
    v = await makeVolume({ meta: 'redis', storage: 's3' });
    await populate(v);
  });
  afterEach(async () => v.close());

  it('passes a healthy volume with exit 0', async () => {
    const r = await ferry(['fsck', ...v.args, '--min-age', '0', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const rep = json<FsckJson>(r);
    assert.equal(rep.ok, true);
    assert.equal(rep.files, 3);
  });

  it('reports a deleted block with its file\'s path and a leaked object, and exits 1', async () => {
    const [slice] = await slicesOf(v, '/dir/sub/c.bin');
    assert.ok(slice !== undefined);
    const gone = specKey(slice.id, 1, 6 * 1024);
    await v.store.delete(gone);
    const leaked = specKey(999_999n, 0, 4);
    await v.store.put(leaked, Buffer.from('leak'));
    const r = await ferry(['fsck', ...v.args, '--min-age', '0', '--json']);
    assert.equal(r.code, 1, r.stderr);
    const rep = json<FsckJson>(r);
    assert.equal(rep.ok, false);
    assert.deepEqual(rep.missing.map((m) => m.key), [gone]);
    assert.deepEqual(rep.brokenFiles.map((f) => f.path), ['/dir/sub/c.bin']);
    assert.deepEqual(rep.leaked.keys, [leaked]);
    const text = await ferry(['fsck', ...v.args, '--min-age', '0']);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /\/dir\/sub\/c\.bin \(inode \d+, 1 bad objects\)/);
    assert.match(text.stdout, /PROBLEMS FOUND/);
  });

  it('lists hidden files of unfinished WebDAV PUTs unchanged for --min-age, without calling them problems', async () => {
    const vol = await openVolume(v.metaUrl, { session: false, compaction: false, releaseIntervalMs: 0 });
    try {
      const hour = Math.floor(Date.now() / 1000) - 2 * 3600;
      for (const [name, old] of [['.ferry-put-0123456789abcdef', true], ['.ferry-put-fedcba9876543210', false], ['.ferry-put-notmine', true]] as const) {
        const made = await vol.vfs.create(ROOT_CREDENTIALS, ROOT_INODE, Buffer.from(name), 0o644, 0);
        if (old) await vol.vfs.setattr(ROOT_CREDENTIALS, made.ino, { mtime: { sec: hour, nsec: 0 } });
      }
    } finally {
      await vol.close();
    }
    const r = await ferry(['fsck', ...v.args, '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const rep = json<FsckJson & { abandonedUploads: { path: string }[] }>(r);
    assert.equal(rep.ok, true);
    assert.deepEqual(rep.abandonedUploads.map((u) => u.path), ['/.ferry-put-0123456789abcdef'], 'not the recent one, not a name the PUT never makes');
    const text = await ferry(['fsck', ...v.args]);
    assert.match(text.stdout, /abandoned WebDAV uploads: 1 .*delete them/);
    assert.match(text.stdout, /^ {2}\/\.ferry-put-0123456789abcdef \(inode \d+, 0 bytes\)$/m);
  });

  it('does not call an object younger than --min-age leaked', async () => {
    await v.store.put(specKey(999_998n, 0, 4), Buffer.from('new!'));
    const rep = json<FsckJson>(await ferry(['fsck', ...v.args, '--json']));
    assert.equal(rep.ok, true);
    assert.equal(rep.leaked.count, 0);
    assert.equal(rep.young.count, 7, 'the new object and the six objects of the files just written are all young');
  });

  it('checks files in the trash too and names them by their /.trash path', async () => {
    const t = await makeVolume({ meta: 'redis', storage: 's3' }, 1);
    try {
      await populate(t);
      const [slice] = await slicesOf(t, '/dir/b.txt');
      assert.ok(slice !== undefined);
      const meta = new BaseMeta(await openEngine(t.metaUrl));
      try {
        await meta.load();
        const dir = (await meta.lookup(ROOT_CREDENTIALS, ROOT_INODE, Buffer.from('dir'))).ino;
        await meta.unlink(ROOT_CREDENTIALS, dir, Buffer.from('b.txt')); // trash on: moved to /.trash/<hour>/
      } finally {
        await meta.close();
      }
      await t.store.delete(specKey(slice.id, 0, 1000));
      const r = await ferry(['fsck', ...t.args, '--min-age', '0', '--json']);
      assert.equal(r.code, 1, r.stderr);
      const paths = json<FsckJson>(r).brokenFiles.map((f) => f.path);
      assert.equal(paths.length, 1);
      assert.match(paths[0] ?? '', /^\/\.trash\/\d{4}-\d{2}-\d{2}-\d{2}\/\d+-\d+-b\.txt$/);
    } finally {
      await t.close();
    }
  });

  it('--repair restores a deleted block from the local disk cache', async () => {
    const cache = tmpDir('ferry-cache-');
    const warm = await ferry(['warmup', ...v.args, '--cache-dir', cache, '/dir']);
    assert.equal(warm.code, 0, warm.stderr);
    const [slice] = await slicesOf(v, '/dir/b.txt');
    assert.ok(slice !== undefined);
    const key = specKey(slice.id, 0, 1000);
    await v.store.delete(key);
    const r = await ferry(['fsck', ...v.args, '--min-age', '0', '--repair', '--cache-dir', cache, '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(json<FsckJson>(r).repaired, [key]);
    assert.deepEqual(await v.store.get(key), content(1000, 2));
  });
});

describe('ferry gc (sqlite3 + s3rver)', () => {
  let v: TestVolume;
  beforeEach(async () => {
    v = await makeVolume({ meta: 'sqlite', storage: 's3' });
    await populate(v);
  });
  afterEach(async () => v.close());

  it('lists leaked objects in a dry run, and --delete removes exactly those', async () => {
    const referenced = await chunkKeys(v.store);
    assert.equal(referenced.length, 3 + 1 + 2);
    const leaks = [specKey(777_777n, 0, 3), specKey(777_778n, 2, 5)].sort();
    for (const k of leaks) await v.store.put(k, Buffer.alloc(Number(k.split('_')[2])));
    // an object of a referenced slice whose name does not fit the slice's size is a leak too
    const [slice] = await slicesOf(v, '/a.bin');
    assert.ok(slice !== undefined);
    const misfit = specKey(slice.id, 7, 10);
    await v.store.put(misfit, Buffer.alloc(10));
    const all = [...leaks, misfit].sort();

    const dry = await ferry(['gc', ...v.args, '--min-age', '0', '--json']);
    assert.equal(dry.code, 0, dry.stderr);
    const report = json<GcJson>(dry);
    assert.deepEqual([...report.leaked.keys].sort(), all);
    assert.equal(report.leaked.bytes, 3 + 5 + 10);
    assert.equal(report.valid.count, referenced.length);
    assert.equal(report.deleted, 0);
    assert.deepEqual(await chunkKeys(v.store), [...referenced, ...all].sort(), 'a dry run deletes nothing');

    const del = await ferry(['gc', ...v.args, '--min-age', '0', '--delete']);
    assert.equal(del.code, 0, del.stderr);
    assert.match(del.stdout, /deleted 3 leaked objects/);
    assert.deepEqual(await chunkKeys(v.store), referenced, 'only the leaked objects are gone');
  });

  it('keeps the objects of a file queued for deletion in a dry run; --delete finishes the deletion', async () => {
    const before = await chunkKeys(v.store);
    const [slice] = await slicesOf(v, '/a.bin');
    assert.ok(slice !== undefined);
    const meta = new BaseMeta(await openEngine(v.metaUrl));
    try {
      await meta.unlink(ROOT_CREDENTIALS, ROOT_INODE, Buffer.from('a.bin')); // no deleter here: stays queued in delfiles
    } finally {
      await meta.close();
    }
    const dry = json<GcJson>(await ferry(['gc', ...v.args, '--min-age', '0', '--json']));
    assert.equal(dry.leaked.count, 0, 'a queued file\'s blocks are not leaks');
    assert.equal(dry.valid.count, before.length);
    const r = await ferry(['gc', ...v.args, '--min-age', '0', '--delete', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(json<GcJson & { released?: { files: number; slices: number } }>(r).released, { files: 1, slices: 0 });
    const aKeys = before.filter((k) => k.split('/').pop()?.startsWith(`${slice.id}_`) === true);
    assert.equal(aKeys.length, 3);
    assert.deepEqual(await chunkKeys(v.store), before.filter((k) => !aKeys.includes(k)));
  });

  it('--compact rewrites a fragmented file as one slice with the same content', async () => {
    const vol = await openVolume(v.metaUrl, { session: false, compaction: false, releaseIntervalMs: 0 });
    const ino = v.files.get('/a.bin');
    assert.ok(ino !== undefined);
    const expected = Buffer.from(content(150 * 1024, 1));
    try {
      for (let i = 0; i < 6; i++) {
        const patch = Buffer.alloc(1000, 0x41 + i);
        const { handle } = await vol.vfs.open(ROOT_CREDENTIALS, ino, MODE_WRITE);
        await vol.vfs.write(ROOT_CREDENTIALS, handle, i * 20_000, patch);
        await vol.vfs.release(ROOT_CREDENTIALS, handle);
        patch.copy(expected, i * 20_000);
      }
    } finally {
      await vol.close();
    }
    assert.equal((await slicesOf(v, '/a.bin')).length, 7);
    const r = await ferry(['gc', ...v.args, '--compact', '--min-age', '0', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = json<GcJson>(r);
    assert.deepEqual(report.compacted, { files: 1, chunks: 1 });
    assert.equal(report.leaked.count, 0, 'replaced slices were deleted, not leaked');
    assert.equal((await slicesOf(v, '/a.bin')).length, 1);
    const check = await openVolume(v.metaUrl, { session: false, compaction: false, releaseIntervalMs: 0 });
    try {
      const { handle } = await check.vfs.open(ROOT_CREDENTIALS, ino, MODE_READ);
      assert.deepEqual(await check.vfs.read(ROOT_CREDENTIALS, handle, 0, 150 * 1024), expected);
      await check.vfs.release(ROOT_CREDENTIALS, handle);
    } finally {
      await check.close();
    }
  });
});

/** Files below `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name).slice(dir.length + 1)).sort();
}

describe('ferry warmup (redis + file store)', () => {
  let v: TestVolume;
  before(async () => {
    v = await makeVolume({ meta: 'redis', storage: 'file' });
    await populate(v);
  });
  after(async () => v.close());

  it('fills the cache dir with exactly the blocks of the files under the paths, then finds them cached', async () => {
    const cache = tmpDirOnOtherFs('ferry-cache-');
    const r = await ferry(['warmup', ...v.args, '--cache-dir', cache, '--json', '/dir', '/a.bin']);
    assert.equal(r.code, 0, r.stderr);
    const rep = json<{ files: number; blocks: number; bytes: number; cached: { count: number }; fetched: { count: number; bytes: number } }>(r);
    assert.deepEqual({ files: rep.files, blocks: rep.blocks, bytes: rep.bytes, cached: rep.cached.count, fetched: rep.fetched.count },
      { files: 3, blocks: 6, bytes: 150 * 1024 + 1000 + 70 * 1024, cached: 0, fetched: 6 });
    const expected = (await chunkKeys(v.store)).map((k) => join(v.setting.UUID, 'raw', k)).sort();
    assert.deepEqual(filesUnder(cache), expected);

    const again = json<{ cached: { count: number }; fetched: { count: number } }>(await ferry(['warmup', ...v.args, '--cache-dir', cache, '--json', '/']));
    assert.deepEqual({ cached: again.cached.count, fetched: again.fetched.count }, { cached: 6, fetched: 0 });
  });

  it('warms only the given subtree', async () => {
    const cache = tmpDirOnOtherFs('ferry-cache-');
    const r = await ferry(['warmup', ...v.args, '--cache-dir', cache, '/dir/sub']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /files: +1/);
    assert.match(r.stdout, /fetched: +2 /);
    assert.equal(filesUnder(cache).length, 2);
  });

  it('fetches nothing when the file store is on the cache dir\'s file system (no disk cache is kept there)', async () => {
    const cache = tmpDir('ferry-cache-');
    const r = await ferry(['warmup', ...v.args, '--cache-dir', cache, '--json', '/']);
    assert.equal(r.code, 0, r.stderr);
    const rep = json<{ warmed: boolean; reason: string }>(r);
    assert.equal(rep.warmed, false);
    assert.match(rep.reason, /file system/);
    assert.deepEqual(filesUnder(cache).filter((f) => f.includes('/raw/')), []);
  });
});

describe('ferry bench (sqlite3 + file store)', () => {
  let v: TestVolume;
  before(async () => {
    v = await makeVolume({ meta: 'sqlite', storage: 'file', }, 1);
  });
  after(async () => v.close());

  it('runs a tiny benchmark, prints valid JSON and leaves no file, trash entry or object behind', async () => {
    const r = await ferry(['bench', ...v.args, '--big-file-size', '1', '--block-size', '64', '--small-files', '3', '--small-file-size', '4', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rep = json<{ params: { bigFileBytes: number; smallFiles: number }; bigFile: { write: { bytesPerSec: number }; read: { bytesPerSec: number } };
      smallFiles: { write: { filesPerSec: number }; read: { filesPerSec: number }; stat: { filesPerSec: number } } }>(r);
    assert.equal(rep.params.bigFileBytes, 2 ** 20);
    for (const x of [rep.bigFile.write.bytesPerSec, rep.bigFile.read.bytesPerSec, rep.smallFiles.write.filesPerSec, rep.smallFiles.read.filesPerSec, rep.smallFiles.stat.filesPerSec]) {
      assert.ok(Number.isFinite(x) && x > 0, `positive rate ${x}`);
    }
    const meta = new BaseMeta(await openEngine(v.metaUrl), { readOnly: true });
    try {
      const names: string[] = [];
      for await (const e of meta.readdir(ROOT_CREDENTIALS, ROOT_INODE, { after: 2n })) names.push(e.name.toString());
      assert.deepEqual(names, [], 'the temporary directory is gone');
      assert.equal((await meta.counters()).usedInodes, 0, 'nothing went to the trash');
    } finally {
      await meta.close();
    }
    assert.deepEqual(await chunkKeys(v.store), [], 'the bench files\' objects are deleted');
  });

  it('prints a throughput table with progress lines on stderr when not on a terminal', async () => {
    const r = await ferry(['bench', ...v.args, '--big-file-size', '0', '--small-files', '2', '--small-file-size', '1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ITEM +VALUE +COST$/m);
    assert.match(r.stdout, /^Write small file +[\d.]+ files\/s +[\d.]+ ms\/file$/m);
    assert.match(r.stderr, /^bench: writing small files: 2\/2 \(100%\), 2\.0 KiB done$/m);
    assert.doesNotMatch(r.stderr, /\r/);
  });
});

describe('admin command exit codes', () => {
  it('3 when the metadata engine is unreachable or the volume is not formatted, 2 for a bad config', async () => {
    const dir = tmpDir('ferry-exit-');
    const down = await ferry(['fsck', '--meta', 'redis://127.0.0.1:1/1']);
    assert.equal(down.code, 3, down.stderr);
    for (const args of [['gc', '--meta'], ['status', '--meta'], ['webdav-locks', '--meta'], ['dump']]) {
      const db = join(dir, `${args[0] ?? ''}.db`);
      const empty = await ferry([...args, `sqlite3://${db}`]);
      assert.equal(empty.code, 3, empty.stderr);
      assert.match(empty.stderr, /not formatted/);
      assert.equal(existsSync(db), false, `${args[0] ?? ''} creates no database behind a wrong path`);
    }
    const bad = await ferry(['gc', '--config', join(dir, 'missing.yaml')]);
    assert.equal(bad.code, 2, bad.stderr);
    const flag = await ferry(['gc', '--threads', 'many']);
    assert.equal(flag.code, 2, flag.stderr);
  });
});
