/**
 * The metadata conformance suite (STYLE.md §5): one describe, one `it` per behaviour, a fresh,
 * formatted, empty volume in beforeEach (BaseMeta over the engine under test). Every engine
 * (memory, redis, sqlite) runs it unchanged. Tests go through the Meta API, and through MetaEngine
 * only where Meta exposes nothing (setting a session's expiry, resetting the volume).
 */
import assert from 'node:assert/strict';
import { Errno } from '../../../src/util/errno.js';
import { BaseMeta, type BaseMetaOptions } from '../../../src/meta/base.js';
import { type MetaEngine, RENAME_EXCHANGE, RENAME_NOREPLACE } from '../../../src/meta/engine.js';
import { resolveChunk } from '../../../src/meta/slices.js';
import {
  type Attr, CHUNK_SIZE, type Credentials, type DirEntry, FLAG_IMMUTABLE, FLAG_SKIP_TRASH, FileType, type Format, type Ino, MODE_EXEC, MODE_READ, MODE_WRITE,
  ROOT_INODE, type SliceId, TRASH_INODE, align4K, isTrashIno, toChunkIndex, toIno, toSliceId,
} from '../../../src/meta/types.js';
import { ALICE, BOB, ROOT, cmpTime, collect, n, names, rejects, ts, volume, write } from './helpers.js';
import { modelBasedTest } from './model.js';

/**
 * What a backend's test file hands the suite: an engine over an empty, private namespace (its own
 * Redis db, its own SQLite file) and a cleanup that closes the engine and drops that namespace.
 * Counters and dir stats must include every committed change when read (engines that buffer
 * deltas flush them before answering getCounters/doGetDirStats), and every directory, the root
 * included, has dir stats. Engines honour `skipDirMtimeMs` (the suite uses 0: every change
 * touches the parent's mtime).
 */
export interface EngineUnderTest {
  /** A connected engine; the suite formats it (and may doReset/format it again) itself. */
  engine: MetaEngine;
  /** Closes the engine and removes its namespace; called once after each test. */
  cleanup(): Promise<void>;
}

/** `engine` with one method replaced; `this` stays the real engine (private fields keep working). */
function interpose<K extends keyof MetaEngine>(engine: MetaEngine, method: K, replacement: MetaEngine[K]): MetaEngine {
  return new Proxy(engine, {
    get(target, prop) {
      if (prop === method) return replacement;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

const C0 = toChunkIndex(0);
const HOUR_NAME = /^\d{4}-\d{2}-\d{2}-\d{2}$/;

export function metaConformance(name: string, makeEngine: () => Promise<EngineUnderTest>): void {
  describe(`meta conformance: ${name}`, function () {
    let engine: MetaEngine;
    let cleanup: () => Promise<void>;
    let meta: BaseMeta;
    let opened: BaseMeta[] = [];

    /** A BaseMeta over the engine under test, closed after the test. */
    const newMeta = (opts: BaseMetaOptions = {}): BaseMeta => {
      const m = new BaseMeta(engine, { skipDirMtimeMs: 0, inodeBatch: 16, sliceBatch: 16, ...opts });
      opened.push(m);
      return m;
    };

    /** Wipes the volume and formats it again with `over`, with a new session. */
    const reformat = async (over: Partial<Format>): Promise<void> => {
      await meta.closeSession();
      await engine.doReset();
      meta = newMeta();
      await meta.format(volume(over));
      await meta.newSession({ MountPoint: 'conformance' }, 600);
    };

    beforeEach(async function () {
      ({ engine, cleanup } = await makeEngine());
      opened = [];
      meta = newMeta();
      await meta.format(volume());
      await meta.newSession({ MountPoint: 'conformance' }, 600);
    });

    afterEach(async function () {
      for (const m of opened) {
        await m.closeSession();
        await m.flushBackground();
      }
      await cleanup();
    });

    const file = async (parent: Ino, nm: string, ctx: Credentials = ROOT, mode = 0o644): Promise<{ ino: Ino; attr: Attr }> => {
      const r = await meta.create(ctx, parent, n(nm), mode, 0, true);
      return { ino: r.ino, attr: r.attr };
    };
    const dir = async (parent: Ino, nm: string, ctx: Credentials = ROOT, mode = 0o755): Promise<{ ino: Ino; attr: Attr }> =>
      meta.mkdir(ctx, parent, n(nm), mode, 0);
    /** Every entry of every hourly trash directory (deletions may straddle an hour boundary). */
    const trashed = async (): Promise<{ hour: DirEntry; name: string; ino: Ino }[]> => {
      const out: { hour: DirEntry; name: string; ino: Ino }[] = [];
      for (const hour of (await collect(meta.readdir(ROOT, TRASH_INODE))).filter((e) => e.cookie > 2n)) {
        for (const e of (await collect(meta.readdir(ROOT, hour.ino))).filter((x) => x.cookie > 2n)) out.push({ hour, name: e.name.toString(), ino: e.ino });
      }
      return out.sort((a, b) => (a.name < b.name ? -1 : 1));
    };

    // ------------------------------------------------------------ format, load, setting

    it('format creates the root directory: inode 1, mode 0777, root-owned, nlink 2, length 4096', async function () {
      const a = await meta.getattr(ROOT_INODE);
      assert.equal(a.type, FileType.Directory);
      assert.equal(a.mode, 0o777);
      assert.equal(a.uid, 0);
      assert.equal(a.gid, 0);
      assert.equal(a.nlink, 2);
      assert.equal(a.length, 4096);
      assert.deepEqual(await names(meta, ROOT_INODE), []);
      assert.equal(meta.setting.Name, 'conformance');
      assert.match(meta.setting.UUID, /^[0-9a-f-]{36}$/);
    });

    it('format validates the name, block size and trash days (EINVAL)', async function () {
      await engine.doReset();
      const fresh = newMeta();
      await rejects(fresh.format(volume({ Name: 'Bad_Name' })), Errno.EINVAL);
      await rejects(fresh.format(volume({ BlockSize: 32 })), Errno.EINVAL);
      await rejects(fresh.format(volume({ TrashDays: -1 })), Errno.EINVAL);
      await rejects(fresh.format(volume({ MetaVersion: 2 })), Errno.EINVAL);
      assert.equal(await engine.getSetting(), null);
    });

    it('format of an existing volume with the same setting keeps it (same UUID)', async function () {
      const first = meta.setting;
      const again = await newMeta().format(volume());
      assert.equal(again.UUID, first.UUID);
      assert.deepEqual(await names(meta, ROOT_INODE), []);
    });

    it('format refuses to change immutable fields of an existing volume with EEXIST', async function () {
      const other = newMeta();
      for (const over of [{ Name: 'other' }, { BlockSize: 1024 }, { Compression: 'lz4' }, { Shards: 4 }, { HashPrefix: true },
        { UUID: '00000000-0000-4000-8000-000000000000' }] as Partial<Format>[]) {
        await rejects(other.format(volume(over)), Errno.EEXIST);
        await rejects(other.format(volume(over), { force: true }), Errno.EEXIST);
      }
    });

    it('format with force changes mutable fields and keeps the UUID', async function () {
      const uuid = meta.setting.UUID;
      const f = await newMeta().format(volume({ Capacity: 1 << 30, Inodes: 1000 }), { force: true });
      assert.equal(f.UUID, uuid);
      const loaded = await newMeta().load();
      assert.equal(loaded.Capacity, 1 << 30);
      assert.equal(loaded.Inodes, 1000);
      assert.equal(loaded.UUID, uuid);
    });

    it('the stored setting is JuiceFS JSON: one field per line in struct order, no indentation', async function () {
      const json = await engine.getSetting();
      assert.ok(json !== null);
      assert.ok(json.startsWith('{\n"Name": "conformance",\n"UUID": "'), json);
      assert.ok(json.includes('\n"TrashDays": 0,\n'), json);
      assert.ok(json.endsWith('\n"EnableACL": false\n}'), json);
      assert.ok(json.indexOf('"Bucket"') < json.indexOf('"BlockSize"'));
    });

    it('load returns the stored setting', async function () {
      const f = await newMeta().load();
      assert.equal(f.Name, 'conformance');
      assert.equal(f.UUID, meta.setting.UUID);
      assert.equal(f.BlockSize, 4096);
      assert.equal(f.TrashDays, 0);
    });

    it('load of an unformatted volume fails with ENOENT', async function () {
      await meta.closeSession();
      await engine.doReset();
      await rejects(newMeta().load(), Errno.ENOENT);
    });

    it('load refuses MetaVersion > 1 with EINVAL', async function () {
      const json = await engine.getSetting();
      assert.ok(json !== null);
      const v2 = JSON.stringify({ ...JSON.parse(json) as object, MetaVersion: 2 });
      await engine.doFormat(v2, null, null);
      await rejects(newMeta().load(), Errno.EINVAL);
    });

    // ------------------------------------------------------------ sessions

    it('newSession registers a session with its info; closeSession removes it', async function () {
      assert.ok(meta.sid > 0);
      const m2 = newMeta();
      await m2.load();
      const sid2 = await m2.newSession({ MountPoint: 'webdav', HostName: 'node2' }, 600);
      assert.ok(sid2 > 0 && sid2 !== meta.sid);
      const list = await meta.sessions();
      const mine = list.find((s) => s.sid === sid2);
      assert.ok(mine !== undefined);
      assert.equal(mine.info?.MountPoint, 'webdav');
      assert.equal(mine.info?.HostName, 'node2');
      assert.ok(mine.expire >= Math.floor(Date.now() / 1000) + 5 * 600 - 2);
      await m2.closeSession();
      assert.equal(m2.sid, 0);
      assert.ok(!(await meta.sessions()).some((s) => s.sid === sid2));
    });

    it('heartbeat refreshes the session expiry and reloads the setting', async function () {
      const info = (await meta.sessions()).find((s) => s.sid === meta.sid)?.info;
      assert.ok(info !== undefined && info !== null);
      await engine.doRefreshSession(meta.sid, info, 1000);
      await newMeta().format(volume({ Capacity: 123 << 20 }), { force: true });
      await meta.heartbeat();
      const s = (await meta.sessions()).find((x) => x.sid === meta.sid);
      assert.ok(s !== undefined && s.expire >= Math.floor(Date.now() / 1000) + 5 * 600 - 2);
      assert.equal(meta.setting.Capacity, 123 << 20);
    });

    it('heartbeat cleans up a stale session: its sustained inodes are deleted and it disappears', async function () {
      const other = newMeta();
      await other.load();
      const sid = await other.newSession({ MountPoint: 'stale' }, 600);
      const f = await file(ROOT_INODE, 'held');
      await write(other, f.ino, 0, 10_000);
      await other.open(ROOT, f.ino, MODE_READ);
      await other.unlink(ROOT, ROOT_INODE, n('held'));
      assert.deepEqual((await meta.sessions()).find((s) => s.sid === sid)?.sustained, [f.ino]);
      const before = await meta.counters();
      const info = (await meta.sessions()).find((s) => s.sid === sid)?.info;
      assert.ok(info !== undefined && info !== null);
      await engine.doRefreshSession(sid, info, Math.floor(Date.now() / 1000) - 10);
      await meta.heartbeat();
      assert.ok(!(await meta.sessions()).some((s) => s.sid === sid));
      await rejects(meta.getattr(f.ino), Errno.ENOENT);
      assert.ok((await meta.delFiles()).some((d) => d.ino === f.ino && d.length === 10_000));
      const after = await meta.counters();
      assert.equal(after.usedInodes, before.usedInodes - 1);
      assert.equal(after.usedSpace, before.usedSpace - align4K(10_000));
    });

    it('closeSession deletes the inodes this session kept alive', async function () {
      const f = await file(ROOT_INODE, 'x');
      await meta.open(ROOT, f.ino, MODE_READ);
      await meta.unlink(ROOT, ROOT_INODE, n('x'));
      assert.equal((await meta.getattr(f.ino)).nlink, 0);
      await meta.closeSession();
      await rejects(meta.getattr(f.ino), Errno.ENOENT);
      assert.ok((await meta.delFiles()).some((d) => d.ino === f.ino));
    });

    it('a read-only client registers no session', async function () {
      const ro = newMeta({ readOnly: true });
      await ro.load();
      assert.equal(await ro.newSession({}, 600), 0);
      assert.equal(ro.sid, 0);
      assert.equal((await meta.sessions()).length, 1);
    });

    // ------------------------------------------------------------ statfs

    it('statfs: unlimited volume reports a large total, used = usedSpace, inodes from counters', async function () {
      await dir(ROOT_INODE, 'd');
      const f = await file(ROOT_INODE, 'f');
      await write(meta, f.ino, 0, 5000);
      const s = await meta.statfs(ROOT, ROOT_INODE);
      assert.ok(s.totalBytes >= 2 ** 50);
      assert.equal(s.usedBytes, 4096 + 8192);
      assert.equal(s.availBytes, s.totalBytes - s.usedBytes);
      assert.equal(s.usedInodes, 2);
      assert.ok(s.availInodes > 0);
      assert.equal(s.totalInodes, s.usedInodes + s.availInodes);
    });

    it('statfs honours Capacity and Inodes quotas of the setting', async function () {
      await meta.format(volume({ Capacity: 1 << 30, Inodes: 100 }), { force: true });
      await file(ROOT_INODE, 'f');
      const s = await meta.statfs(ROOT, ROOT_INODE);
      assert.equal(s.totalBytes, 1 << 30);
      assert.equal(s.usedBytes, 4096);
      assert.equal(s.availBytes, (1 << 30) - 4096);
      assert.equal(s.totalInodes, 100);
      assert.equal(s.usedInodes, 1);
      assert.equal(s.availInodes, 99);
    });

    it('volume quotas: creates beyond Inodes and growth beyond Capacity fail with ENOSPC', async function () {
      await meta.format(volume({ Capacity: 4 * 4096, Inodes: 3 }), { force: true });
      const f = await file(ROOT_INODE, 'f');
      await dir(ROOT_INODE, 'd');
      await meta.symlink(ROOT, ROOT_INODE, n('s'), n('f'));
      await rejects(file(ROOT_INODE, 'g'), Errno.ENOSPC);
      await write(meta, f.ino, 0, 8192);
      await rejects(write(meta, f.ino, 8192, 1), Errno.ENOSPC);
      await write(meta, f.ino, 0, 100);
      await rejects(meta.setattr(ROOT, f.ino, { size: 3 * 4096 }), Errno.ENOSPC);
      await meta.setattr(ROOT, f.ino, { size: 10 });
      assert.equal((await meta.counters()).usedSpace, 3 * 4096);
      await meta.unlink(ROOT, ROOT_INODE, n('s'));
      await file(ROOT_INODE, 'g');
    });

    // ------------------------------------------------------------ lookup, getattr, access

    it('lookup resolves . and .. (.. of the root is the root)', async function () {
      const d = await dir(ROOT_INODE, 'd');
      const sub = await dir(d.ino, 'sub');
      assert.equal((await meta.lookup(ROOT, ROOT_INODE, n('.'))).ino, ROOT_INODE);
      assert.equal((await meta.lookup(ROOT, ROOT_INODE, n('..'))).ino, ROOT_INODE);
      assert.equal((await meta.lookup(ROOT, d.ino, n('.'))).ino, d.ino);
      assert.equal((await meta.lookup(ROOT, sub.ino, n('..'))).ino, d.ino);
      assert.equal((await meta.lookup(ROOT, d.ino, n('sub'))).ino, sub.ino);
      assert.deepEqual((await meta.lookup(ALICE, d.ino, n('..'))).attr, await meta.getattr(ROOT_INODE));
    });

    it('lookup errors: ENOENT, ENOTDIR, ENAMETOOLONG, EINVAL for / and NUL, ENOENT for an empty name', async function () {
      const f = await file(ROOT_INODE, 'f');
      await rejects(meta.lookup(ROOT, ROOT_INODE, n('missing')), Errno.ENOENT);
      await rejects(meta.lookup(ROOT, f.ino, n('x')), Errno.ENOTDIR);
      await rejects(meta.lookup(ALICE, f.ino, n('x')), Errno.ENOTDIR);
      await rejects(meta.lookup(ROOT, ROOT_INODE, Buffer.alloc(256, 0x61)), Errno.ENAMETOOLONG);
      await rejects(meta.lookup(ROOT, ROOT_INODE, n('a/b')), Errno.EINVAL);
      await rejects(meta.lookup(ROOT, ROOT_INODE, Buffer.from([0x61, 0])), Errno.EINVAL);
      await rejects(meta.lookup(ROOT, ROOT_INODE, Buffer.alloc(0)), Errno.ENOENT);
      await rejects(meta.lookup(ROOT, toIno(999_999), n('x')), Errno.ENOENT);
    });

    it('lookup needs search (x) permission on the directory', async function () {
      const d = await dir(ROOT_INODE, 'private', ALICE, 0o700);
      await file(d.ino, 'f', ALICE);
      assert.ok((await meta.lookup(ALICE, d.ino, n('f'))).ino > 0n);
      await rejects(meta.lookup(BOB, d.ino, n('f')), Errno.EACCES);
      assert.ok((await meta.lookup(ROOT, d.ino, n('f'))).ino > 0n);
    });

    it('lookup without search permission is EACCES whether or not the name exists', async function () {
      const d = await dir(ROOT_INODE, 'private', ALICE, 0o700);
      await rejects(meta.lookup(BOB, d.ino, n('missing')), Errno.EACCES);
      await rejects(meta.lookup(ALICE, d.ino, n('missing')), Errno.ENOENT);
    });

    it('names are raw bytes: non-UTF-8 and 255-byte names round-trip', async function () {
      const latin1 = Buffer.from([0x63, 0x61, 0x66, 0xe9]);
      const long = Buffer.alloc(255, 0x7a);
      const a = await meta.create(ROOT, ROOT_INODE, latin1, 0o644, 0, true);
      const b = await meta.create(ROOT, ROOT_INODE, long, 0o644, 0, true);
      assert.equal((await meta.lookup(ROOT, ROOT_INODE, latin1)).ino, a.ino);
      assert.equal((await meta.lookup(ROOT, ROOT_INODE, long)).ino, b.ino);
      const listed = (await collect(meta.readdir(ROOT, ROOT_INODE))).map((e) => e.name.toString('hex'));
      assert.ok(listed.includes(latin1.toString('hex')));
      assert.ok(listed.includes(long.toString('hex')));
    });

    it('getattr of a missing inode fails with ENOENT', async function () {
      await rejects(meta.getattr(toIno(424242)), Errno.ENOENT);
    });

    it('access: owner, group (incl. supplementary gids) and other classes; root bypasses rwx', async function () {
      const f = await file(ROOT_INODE, 'f', ALICE, 0o640);
      await meta.setattr(ROOT, f.ino, { gid: 2000 });
      await meta.access(ALICE, f.ino, MODE_READ | MODE_WRITE);
      await rejects(meta.access(ALICE, f.ino, MODE_EXEC), Errno.EACCES);
      await meta.access({ uid: 1001, gid: 1001, gids: [2000] }, f.ino, MODE_READ);
      await meta.access({ uid: 1001, gid: 2000, gids: [] }, f.ino, MODE_READ);
      await rejects(meta.access({ uid: 1001, gid: 1001, gids: [2000] }, f.ino, MODE_WRITE), Errno.EACCES);
      await rejects(meta.access(BOB, f.ino, MODE_READ), Errno.EACCES);
      await meta.access(ROOT, f.ino, MODE_READ | MODE_WRITE);
      await rejects(meta.access(ROOT, f.ino, MODE_EXEC), Errno.EACCES);
      await meta.setattr(ALICE, f.ino, { mode: 0o641 });
      await meta.access(ROOT, f.ino, MODE_EXEC);
      await meta.access(ROOT, ROOT_INODE, MODE_EXEC | MODE_WRITE | MODE_READ);
    });

    // ------------------------------------------------------------ create, mknod, mkdir, symlink

    it('create makes a regular file: mode & ~umask, caller uid/gid, nlink 1, length 0, parent set', async function () {
      const r = await meta.create(ALICE, ROOT_INODE, n('f'), 0o666, 0o022, true);
      assert.ok(r.created);
      assert.equal(r.attr.type, FileType.File);
      assert.equal(r.attr.mode, 0o644);
      assert.equal(r.attr.uid, ALICE.uid);
      assert.equal(r.attr.gid, ALICE.gid);
      assert.equal(r.attr.nlink, 1);
      assert.equal(r.attr.length, 0);
      assert.equal(r.attr.parent, ROOT_INODE);
      assert.deepEqual(await meta.getattr(r.ino), r.attr);
      assert.equal((await meta.lookup(ROOT, ROOT_INODE, n('f'))).ino, r.ino);
      assert.deepEqual(await names(meta, ROOT_INODE), ['f']);
    });

    it('create with deferred durability is visible at once, keeps its errors, and durable() then settles', async function () {
      const deferred = { deferDurability: true } as const;
      const r = await meta.create(ALICE, ROOT_INODE, n('f'), 0o666, 0o022, true, deferred);
      assert.ok(r.created);
      assert.deepEqual(await meta.getattr(r.ino), r.attr);
      assert.equal((await meta.lookup(ROOT, ROOT_INODE, n('f'))).ino, r.ino);
      await rejects(meta.create(ROOT, ROOT_INODE, n('f'), 0o644, 0, true, deferred), Errno.EEXIST);
      const again = await meta.create(ROOT, ROOT_INODE, n('f'), 0o644, 0, false, deferred);
      assert.deepEqual([again.created, again.ino], [false, r.ino]);
      const many = await Promise.all(['a', 'b', 'c'].map((x) => meta.create(ROOT, ROOT_INODE, n(x), 0o644, 0, true, deferred)));
      await meta.durable();
      await meta.durable();
      assert.deepEqual(await names(meta, ROOT_INODE), ['a', 'b', 'c', 'f']);
      assert.equal(new Set(many.map((m) => m.ino)).size, 3);
    });

    it('create: exclusive on an existing name is EEXIST; non-exclusive returns the existing file', async function () {
      const first = await file(ROOT_INODE, 'f');
      await rejects(meta.create(ROOT, ROOT_INODE, n('f'), 0o644, 0, true), Errno.EEXIST);
      const again = await meta.create(ROOT, ROOT_INODE, n('f'), 0o600, 0, false);
      assert.equal(again.created, false);
      assert.equal(again.ino, first.ino);
      assert.equal(again.attr.mode, 0o644);
      await dir(ROOT_INODE, 'd');
      await rejects(meta.create(ROOT, ROOT_INODE, n('d'), 0o644, 0, false), Errno.EISDIR);
      await rejects(meta.create(BOB, ROOT_INODE, n('f'), 0o644, 0, false), Errno.EACCES);
    });

    it('create non-exclusive opens an existing writable file in a directory the caller may not add to', async function () {
      const ro = await dir(ROOT_INODE, 'ro', ROOT, 0o755);
      const f = await file(ro.ino, 'f', ROOT, 0o666);
      const again = await meta.create(ALICE, ro.ino, n('f'), 0o644, 0, false);
      assert.deepEqual([again.created, again.ino], [false, f.ino]);
      await rejects(meta.create(ALICE, ro.ino, n('g'), 0o644, 0, false), Errno.EACCES);
      assert.deepEqual(await names(meta, ro.ino), ['f']);
    });

    it('create errors: ENOENT parent, ENOTDIR parent, EACCES without write on parent, EEXIST for . and ..', async function () {
      const f = await file(ROOT_INODE, 'f');
      const ro = await dir(ROOT_INODE, 'ro', ALICE, 0o555);
      await rejects(meta.create(ROOT, toIno(999_999), n('x'), 0o644, 0, true), Errno.ENOENT);
      await rejects(meta.create(ROOT, f.ino, n('x'), 0o644, 0, true), Errno.ENOTDIR);
      await rejects(meta.create(ALICE, ro.ino, n('x'), 0o644, 0, true), Errno.EACCES);
      await rejects(meta.create(ROOT, ROOT_INODE, n('.'), 0o644, 0, true), Errno.EEXIST);
      await rejects(meta.mkdir(ROOT, ROOT_INODE, n('..'), 0o755, 0), Errno.EEXIST);
      await rejects(meta.create(ROOT, ROOT_INODE, Buffer.alloc(256, 0x61), 0o644, 0, true), Errno.ENAMETOOLONG);
      assert.ok((await meta.create(ROOT, ro.ino, n('x'), 0o644, 0, true)).created);
    });

    it('create with the parent\'s attributes from the caller checks permissions on those: ENOTDIR, EACCES, or the file with the setgid group', async function () {
      const d = await dir(ROOT_INODE, 'd', ALICE, 0o2775);
      const f = await file(ROOT_INODE, 'f');
      for (const exclusive of [true, false]) {
        await rejects(meta.create(ALICE, d.ino, n('x'), 0o644, 0, exclusive, { parentAttr: f.attr }), Errno.ENOTDIR);
        await rejects(meta.create(ALICE, d.ino, n('x'), 0o644, 0, exclusive, { parentAttr: { ...d.attr, mode: 0o40555 } }), Errno.EACCES);
      }
      assert.deepEqual(await names(meta, d.ino), []);
      const made = await meta.create(ALICE, d.ino, n('x'), 0o644, 0, true, { parentAttr: d.attr });
      assert.ok(made.created);
      assert.equal(made.attr.gid, d.attr.gid);
      const again = await meta.create(ALICE, d.ino, n('x'), 0o644, 0, false, { parentAttr: d.attr });
      assert.deepEqual([again.created, again.ino], [false, made.ino]);
    });

    it('the name .trash in the root is reserved: creating it fails with EPERM', async function () {
      await rejects(meta.create(ROOT, ROOT_INODE, n('.trash'), 0o644, 0, true), Errno.EPERM);
      await rejects(meta.mkdir(ROOT, ROOT_INODE, n('.trash'), 0o755, 0), Errno.EPERM);
      const d = await dir(ROOT_INODE, 'd');
      assert.ok((await meta.mkdir(ROOT, d.ino, n('.trash'), 0o755, 0)).ino > 0n);
    });

    it('mknod creates fifos, sockets, devices and files; rejects dirs/symlinks (EINVAL) and devices by non-root (EPERM)', async function () {
      const fifo = await meta.mknod(ROOT, ROOT_INODE, n('fifo'), FileType.Fifo, 0o644, 0);
      const sock = await meta.mknod(ROOT, ROOT_INODE, n('sock'), FileType.Socket, 0o644, 0);
      const chr = await meta.mknod(ROOT, ROOT_INODE, n('chr'), FileType.CharDev, 0o600, 0, (1 << 8) | 3);
      const blk = await meta.mknod(ROOT, ROOT_INODE, n('blk'), FileType.BlockDev, 0o600, 0, (8 << 8) | 1);
      const reg = await meta.mknod(ROOT, ROOT_INODE, n('reg'), FileType.File, 0o644, 0);
      assert.equal((await meta.getattr(fifo.ino)).type, FileType.Fifo);
      assert.equal((await meta.getattr(sock.ino)).type, FileType.Socket);
      assert.equal((await meta.getattr(chr.ino)).rdev, (1 << 8) | 3);
      assert.equal((await meta.getattr(blk.ino)).type, FileType.BlockDev);
      assert.equal((await meta.getattr(reg.ino)).type, FileType.File);
      const listed = (await collect(meta.readdir(ROOT, ROOT_INODE))).filter((e) => e.cookie > 2n);
      assert.deepEqual(listed.map((e) => [e.name.toString(), e.type]).sort(),
        [['blk', FileType.BlockDev], ['chr', FileType.CharDev], ['fifo', FileType.Fifo], ['reg', FileType.File], ['sock', FileType.Socket]]);
      await rejects(meta.mknod(ROOT, ROOT_INODE, n('d'), FileType.Directory, 0o755, 0), Errno.EINVAL);
      await rejects(meta.mknod(ROOT, ROOT_INODE, n('s'), FileType.Symlink, 0o777, 0), Errno.EINVAL);
      await rejects(meta.mknod(ALICE, ROOT_INODE, n('dev'), FileType.CharDev, 0o600, 0, 1), Errno.EPERM);
      await rejects(meta.mknod(ROOT, ROOT_INODE, n('fifo'), FileType.Fifo, 0o644, 0), Errno.EEXIST);
    });

    it('mkdir: nlink 2, length 4096, parent nlink + 1 and parent mtime/ctime updated', async function () {
      const before = await meta.getattr(ROOT_INODE);
      const d = await dir(ROOT_INODE, 'd', ALICE, 0o750);
      assert.equal(d.attr.type, FileType.Directory);
      assert.equal(d.attr.mode, 0o750);
      assert.equal(d.attr.nlink, 2);
      assert.equal(d.attr.length, 4096);
      assert.equal(d.attr.parent, ROOT_INODE);
      const after = await meta.getattr(ROOT_INODE);
      assert.equal(after.nlink, before.nlink + 1);
      assert.equal(cmpTime(ts(after, 'mtime'), ts(before, 'mtime')), 1);
      assert.equal(cmpTime(ts(after, 'ctime'), ts(before, 'ctime')), 1);
      await rejects(dir(ROOT_INODE, 'd'), Errno.EEXIST);
      await file(d.ino, 'f', ALICE);
      assert.equal((await meta.getattr(d.ino)).nlink, 2);
      await dir(d.ino, 'sub', ALICE);
      assert.equal((await meta.getattr(d.ino)).nlink, 3);
    });

    it('setgid directories: new entries take the directory gid; new sub-directories inherit setgid', async function () {
      const d = await dir(ROOT_INODE, 'shared', ROOT, 0o2777);
      await meta.setattr(ROOT, d.ino, { gid: 3000 });
      assert.equal((await meta.getattr(d.ino)).mode & 0o2000, 0o2000);
      const f = await file(d.ino, 'f', ALICE);
      assert.equal(f.attr.gid, 3000);
      assert.equal(f.attr.mode & 0o2000, 0);
      const sub = await dir(d.ino, 'sub', ALICE, 0o755);
      assert.equal(sub.attr.gid, 3000);
      assert.equal(sub.attr.mode, 0o2755);
      const plain = await file(ROOT_INODE, 'plain', ALICE);
      assert.equal(plain.attr.gid, ALICE.gid);
    });

    it('symlink stores its target: readlink round-trips, length = target bytes, mode 0777', async function () {
      const target = n('../some/where/ü');
      const s = await meta.symlink(ALICE, ROOT_INODE, n('link'), target);
      assert.equal(s.attr.type, FileType.Symlink);
      assert.equal(s.attr.length, target.length);
      assert.equal(s.attr.mode, 0o777);
      assert.deepEqual(await meta.readlink(s.ino), target);
      const f = await file(ROOT_INODE, 'f');
      await rejects(meta.readlink(f.ino), Errno.EINVAL);
      await rejects(meta.symlink(ROOT, ROOT_INODE, n('empty'), Buffer.alloc(0)), Errno.ENOENT);
      await rejects(meta.symlink(ROOT, ROOT_INODE, n('long'), Buffer.alloc(4097, 0x61)), Errno.ENAMETOOLONG);
      await rejects(meta.symlink(ROOT, ROOT_INODE, n('link'), target), Errno.EEXIST);
      const long = Buffer.alloc(4096, 0x62);
      assert.deepEqual(await meta.readlink((await meta.symlink(ROOT, ROOT_INODE, n('max'), long)).ino), long);
    });

    // ------------------------------------------------------------ link, unlink, rmdir

    it('link adds a name: nlink grows, both names resolve, Attr.parent becomes 0; unlink of one keeps the other', async function () {
      const d = await dir(ROOT_INODE, 'd');
      const f = await file(ROOT_INODE, 'f');
      const a = await meta.link(ROOT, f.ino, d.ino, n('g'));
      assert.equal(a.nlink, 2);
      assert.equal(a.parent, 0n);
      assert.equal((await meta.lookup(ROOT, d.ino, n('g'))).ino, f.ino);
      const a3 = await meta.link(ROOT, f.ino, ROOT_INODE, n('h'));
      assert.equal(a3.nlink, 3);
      await meta.unlink(ROOT, ROOT_INODE, n('f'));
      assert.equal((await meta.getattr(f.ino)).nlink, 2);
      await meta.unlink(ROOT, d.ino, n('g'));
      const last = await meta.getattr(f.ino);
      assert.equal(last.nlink, 1);
      assert.equal((await meta.lookup(ROOT, ROOT_INODE, n('h'))).ino, f.ino);
      await meta.unlink(ROOT, ROOT_INODE, n('h'));
      await rejects(meta.getattr(f.ino), Errno.ENOENT);
    });

    it('link errors: EPERM for directories, EEXIST for an existing name, ENOENT for a missing inode, EACCES on the parent', async function () {
      const d = await dir(ROOT_INODE, 'd');
      const f = await file(ROOT_INODE, 'f');
      const ro = await dir(ROOT_INODE, 'ro', ALICE, 0o555);
      await rejects(meta.link(ROOT, d.ino, ROOT_INODE, n('d2')), Errno.EPERM);
      await rejects(meta.link(ROOT, f.ino, ROOT_INODE, n('d')), Errno.EEXIST);
      await rejects(meta.link(ROOT, toIno(999_999), ROOT_INODE, n('x')), Errno.ENOENT);
      await rejects(meta.link(ALICE, f.ino, ro.ino, n('x')), Errno.EACCES);
      await rejects(meta.link(ROOT, f.ino, f.ino, n('x')), Errno.ENOTDIR);
    });

    it('unlink removes the entry and the inode; errors EISDIR, ENOENT, EACCES', async function () {
      const f = await file(ROOT_INODE, 'f');
      await dir(ROOT_INODE, 'd');
      const before = await meta.getattr(ROOT_INODE);
      await meta.unlink(ROOT, ROOT_INODE, n('f'));
      await rejects(meta.lookup(ROOT, ROOT_INODE, n('f')), Errno.ENOENT);
      await rejects(meta.getattr(f.ino), Errno.ENOENT);
      assert.equal(cmpTime(ts(await meta.getattr(ROOT_INODE), 'mtime'), ts(before, 'mtime')), 1);
      await rejects(meta.unlink(ROOT, ROOT_INODE, n('f')), Errno.ENOENT);
      await rejects(meta.unlink(ROOT, ROOT_INODE, n('d')), Errno.EISDIR);
      await rejects(meta.unlink(ROOT, ROOT_INODE, n('.')), Errno.EISDIR);
      const ro = await dir(ROOT_INODE, 'ro', ALICE, 0o555);
      await file(ro.ino, 'x');
      await rejects(meta.unlink(ALICE, ro.ino, n('x')), Errno.EACCES);
      assert.deepEqual(await names(meta, ROOT_INODE), ['d', 'ro']);
    });

    it('sticky directory: only root, the directory owner or the entry owner may unlink (EPERM otherwise)', async function () {
      const tmp = await dir(ROOT_INODE, 'tmp', ALICE, 0o1777);
      await file(tmp.ino, 'bobs', BOB);
      await file(tmp.ino, 'alices', ALICE);
      await file(tmp.ino, 'roots', ROOT);
      const carol: Credentials = { uid: 1002, gid: 1002, gids: [] };
      await rejects(meta.unlink(carol, tmp.ino, n('bobs')), Errno.EPERM);
      await rejects(meta.unlink(BOB, tmp.ino, n('alices')), Errno.EPERM);
      await meta.unlink(BOB, tmp.ino, n('bobs'));
      await meta.unlink(ALICE, tmp.ino, n('roots'));
      await meta.unlink(ROOT, tmp.ino, n('alices'));
      assert.deepEqual(await names(meta, tmp.ino), []);
    });

    it('unlink of an open file: it stays readable (getattr, readSlices) until the last release', async function () {
      const deleted: string[] = [];
      meta.onDeleteSlice(async (id, size) => { deleted.push(`${id}_${size}`); });
      const f = await file(ROOT_INODE, 'open');
      const id = await write(meta, f.ino, 0, 1000);
      await meta.open(ROOT, f.ino, MODE_READ);
      await meta.open(ROOT, f.ino, MODE_READ);
      assert.ok(meta.isOpen(f.ino));
      await meta.unlink(ROOT, ROOT_INODE, n('open'));
      await rejects(meta.lookup(ROOT, ROOT_INODE, n('open')), Errno.ENOENT);
      const a = await meta.getattr(f.ino);
      assert.equal(a.nlink, 0);
      assert.equal(a.length, 1000);
      assert.deepEqual((await meta.readSlices(f.ino, C0)).map((s) => s.id), [id]);
      assert.deepEqual((await meta.sessions()).find((s) => s.sid === meta.sid)?.sustained, [f.ino]);
      assert.equal((await meta.counters()).usedInodes, 1);
      await meta.release(f.ino);
      assert.equal((await meta.getattr(f.ino)).nlink, 0);
      await meta.release(f.ino);
      assert.ok(!meta.isOpen(f.ino));
      await meta.flushBackground();
      await rejects(meta.getattr(f.ino), Errno.ENOENT);
      assert.deepEqual(deleted, [`${id}_1000`]);
      assert.equal((await meta.counters()).usedInodes, 0);
      assert.deepEqual((await meta.sessions()).find((s) => s.sid === meta.sid)?.sustained, []);
    });

    it('create, mkdir, symlink and mknod answer the parent\'s attributes as their transaction left them', async function () {
      const d = await dir(ROOT_INODE, 'd');
      const made = [
        await meta.create(ROOT, d.ino, n('f'), 0o644, 0, true),
        await meta.mkdir(ROOT, d.ino, n('sub'), 0o755, 0),
        await meta.symlink(ROOT, d.ino, n('l'), n('f')),
        await meta.mknod(ROOT, d.ino, n('p'), FileType.Fifo, 0o644, 0),
      ];
      const last = made[made.length - 1];
      assert.deepEqual(last?.parentAttr, await meta.getattr(d.ino));
      assert.equal(made[1]?.parentAttr?.nlink, 3, 'mkdir: the parent nlink after the change');
      // an untouched parent (mtime younger than skipDirMtimeMs) is reported as it is
      const lazy = newMeta({ skipDirMtimeMs: 3_600_000 });
      await lazy.load();
      const again = await lazy.create(ROOT, d.ino, n('g'), 0o644, 0, true);
      assert.deepEqual(again.parentAttr, await meta.getattr(d.ino));
      const existing = await meta.create(ROOT, d.ino, n('g'), 0o644, 0, false);
      assert.equal(existing.created, false);
      assert.equal(existing.parentAttr, undefined, 'nothing created: no parent attributes');
    });

    it('unlink and rmdir answer the parent\'s attributes as their transaction left them, trash off and on', async function () {
      for (const trashDays of [0, 1]) {
        await reformat({ TrashDays: trashDays });
        const d = await dir(ROOT_INODE, 'd');
        await dir(d.ino, 'sub');
        await file(d.ino, 'f');
        const u = await meta.unlink(ROOT, d.ino, n('f'));
        assert.deepEqual(u.parentAttr, await meta.getattr(d.ino), `unlink, trash days ${trashDays}`);
        const r = await meta.rmdir(ROOT, d.ino, n('sub'));
        assert.deepEqual(r.parentAttr, await meta.getattr(d.ino), `rmdir, trash days ${trashDays}`);
        assert.equal(r.parentAttr?.nlink, 2);
      }
    });

    it('unlink without write permission is EACCES whether or not the name exists', async function () {
      const ro = await dir(ROOT_INODE, 'ro', ALICE, 0o555);
      await rejects(meta.unlink(ALICE, ro.ino, n('missing')), Errno.EACCES);
      await rejects(meta.unlink(ROOT, toIno(999_999), n('x')), Errno.ENOENT);
      const f = await file(ROOT_INODE, 'f');
      await rejects(meta.unlink(ROOT, f.ino, n('x')), Errno.ENOTDIR);
    });

    it('rmdir: removes an empty directory, parent nlink - 1; ENOTEMPTY, ENOTDIR, EINVAL for ., ENOENT', async function () {
      const d = await dir(ROOT_INODE, 'd');
      await file(d.ino, 'f');
      const before = await meta.getattr(ROOT_INODE);
      await rejects(meta.rmdir(ROOT, ROOT_INODE, n('d')), Errno.ENOTEMPTY);
      await file(ROOT_INODE, 'file');
      await rejects(meta.rmdir(ROOT, ROOT_INODE, n('file')), Errno.ENOTDIR);
      await rejects(meta.rmdir(ROOT, d.ino, n('.')), Errno.EINVAL);
      await rejects(meta.rmdir(ROOT, d.ino, n('..')), Errno.ENOTEMPTY);
      await rejects(meta.rmdir(ROOT, ROOT_INODE, n('none')), Errno.ENOENT);
      await meta.unlink(ROOT, d.ino, n('f'));
      await meta.rmdir(ROOT, ROOT_INODE, n('d'));
      await rejects(meta.getattr(d.ino), Errno.ENOENT);
      assert.equal((await meta.getattr(ROOT_INODE)).nlink, before.nlink - 1);
      assert.deepEqual(await names(meta, ROOT_INODE), ['file']);
    });

    // ------------------------------------------------------------ rename

    it('rename of a file within a directory: old name gone, new name resolves, ctime updated', async function () {
      const f = await file(ROOT_INODE, 'a');
      const r = await meta.rename(ROOT, ROOT_INODE, n('a'), ROOT_INODE, n('b'));
      assert.equal(r.ino, f.ino);
      await rejects(meta.lookup(ROOT, ROOT_INODE, n('a')), Errno.ENOENT);
      assert.equal((await meta.lookup(ROOT, ROOT_INODE, n('b'))).ino, f.ino);
      assert.deepEqual(await names(meta, ROOT_INODE), ['b']);
      assert.equal(cmpTime(ts(await meta.getattr(f.ino), 'ctime'), ts(f.attr, 'ctime')), 1);
      await rejects(meta.rename(ROOT, ROOT_INODE, n('a'), ROOT_INODE, n('c')), Errno.ENOENT);
    });

    it('rename of a directory across parents moves nlink and `..`', async function () {
      const a = await dir(ROOT_INODE, 'a');
      const b = await dir(ROOT_INODE, 'b');
      const d = await dir(a.ino, 'd');
      await file(d.ino, 'inside');
      await meta.rename(ROOT, a.ino, n('d'), b.ino, n('moved'));
      assert.equal((await meta.getattr(a.ino)).nlink, 2);
      assert.equal((await meta.getattr(b.ino)).nlink, 3);
      assert.equal((await meta.getattr(d.ino)).parent, b.ino);
      assert.equal((await meta.lookup(ROOT, d.ino, n('..'))).ino, b.ino);
      assert.deepEqual(await names(meta, b.ino), ['moved']);
      assert.deepEqual(await names(meta, d.ino), ['inside']);
      const dots = await collect(meta.readdir(ROOT, d.ino));
      assert.equal(dots[1]?.ino, b.ino);
    });

    it('rename of a file across parents updates Attr.parent', async function () {
      const a = await dir(ROOT_INODE, 'a');
      const f = await file(a.ino, 'f');
      await meta.rename(ROOT, a.ino, n('f'), ROOT_INODE, n('g'));
      assert.equal((await meta.getattr(f.ino)).parent, ROOT_INODE);
      assert.deepEqual(await names(meta, a.ino), []);
    });

    it('rename over an existing file replaces it; the replaced inode is deleted', async function () {
      const a = await file(ROOT_INODE, 'a');
      const b = await file(ROOT_INODE, 'b');
      await write(meta, b.ino, 0, 100);
      await meta.rename(ROOT, ROOT_INODE, n('a'), ROOT_INODE, n('b'));
      assert.equal((await meta.lookup(ROOT, ROOT_INODE, n('b'))).ino, a.ino);
      await rejects(meta.getattr(b.ino), Errno.ENOENT);
      assert.deepEqual(await names(meta, ROOT_INODE), ['b']);
      assert.equal((await meta.counters()).usedInodes, 1);
      assert.ok((await meta.delFiles()).some((d) => d.ino === b.ino && d.length === 100));
    });

    it('rename over an open file keeps the replaced file readable until release', async function () {
      await file(ROOT_INODE, 'a');
      const b = await file(ROOT_INODE, 'b');
      await write(meta, b.ino, 0, 100);
      await meta.open(ROOT, b.ino, MODE_READ);
      await meta.rename(ROOT, ROOT_INODE, n('a'), ROOT_INODE, n('b'));
      assert.equal((await meta.getattr(b.ino)).nlink, 0);
      assert.equal((await meta.readSlices(b.ino, C0)).length, 1);
      await meta.release(b.ino);
      await rejects(meta.getattr(b.ino), Errno.ENOENT);
    });

    it('rename of a directory over an empty directory replaces it; over a non-empty one is ENOTEMPTY', async function () {
      const a = await dir(ROOT_INODE, 'a');
      const empty = await dir(ROOT_INODE, 'empty');
      const full = await dir(ROOT_INODE, 'full');
      await file(full.ino, 'f');
      await rejects(meta.rename(ROOT, ROOT_INODE, n('a'), ROOT_INODE, n('full')), Errno.ENOTEMPTY);
      const nlink = (await meta.getattr(ROOT_INODE)).nlink;
      await meta.rename(ROOT, ROOT_INODE, n('a'), ROOT_INODE, n('empty'));
      assert.equal((await meta.lookup(ROOT, ROOT_INODE, n('empty'))).ino, a.ino);
      await rejects(meta.getattr(empty.ino), Errno.ENOENT);
      assert.equal((await meta.getattr(ROOT_INODE)).nlink, nlink - 1);
      assert.deepEqual(await names(meta, ROOT_INODE), ['empty', 'full']);
    });

    it('rename type rules: directory over a file is ENOTDIR, file over a directory is EISDIR', async function () {
      await dir(ROOT_INODE, 'd');
      await file(ROOT_INODE, 'f');
      await rejects(meta.rename(ROOT, ROOT_INODE, n('d'), ROOT_INODE, n('f')), Errno.ENOTDIR);
      await rejects(meta.rename(ROOT, ROOT_INODE, n('f'), ROOT_INODE, n('d')), Errno.EISDIR);
      assert.deepEqual(await names(meta, ROOT_INODE), ['d', 'f']);
    });

    it('rename of a directory into its own subtree fails with EINVAL', async function () {
      const a = await dir(ROOT_INODE, 'a');
      const b = await dir(a.ino, 'b');
      const c = await dir(b.ino, 'c');
      await rejects(meta.rename(ROOT, ROOT_INODE, n('a'), a.ino, n('x')), Errno.EINVAL);
      await rejects(meta.rename(ROOT, ROOT_INODE, n('a'), c.ino, n('x')), Errno.EINVAL);
      await rejects(meta.rename(ROOT, a.ino, n('b'), c.ino, n('x')), Errno.EINVAL);
      await meta.rename(ROOT, b.ino, n('c'), ROOT_INODE, n('c'));
      assert.deepEqual(await names(meta, ROOT_INODE), ['a', 'c']);
    });

    it('rename to the same name, or between two links of one inode, changes nothing', async function () {
      const f = await file(ROOT_INODE, 'f');
      await meta.link(ROOT, f.ino, ROOT_INODE, n('g'));
      assert.equal((await meta.rename(ROOT, ROOT_INODE, n('f'), ROOT_INODE, n('f'))).ino, f.ino);
      await meta.rename(ROOT, ROOT_INODE, n('f'), ROOT_INODE, n('g'));
      assert.deepEqual(await names(meta, ROOT_INODE), ['f', 'g']);
      assert.equal((await meta.getattr(f.ino)).nlink, 2);
    });

    it('rename flags: NOREPLACE refuses an existing target (EEXIST), EXCHANGE swaps, both together EINVAL', async function () {
      const a = await dir(ROOT_INODE, 'a');
      const d = await dir(a.ino, 'd');
      const f = await file(ROOT_INODE, 'f');
      await file(ROOT_INODE, 'g');
      await rejects(meta.rename(ROOT, ROOT_INODE, n('f'), ROOT_INODE, n('g'), RENAME_NOREPLACE), Errno.EEXIST);
      await meta.rename(ROOT, ROOT_INODE, n('f'), ROOT_INODE, n('h'), RENAME_NOREPLACE);
      await rejects(meta.rename(ROOT, ROOT_INODE, n('h'), ROOT_INODE, n('none'), RENAME_EXCHANGE), Errno.ENOENT);
      await rejects(meta.rename(ROOT, ROOT_INODE, n('h'), ROOT_INODE, n('g'), RENAME_EXCHANGE | RENAME_NOREPLACE), Errno.EINVAL);
      // exchange a file in the root with a directory inside `a`
      await meta.rename(ROOT, ROOT_INODE, n('h'), a.ino, n('d'), RENAME_EXCHANGE);
      assert.equal((await meta.lookup(ROOT, a.ino, n('d'))).ino, f.ino);
      assert.equal((await meta.lookup(ROOT, ROOT_INODE, n('h'))).ino, d.ino);
      assert.equal((await meta.getattr(d.ino)).parent, ROOT_INODE);
      assert.equal((await meta.getattr(f.ino)).parent, a.ino);
      assert.equal((await meta.getattr(a.ino)).nlink, 2);
      assert.equal((await meta.getattr(ROOT_INODE)).nlink, 4);
      assert.equal((await meta.lookup(ROOT, d.ino, n('..'))).ino, ROOT_INODE);
    });

    it('rename needs write permission on both parents and respects the sticky bit', async function () {
      const src = await dir(ROOT_INODE, 'src', ALICE, 0o755);
      const dst = await dir(ROOT_INODE, 'dst', BOB, 0o755);
      const sticky = await dir(ROOT_INODE, 'sticky', ROOT, 0o1777);
      await file(src.ino, 'f', ALICE);
      await file(sticky.ino, 'rootfile', ROOT);
      await rejects(meta.rename(ALICE, src.ino, n('f'), dst.ino, n('f')), Errno.EACCES);
      await rejects(meta.rename(BOB, src.ino, n('f'), dst.ino, n('f')), Errno.EACCES);
      await rejects(meta.rename(ALICE, sticky.ino, n('rootfile'), sticky.ino, n('mine')), Errno.EPERM);
      await meta.rename(ALICE, src.ino, n('f'), sticky.ino, n('f'));
      await rejects(meta.rename(BOB, sticky.ino, n('f'), sticky.ino, n('g')), Errno.EPERM);
    });

    // ------------------------------------------------------------ readdir

    it('readdir lists ., .. then every entry exactly once with its type and increasing cookies', async function () {
      const d = await dir(ROOT_INODE, 'd');
      await file(d.ino, 'f');
      await dir(d.ino, 'sub');
      await meta.symlink(ROOT, d.ino, n('s'), n('f'));
      const all = await collect(meta.readdir(ROOT, d.ino));
      assert.deepEqual(all.slice(0, 2).map((e) => [e.name.toString(), e.ino, e.cookie]), [['.', d.ino, 1n], ['..', ROOT_INODE, 2n]]);
      assert.deepEqual(all.slice(2).map((e) => [e.name.toString(), e.type]).sort(),
        [['f', FileType.File], ['s', FileType.Symlink], ['sub', FileType.Directory]]);
      for (let i = 1; i < all.length; i++) assert.ok((all[i]?.cookie ?? 0n) > (all[i - 1]?.cookie ?? 0n));
      assert.ok(all.slice(2).every((e) => e.cookie > 2n && e.attr === undefined));
    });

    it('readdir resumes after every cookie it handed out, in small pages', async function () {
      const d = await dir(ROOT_INODE, 'd');
      for (let i = 0; i < 23; i++) await file(d.ino, `f${i}`);
      const all = await collect(meta.readdir(ROOT, d.ino, { batchSize: 4 }));
      assert.equal(all.length, 25);
      const expect = all.map((e) => e.name.toString());
      for (let i = 0; i < all.length; i++) {
        const cookie = all[i]?.cookie ?? 0n;
        const rest = await collect(meta.readdir(ROOT, d.ino, { after: cookie, batchSize: 3 }));
        assert.deepEqual(rest.map((e) => e.name.toString()), expect.slice(i + 1), `after cookie ${cookie}`);
      }
      const fromZero = await collect(meta.readdir(ROOT, d.ino, { after: 0n, batchSize: 5 }));
      assert.deepEqual(fromZero.map((e) => e.name.toString()), expect);
    });

    it('readdir fetches pages only as they are read', async function () {
      const d = await dir(ROOT_INODE, 'd');
      for (let i = 0; i < 6; i++) await file(d.ino, `f${i}`);
      const it = meta.readdir(ROOT, d.ino, { batchSize: 2 })[Symbol.asyncIterator]();
      const first = await it.next();
      assert.equal(first.done, false);
      await meta.unlink(ROOT, d.ino, n('f5'));
      await file(d.ino, 'late');
      const rest: string[] = [];
      for (let r = await it.next(); r.done !== true; r = await it.next()) rest.push(r.value.name.toString());
      assert.ok(!rest.includes('f5'), 'a page fetched after the unlink must not show the removed entry');
      for (let i = 0; i < 5; i++) assert.ok(rest.includes(`f${i}`));
    });

    it('readdir while entries are removed and added: no duplicates, no surviving entry lost', async function () {
      const d = await dir(ROOT_INODE, 'd');
      for (let i = 0; i < 40; i++) await file(d.ino, `f${i}`);
      const seen: string[] = [];
      let step = 0;
      const removed = new Set<string>();
      for await (const e of meta.readdir(ROOT, d.ino, { batchSize: 3 })) {
        seen.push(e.name.toString());
        step++;
        if (step % 4 === 0) {
          const victim = `f${(step * 7) % 40}`;
          if (!removed.has(victim)) {
            await meta.unlink(ROOT, d.ino, n(victim));
            removed.add(victim);
          }
          await file(d.ino, `new${step}`);
        }
      }
      assert.equal(new Set(seen).size, seen.length, 'duplicates in listing');
      for (let i = 0; i < 40; i++) {
        const nm = `f${i}`;
        if (!removed.has(nm)) assert.ok(seen.includes(nm), `lost ${nm}`);
      }
      // resuming from a cookie of a deleted entry still works
      const all = await collect(meta.readdir(ROOT, d.ino));
      const mid = all[10];
      assert.ok(mid !== undefined);
      await meta.unlink(ROOT, d.ino, mid.name);
      const rest = await collect(meta.readdir(ROOT, d.ino, { after: mid.cookie }));
      assert.deepEqual(rest.map((e) => e.name.toString()), all.slice(11).map((e) => e.name.toString()));
    });

    it('readdirPages hands out the readdir listing in non-empty pages of batchSize, . and .. leading the first', async function () {
      const d = await dir(ROOT_INODE, 'd');
      for (let i = 0; i < 11; i++) await file(d.ino, `f${i}`);
      for (const plus of [false, true]) {
        const pages: DirEntry[][] = [];
        for await (const page of meta.readdirPages(ROOT, d.ino, { plus, batchSize: 4 })) pages.push([...page]);
        assert.deepEqual(pages.map((p) => p.length), [6, 4, 3]);
        assert.deepEqual(pages.flat(), await collect(meta.readdir(ROOT, d.ino, { plus, batchSize: 4 })));
      }
      const all = await collect(meta.readdir(ROOT, d.ino));
      const third = all[2];
      assert.ok(third !== undefined);
      const rest: DirEntry[] = [];
      for await (const page of meta.readdirPages(ROOT, d.ino, { after: third.cookie, batchSize: 5 })) rest.push(...page);
      assert.deepEqual(rest.map((e) => e.name.toString()), all.slice(3).map((e) => e.name.toString()));
      await rejects((async () => {
        for await (const page of meta.readdirPages(BOB, toIno(999_999))) assert.fail(`listed ${page.length} entries`);
      })(), Errno.ENOENT);
    });

    it('readdir-plus fills each entry attr as getattr returns it (including . and ..)', async function () {
      const d = await dir(ROOT_INODE, 'd');
      const f = await file(d.ino, 'f');
      await write(meta, f.ino, 0, 777);
      await meta.symlink(ROOT, d.ino, n('s'), n('target'));
      const all = await collect(meta.readdir(ROOT, d.ino, { plus: true, batchSize: 1 }));
      assert.equal(all.length, 4);
      for (const e of all) assert.deepEqual(e.attr, await meta.getattr(e.ino), e.name.toString());
      assert.equal(all.find((e) => e.name.toString() === 'f')?.attr?.length, 777);
    });

    it('readdir errors: ENOTDIR on a file, ENOENT on a missing inode, EACCES without read permission', async function () {
      const f = await file(ROOT_INODE, 'f');
      const d = await dir(ROOT_INODE, 'd', ALICE, 0o711);
      await rejects(collect(meta.readdir(ROOT, f.ino)), Errno.ENOTDIR);
      await rejects(collect(meta.readdir(ROOT, toIno(999_999))), Errno.ENOENT);
      await rejects(collect(meta.readdir(BOB, d.ino)), Errno.EACCES);
      assert.equal((await collect(meta.readdir(ALICE, d.ino))).length, 2);
    });

    // ------------------------------------------------------------ setattr

    it('chmod: owner and root may; others get EPERM; ctime moves', async function () {
      const f = await file(ROOT_INODE, 'f', ALICE);
      const a = await meta.setattr(ALICE, f.ino, { mode: 0o600 });
      assert.equal(a.mode, 0o600);
      assert.equal(cmpTime(ts(a, 'ctime'), ts(f.attr, 'ctime')), 1);
      await rejects(meta.setattr(BOB, f.ino, { mode: 0o777 }), Errno.EPERM);
      assert.equal((await meta.setattr(ROOT, f.ino, { mode: 0o4755 })).mode, 0o4755);
      assert.equal((await meta.getattr(f.ino)).mode, 0o4755);
    });

    it('chmod by an owner outside the file group clears setgid', async function () {
      const f = await file(ROOT_INODE, 'f', ALICE);
      await meta.setattr(ROOT, f.ino, { gid: 5000 });
      assert.equal((await meta.setattr(ALICE, f.ino, { mode: 0o2755 })).mode, 0o755);
      const member: Credentials = { uid: ALICE.uid, gid: ALICE.gid, gids: [5000] };
      assert.equal((await meta.setattr(member, f.ino, { mode: 0o2755 })).mode, 0o2755);
    });

    it('chown: only root changes the owner; the owner may chgrp to its own groups only', async function () {
      const f = await file(ROOT_INODE, 'f', ALICE);
      await rejects(meta.setattr(ALICE, f.ino, { uid: BOB.uid }), Errno.EPERM);
      await rejects(meta.setattr(BOB, f.ino, { gid: BOB.gid }), Errno.EPERM);
      await rejects(meta.setattr(ALICE, f.ino, { gid: 7777 }), Errno.EPERM);
      const member: Credentials = { uid: ALICE.uid, gid: ALICE.gid, gids: [2000] };
      assert.equal((await meta.setattr(member, f.ino, { gid: 2000 })).gid, 2000);
      assert.equal((await meta.setattr(ALICE, f.ino, { uid: ALICE.uid })).uid, ALICE.uid);
      const a = await meta.setattr(ROOT, f.ino, { uid: BOB.uid, gid: 3000 });
      assert.equal(a.uid, BOB.uid);
      assert.equal(a.gid, 3000);
    });

    it('chown by a non-root owner clears setuid and setgid of a file', async function () {
      const f = await file(ROOT_INODE, 'f', ALICE);
      await meta.setattr(ROOT, f.ino, { mode: 0o6755 });
      const member: Credentials = { uid: ALICE.uid, gid: ALICE.gid, gids: [2000] };
      const a = await meta.setattr(member, f.ino, { gid: 2000 });
      assert.equal(a.mode, 0o755);
      const d = await dir(ROOT_INODE, 'd', ALICE, 0o2755);
      assert.equal((await meta.setattr(member, d.ino, { gid: 2000 })).mode, 0o2755);
    });

    it('utimes: explicit times need ownership (EPERM); "now" needs write permission (EACCES)', async function () {
      const f = await file(ROOT_INODE, 'f', ALICE, 0o644);
      const when = { sec: 1_600_000_000, nsec: 123_456_789 };
      const a = await meta.setattr(ALICE, f.ino, { atime: when, mtime: { sec: 1_600_000_001, nsec: 1 } });
      assert.deepEqual(ts(a, 'atime'), when);
      assert.deepEqual(ts(a, 'mtime'), { sec: 1_600_000_001, nsec: 1 });
      await rejects(meta.setattr(BOB, f.ino, { mtime: when }), Errno.EPERM);
      await rejects(meta.setattr(BOB, f.ino, { mtime: 'now', atime: 'now' }), Errno.EACCES);
      await meta.setattr(ALICE, f.ino, { mode: 0o666 });
      const b = await meta.setattr(BOB, f.ino, { mtime: 'now', atime: 'now' });
      assert.ok(b.mtime > when.sec);
    });

    it('truncate through setattr: needs write permission, EISDIR on directories, sets length and mtime', async function () {
      const f = await file(ROOT_INODE, 'f', ALICE, 0o644);
      const d = await dir(ROOT_INODE, 'd');
      await rejects(meta.setattr(BOB, f.ino, { size: 10 }), Errno.EACCES);
      await rejects(meta.setattr(ROOT, d.ino, { size: 10 }), Errno.EISDIR);
      const a = await meta.setattr(ALICE, f.ino, { size: 10_000 });
      assert.equal(a.length, 10_000);
      assert.equal(cmpTime(ts(a, 'mtime'), ts(f.attr, 'mtime')), 1);
      assert.equal((await meta.getattr(f.ino)).length, 10_000);
      assert.equal((await meta.setattr(ALICE, f.ino, { size: 0 })).length, 0);
      const fifo = await meta.mknod(ROOT, ROOT_INODE, n('fifo'), FileType.Fifo, 0o666, 0);
      await rejects(meta.setattr(ROOT, fifo.ino, { size: 1 }), Errno.EINVAL);
    });

    // ------------------------------------------------------------ xattrs

    it('xattrs: set/get/list/remove with CREATE (EEXIST) and REPLACE (ENODATA) flags', async function () {
      const f = await file(ROOT_INODE, 'f', ALICE);
      await rejects(meta.getxattr(ALICE, f.ino, n('user.a')), Errno.ENODATA);
      await meta.setxattr(ALICE, f.ino, n('user.a'), n('1'), 0);
      await rejects(meta.setxattr(ALICE, f.ino, n('user.a'), n('2'), 1), Errno.EEXIST);
      await rejects(meta.setxattr(ALICE, f.ino, n('user.b'), n('2'), 2), Errno.ENODATA);
      await meta.setxattr(ALICE, f.ino, n('user.a'), n('3'), 2);
      await meta.setxattr(ALICE, f.ino, n('user.b'), Buffer.from([0, 1, 2, 255]), 1);
      await meta.setxattr(ALICE, f.ino, n('user.empty'), Buffer.alloc(0), 0);
      assert.deepEqual(await meta.getxattr(ALICE, f.ino, n('user.a')), n('3'));
      assert.deepEqual(await meta.getxattr(ALICE, f.ino, n('user.b')), Buffer.from([0, 1, 2, 255]));
      assert.deepEqual(await meta.getxattr(ALICE, f.ino, n('user.empty')), Buffer.alloc(0));
      assert.deepEqual((await meta.listxattr(ALICE, f.ino)).map((b) => b.toString()).sort(), ['user.a', 'user.b', 'user.empty']);
      await meta.removexattr(ALICE, f.ino, n('user.a'));
      await rejects(meta.removexattr(ALICE, f.ino, n('user.a')), Errno.ENODATA);
      await rejects(meta.getxattr(ALICE, f.ino, n('user.a')), Errno.ENODATA);
      assert.deepEqual((await meta.listxattr(ALICE, f.ino)).map((b) => b.toString()).sort(), ['user.b', 'user.empty']);
      await rejects(meta.setxattr(BOB, f.ino, n('user.c'), n('x'), 0), Errno.EACCES);
      await rejects(meta.getxattr(ALICE, toIno(999_999), n('user.a')), Errno.ENOENT);
    });

    it('getxattrs answers one name for many inodes in order: the value, empty, or null when absent or gone', async function () {
      const a = await file(ROOT_INODE, 'xa', ALICE);
      const b = await file(ROOT_INODE, 'xb', ALICE);
      const c = await file(ROOT_INODE, 'xc', ALICE);
      await meta.setxattr(ALICE, a.ino, n('user.p'), n('va'), 0);
      await meta.setxattr(ALICE, c.ino, n('user.p'), Buffer.alloc(0), 0);
      await meta.setxattr(ALICE, b.ino, n('user.q'), n('other name'), 0);
      const got = await meta.getxattrs(ALICE, [a.ino, b.ino, toIno(999_999), c.ino, a.ino], n('user.p'));
      assert.deepEqual(got.map((v) => (v === null ? null : v.toString())), ['va', null, null, '', 'va']);
      assert.deepEqual(await meta.getxattrs(ALICE, [], n('user.p')), []);
      // batches of other sizes after the first (an engine may cache its statements by shape)
      assert.deepEqual((await meta.getxattrs(ALICE, [c.ino, a.ino], n('user.p'))).map((v) => v?.toString()), ['', 'va']);
      assert.deepEqual((await meta.getxattrs(ALICE, [a.ino], n('user.p'))).map((v) => v?.toString()), ['va']);
    });

    // ------------------------------------------------------------ data

    it('writeSlice appends records in order, grows the length, sets mtime to the slice time', async function () {
      const f = await file(ROOT_INODE, 'f');
      const t1 = { sec: 1_700_000_100, nsec: 42 };
      const id1 = await write(meta, f.ino, 0, 4096, t1);
      let a = await meta.getattr(f.ino);
      assert.equal(a.length, 4096);
      assert.deepEqual(ts(a, 'mtime'), t1);
      const id2 = await write(meta, f.ino, 100, 50);
      assert.equal((await meta.getattr(f.ino)).length, 4096);
      const id3 = await write(meta, f.ino, CHUNK_SIZE + 10, 20);
      a = await meta.getattr(f.ino);
      assert.equal(a.length, CHUNK_SIZE + 30);
      assert.deepEqual(await meta.readSlices(f.ino, C0), [
        { pos: 0, id: id1, size: 4096, off: 0, len: 4096 },
        { pos: 100, id: id2, size: 50, off: 0, len: 50 },
      ]);
      assert.deepEqual(await meta.readSlices(f.ino, toChunkIndex(1)), [{ pos: 10, id: id3, size: 20, off: 0, len: 20 }]);
      assert.deepEqual(await meta.listChunks(f.ino), [0, 1]);
      assert.deepEqual(await meta.readSlices(f.ino, toChunkIndex(5)), []);
      await rejects(meta.writeSlice(f.ino, C0, { pos: CHUNK_SIZE - 1, id: id1, size: 2, off: 0, len: 2 }, t1), Errno.EINVAL);
      const d = await dir(ROOT_INODE, 'd');
      await rejects(meta.writeSlice(d.ino, C0, { pos: 0, id: id1, size: 2, off: 0, len: 2 }, t1), Errno.EPERM);
    });

    it('newSliceId never repeats and is never 0', async function () {
      const m2 = newMeta();
      const ids = new Set<bigint>();
      for (let i = 0; i < 40; i++) {
        ids.add(await meta.newSliceId());
        ids.add(await m2.newSliceId());
      }
      assert.equal(ids.size, 80);
      assert.ok(!ids.has(0n));
    });

    it('inode numbers are never reused and never 1', async function () {
      const m2 = newMeta();
      await m2.load();
      const seen = new Set<bigint>();
      for (let i = 0; i < 20; i++) {
        seen.add((await meta.create(ROOT, ROOT_INODE, n(`a${i}`), 0o644, 0, true)).ino);
        seen.add((await m2.create(ROOT, ROOT_INODE, n(`b${i}`), 0o644, 0, true)).ino);
        await meta.unlink(ROOT, ROOT_INODE, n(`a${i}`));
      }
      assert.equal(seen.size, 40);
      assert.ok(!seen.has(1n));
    });

    it('truncate down then up: the cut range reads as a hole, old data never reappears', async function () {
      const f = await file(ROOT_INODE, 'f');
      const id = await write(meta, f.ino, 0, 10_000);
      await meta.setattr(ROOT, f.ino, { size: 3000 });
      await meta.setattr(ROOT, f.ino, { size: 8000 });
      const recs = await meta.readSlices(f.ino, C0);
      assert.equal(recs[0]?.id, id);
      const pieces = resolveChunk(recs, 0, 8000);
      assert.deepEqual(pieces.map((p) => [p.start, p.end, p.id]), [[0, 3000, id], [3000, 8000, toSliceId(0)]]);
      assert.ok(recs.slice(1).every((r) => r.id === 0n && r.size === 0 && r.off === 0));
      assert.equal((await meta.getattr(f.ino)).length, 8000);
    });

    it('truncate across chunks puts hole records in the chunks that hold data', async function () {
      const f = await file(ROOT_INODE, 'f');
      await write(meta, f.ino, 0, 100);
      const id2 = await write(meta, f.ino, 2 * CHUNK_SIZE, 100);
      await write(meta, f.ino, 3 * CHUNK_SIZE, 100);
      await meta.setattr(ROOT, f.ino, { size: 50 });
      const c0 = resolveChunk(await meta.readSlices(f.ino, C0));
      assert.ok(c0.some((p) => p.start <= 50 && p.end >= 100 && p.id === 0n));
      const c2 = resolveChunk(await meta.readSlices(f.ino, toChunkIndex(2)));
      assert.ok(c2.every((p) => p.id !== id2 || p.start >= 100));
      assert.ok(c2.some((p) => p.start === 0 && p.id === 0n && p.end >= 100));
      const c3 = resolveChunk(await meta.readSlices(f.ino, toChunkIndex(3)));
      assert.ok(c3.every((p) => p.id === 0n));
      assert.deepEqual(await meta.readSlices(f.ino, toChunkIndex(1)), []);
    });

    it('cloneRange references the source slices (refs + 1) and copies the length', async function () {
      const src = await file(ROOT_INODE, 'src');
      const dst = await file(ROOT_INODE, 'dst');
      const id = await write(meta, src.ino, 0, 8192);
      assert.equal(await meta.sliceRefs(id, 8192), 1);
      const a = await meta.cloneRange(ROOT, src.ino, 0, dst.ino, 0, 8192);
      assert.equal(a.length, 8192);
      assert.equal(await meta.sliceRefs(id, 8192), 2);
      const pieces = resolveChunk(await meta.readSlices(dst.ino, C0), 0, 8192);
      assert.deepEqual(pieces.map((p) => [p.start, p.end, p.id, p.off]), [[0, 8192, id, 0]]);
      // a partial clone at another offset
      await meta.cloneRange(ROOT, src.ino, 1000, dst.ino, 10_000, 2000);
      assert.equal((await meta.getattr(dst.ino)).length, 12_000);
      const p2 = resolveChunk(await meta.readSlices(dst.ino, C0), 10_000, 12_000);
      assert.deepEqual(p2.map((p) => [p.start, p.end, p.id, p.off]), [[10_000, 12_000, id, 1000]]);
      assert.equal(await meta.sliceRefs(id, 8192), 3);
      const d = await dir(ROOT_INODE, 'd');
      await rejects(meta.cloneRange(ROOT, d.ino, 0, dst.ino, 0, 1), Errno.EISDIR);
      await rejects(meta.cloneRange(ROOT, src.ino, 0, src.ino, 100, 200), Errno.EINVAL);
    });

    it('data release: the deleter runs exactly once per slice when its last reference goes', async function () {
      const calls: string[] = [];
      meta.onDeleteSlice(async (id, size) => { calls.push(`${id}_${size}`); });
      const src = await file(ROOT_INODE, 'src');
      const dst = await file(ROOT_INODE, 'dst');
      const shared = await write(meta, src.ino, 0, 5000);
      const own = await write(meta, src.ino, CHUNK_SIZE, 300);
      await meta.cloneRange(ROOT, src.ino, 0, dst.ino, 0, 5000);
      await meta.unlink(ROOT, ROOT_INODE, n('src'));
      await meta.flushBackground();
      assert.deepEqual(calls, [`${own}_300`]);
      assert.equal(await meta.sliceRefs(shared, 5000), 1);
      assert.deepEqual(await meta.listChunks(src.ino), []);
      assert.deepEqual(await meta.delFiles(), []);
      await meta.unlink(ROOT, ROOT_INODE, n('dst'));
      await meta.flushBackground();
      assert.deepEqual(calls.sort(), [`${own}_300`, `${shared}_5000`].sort());
      assert.equal(await meta.releaseDeletedFiles(), 0);
      assert.deepEqual(calls.length, 2);
    });

    it('releaseDeletedFiles processes files queued while no deleter was registered', async function () {
      const f = await file(ROOT_INODE, 'f');
      const ids: SliceId[] = [];
      for (let i = 0; i < 3; i++) ids.push(await write(meta, f.ino, i * 1000, 1000));
      await meta.unlink(ROOT, ROOT_INODE, n('f'));
      await meta.flushBackground();
      assert.deepEqual((await meta.delFiles()).map((d) => [d.ino, d.length]), [[f.ino, 3000]]);
      const calls: bigint[] = [];
      meta.onDeleteSlice(async (id) => { calls.push(id); });
      assert.equal(await meta.releaseDeletedFiles(), 1);
      assert.deepEqual(calls.sort(), [...ids].sort());
      assert.deepEqual(await meta.delFiles(), []);
      assert.deepEqual(await meta.listChunks(f.ino), []);
    });

    it('a deleted file\'s chunks are listed from the queued length it gives; its delfiles entry goes with or without the length', async function () {
      const f = await file(ROOT_INODE, 'f');
      await write(meta, f.ino, 0, 1000);
      await write(meta, f.ino, 2 * CHUNK_SIZE, 1000);
      const g = await file(ROOT_INODE, 'g');
      await write(meta, g.ino, 0, 10);
      await meta.unlink(ROOT, ROOT_INODE, n('f'));
      await meta.unlink(ROOT, ROOT_INODE, n('g'));
      const length = 2 * CHUNK_SIZE + 1000;
      assert.deepEqual((await meta.delFiles()).map((d) => [d.ino, d.length]).sort(), [[f.ino, length], [g.ino, 10]].sort());
      assert.deepEqual(await engine.doListChunks(f.ino, length), [0, 2]);
      assert.deepEqual(await engine.doListChunks(f.ino), [0, 2]);
      await engine.doRemoveDelFile(f.ino, length);
      await engine.doRemoveDelFile(g.ino, 999);
      assert.deepEqual(await meta.delFiles(), []);
    });

    // ------------------------------------------------------------ trash

    it('trash on: unlink moves the file to .trash/<hour>/<parent>-<ino>-<name>; counters unchanged', async function () {
      await reformat({ TrashDays: 1 });
      const t = await meta.lookup(ROOT, ROOT_INODE, n('.trash'));
      assert.equal(t.ino, TRASH_INODE);
      assert.equal(t.attr.mode, 0o555);
      assert.equal(t.attr.uid, 0);
      assert.ok(!(await names(meta, ROOT_INODE)).includes('.trash'));
      const d = await dir(ROOT_INODE, 'd');
      const f = await file(d.ino, 'f.txt');
      await write(meta, f.ino, 0, 5000);
      const before = await meta.counters();
      await meta.unlink(ROOT, d.ino, n('f.txt'));
      assert.deepEqual(await names(meta, d.ino), []);
      const hours = await collect(meta.readdir(ROOT, TRASH_INODE));
      assert.equal(hours.length, 3);
      const hour = hours[2];
      assert.ok(hour !== undefined);
      assert.match(hour.name.toString(), HOUR_NAME);
      assert.ok(isTrashIno(hour.ino) && hour.ino > TRASH_INODE);
      const hattr = await meta.getattr(hour.ino);
      assert.equal(hattr.mode, 0o555);
      assert.equal(hattr.parent, TRASH_INODE);
      assert.deepEqual(await names(meta, hour.ino), [`${d.ino}-${f.ino}-f.txt`]);
      const moved = await meta.getattr(f.ino);
      assert.equal(moved.parent, hour.ino);
      assert.equal(moved.nlink, 1);
      assert.equal(moved.length, 5000);
      const after = await meta.counters();
      assert.equal(after.usedInodes, before.usedInodes + 1, 'the hour directory counts, the file still counts');
      assert.equal(after.usedSpace, before.usedSpace + 4096);
      assert.deepEqual(await meta.delFiles(), []);
      // a second deletion reuses the hour's sub-directory (or makes the next hour's)
      const g = await file(d.ino, 'g');
      await meta.unlink(ROOT, d.ino, n('g'));
      const all = await trashed();
      assert.deepEqual(all.map((e) => e.name), [`${d.ino}-${f.ino}-f.txt`, `${d.ino}-${g.ino}-g`]);
      const hourNames = (await names(meta, TRASH_INODE));
      assert.equal(new Set(all.map((e) => e.hour.name.toString())).size, hourNames.length);
      assert.ok(hourNames.every((h) => HOUR_NAME.test(h)));
    });

    it('trash on: files in trash are read-only; deleting inside trash deletes for real', async function () {
      await reformat({ TrashDays: 1 });
      const f = await file(ROOT_INODE, 'f', ALICE, 0o666);
      await meta.unlink(ROOT, ROOT_INODE, n('f'));
      const hour = (await collect(meta.readdir(ROOT, TRASH_INODE)))[2];
      assert.ok(hour !== undefined);
      await rejects(meta.open(ALICE, f.ino, MODE_WRITE), Errno.EPERM);
      await rejects(meta.setattr(ALICE, f.ino, { size: 0 }), Errno.EPERM);
      await rejects(meta.create(ROOT, hour.ino, n('new'), 0o644, 0, true), Errno.EPERM);
      await rejects(meta.mkdir(ROOT, TRASH_INODE, n('x'), 0o755, 0), Errno.EPERM);
      await rejects(meta.unlink(ALICE, hour.ino, n(`1-${f.ino}-f`)), Errno.EACCES);
      await meta.open(ALICE, f.ino, MODE_READ);
      await meta.release(f.ino);
      await meta.unlink(ROOT, hour.ino, n(`1-${f.ino}-f`));
      await rejects(meta.getattr(f.ino), Errno.ENOENT);
      assert.ok((await meta.delFiles()).some((d) => d.ino === f.ino));
      await meta.rmdir(ROOT, TRASH_INODE, hour.name);
      assert.deepEqual(await names(meta, TRASH_INODE), []);
    });

    it('trash on: rmdir and rename-over move the removed entry into trash', async function () {
      await reformat({ TrashDays: 1 });
      const d = await dir(ROOT_INODE, 'd');
      const a = await file(ROOT_INODE, 'a');
      const b = await file(ROOT_INODE, 'b');
      const rootNlink = (await meta.getattr(ROOT_INODE)).nlink;
      await meta.rmdir(ROOT, ROOT_INODE, n('d'));
      assert.equal((await meta.getattr(ROOT_INODE)).nlink, rootNlink - 1);
      await meta.rename(ROOT, ROOT_INODE, n('a'), ROOT_INODE, n('b'));
      assert.equal((await meta.lookup(ROOT, ROOT_INODE, n('b'))).ino, a.ino);
      const all = await trashed();
      assert.deepEqual(all.map((e) => e.name), [`1-${b.ino}-b`, `1-${d.ino}-d`].sort());
      const hour = all.find((e) => e.ino === d.ino)?.hour;
      assert.ok(hour !== undefined);
      assert.equal((await meta.getattr(d.ino)).parent, hour.ino);
      assert.equal((await meta.getattr(hour.ino)).nlink, 2, 'trash directories keep nlink 2');
      assert.equal((await meta.getattr(b.ino)).nlink, 1);
      await rejects(meta.rename(ROOT, ROOT_INODE, n('b'), hour.ino, n('x')), Errno.EPERM);
      await rejects(meta.rename(ROOT, ROOT_INODE, n('b'), ROOT_INODE, n('.trash')), Errno.EPERM);
    });

    it('trash on: skip-trash files and a hard link whose trash name is taken are deleted for real', async function () {
      await reformat({ TrashDays: 1 });
      const skip = await file(ROOT_INODE, 'skip');
      await meta.setattr(ROOT, skip.ino, { flags: FLAG_SKIP_TRASH });
      await meta.unlink(ROOT, ROOT_INODE, n('skip'));
      await rejects(meta.getattr(skip.ino), Errno.ENOENT);
      const f = await file(ROOT_INODE, 'f');
      await meta.link(ROOT, f.ino, ROOT_INODE, n('g'));
      await meta.unlink(ROOT, ROOT_INODE, n('f'));
      assert.equal((await meta.getattr(f.ino)).nlink, 2, 'one link in trash, one in the root');
      await meta.link(ROOT, f.ino, ROOT_INODE, n('f'));
      await meta.unlink(ROOT, ROOT_INODE, n('f'));
      const all = await trashed();
      assert.ok(all.every((e) => e.name === `1-${f.ino}-f`));
      if (all.length === 1) assert.equal((await meta.getattr(f.ino)).nlink, 2, 'the second unlink of the same name in the same hour is real');
      else assert.equal((await meta.getattr(f.ino)).nlink, 3, 'the hour changed between the two unlinks');
      assert.deepEqual(await names(meta, ROOT_INODE), ['g']);
    });

    it('trash on: entries created under a skip-trash directory inherit the flag and skip the trash', async function () {
      await reformat({ TrashDays: 1 });
      const d = await dir(ROOT_INODE, 'scratch');
      await meta.setattr(ROOT, d.ino, { flags: FLAG_SKIP_TRASH });
      const f = await file(d.ino, 'tmp');
      assert.equal(f.attr.flags & FLAG_SKIP_TRASH, FLAG_SKIP_TRASH);
      await meta.unlink(ROOT, d.ino, n('tmp'));
      await rejects(meta.getattr(f.ino), Errno.ENOENT);
      assert.deepEqual(await names(meta, TRASH_INODE), []);
    });

    it('trash entry names are cut to 255 bytes', async function () {
      await reformat({ TrashDays: 1 });
      const long = 'x'.repeat(255);
      const f = await file(ROOT_INODE, long);
      await meta.unlink(ROOT, ROOT_INODE, n(long));
      const hour = (await collect(meta.readdir(ROOT, TRASH_INODE)))[2];
      assert.ok(hour !== undefined);
      const [entry] = await names(meta, hour.ino);
      assert.equal(entry, `1-${f.ino}-${long}`.slice(0, 255));
    });

    it('trash off: unlink deletes for real and there is no .trash', async function () {
      const f = await file(ROOT_INODE, 'f');
      await meta.unlink(ROOT, ROOT_INODE, n('f'));
      await rejects(meta.getattr(f.ino), Errno.ENOENT);
      await rejects(meta.lookup(ROOT, ROOT_INODE, n('.trash')), Errno.ENOENT);
      assert.equal((await meta.counters()).usedInodes, 0);
    });

    // ------------------------------------------------------------ counters and dir stats

    it('usedSpace and usedInodes are exact after a sequence (align4K per inode, root excluded)', async function () {
      assert.deepEqual([(await meta.counters()).usedSpace, (await meta.counters()).usedInodes], [0, 0]);
      const d = await dir(ROOT_INODE, 'd');
      const f = await file(d.ino, 'f');
      await meta.symlink(ROOT, d.ino, n('s'), n('f'));
      await write(meta, f.ino, 0, 5000);
      let c = await meta.counters();
      assert.equal(c.usedInodes, 3);
      assert.equal(c.usedSpace, 4096 + 8192 + 4096);
      await write(meta, f.ino, 4000, 100_000);
      c = await meta.counters();
      assert.equal(c.usedSpace, 4096 + align4K(104_000) + 4096);
      await meta.setattr(ROOT, f.ino, { size: 1 });
      c = await meta.counters();
      assert.equal(c.usedSpace, 4096 + 4096 + 4096);
      await meta.link(ROOT, f.ino, ROOT_INODE, n('hard'));
      assert.equal((await meta.counters()).usedInodes, 3);
      await meta.unlink(ROOT, d.ino, n('f'));
      assert.equal((await meta.counters()).usedInodes, 3);
      await meta.unlink(ROOT, ROOT_INODE, n('hard'));
      await meta.unlink(ROOT, d.ino, n('s'));
      await meta.rmdir(ROOT, ROOT_INODE, n('d'));
      c = await meta.counters();
      assert.deepEqual([c.usedSpace, c.usedInodes], [0, 0]);
    });

    it('dir stats: data length, used space and inode count of direct children', async function () {
      const d = await dir(ROOT_INODE, 'd');
      assert.deepEqual(await meta.dirStats(d.ino), { dataLength: 0, usedSpace: 0, usedInodes: 0 });
      const f = await file(d.ino, 'f');
      await dir(d.ino, 'sub');
      await write(meta, f.ino, 0, 5000);
      assert.deepEqual(await meta.dirStats(d.ino), { dataLength: 5000, usedSpace: 8192 + 4096, usedInodes: 2 });
      await meta.setattr(ROOT, f.ino, { size: 100 });
      assert.deepEqual(await meta.dirStats(d.ino), { dataLength: 100, usedSpace: 4096 + 4096, usedInodes: 2 });
      await meta.rename(ROOT, d.ino, n('f'), ROOT_INODE, n('f'));
      assert.deepEqual(await meta.dirStats(d.ino), { dataLength: 0, usedSpace: 4096, usedInodes: 1 });
      assert.deepEqual(await meta.dirStats(ROOT_INODE), { dataLength: 100, usedSpace: 4096 + 4096, usedInodes: 2 });
      await meta.rmdir(ROOT, d.ino, n('sub'));
      await meta.unlink(ROOT, ROOT_INODE, n('f'));
      assert.deepEqual(await meta.dirStats(d.ino), { dataLength: 0, usedSpace: 0, usedInodes: 0 });
      assert.deepEqual(await meta.dirStats(ROOT_INODE), { dataLength: 0, usedSpace: 4096, usedInodes: 1 });
    });

    // ------------------------------------------------------------ open files, flags, concurrency

    it('open checks permissions: EACCES by mode, EISDIR for writing a directory', async function () {
      const f = await file(ROOT_INODE, 'f', ALICE, 0o640);
      const d = await dir(ROOT_INODE, 'd');
      assert.equal((await meta.open(ALICE, f.ino, MODE_READ | MODE_WRITE)).attr.length, 0);
      await rejects(meta.open(BOB, f.ino, MODE_READ), Errno.EACCES);
      await rejects(meta.open(ROOT, d.ino, MODE_WRITE), Errno.EISDIR);
      await rejects(meta.open(ROOT, toIno(999_999), MODE_READ), Errno.ENOENT);
      assert.ok(meta.isOpen(f.ino));
      assert.ok(!meta.isOpen(d.ino));
      await meta.release(f.ino);
      assert.ok(!meta.isOpen(f.ino));
    });

    it('create without O_EXCL still needs search permission on the parent', async function () {
      const d = await dir(ROOT_INODE, 'd', ALICE, 0o700);
      await file(d.ino, 'f', ALICE, 0o666);
      await rejects(meta.create(BOB, d.ino, n('f'), 0o644, 0, false), Errno.EACCES);
      assert.equal((await meta.create(ALICE, d.ino, n('f'), 0o644, 0, false)).created, false);
    });

    it('immutable files: only root sets the flag; unlink, write-open, setattr and link fail with EPERM', async function () {
      const f = await file(ROOT_INODE, 'f', ALICE, 0o666);
      await rejects(meta.setattr(ALICE, f.ino, { flags: FLAG_IMMUTABLE }), Errno.EPERM);
      await meta.setattr(ROOT, f.ino, { flags: FLAG_IMMUTABLE });
      await rejects(meta.unlink(ROOT, ROOT_INODE, n('f')), Errno.EPERM);
      await rejects(meta.open(ALICE, f.ino, MODE_WRITE), Errno.EPERM);
      await rejects(meta.setattr(ROOT, f.ino, { mode: 0o600 }), Errno.EPERM);
      await rejects(meta.link(ROOT, f.ino, ROOT_INODE, n('g')), Errno.EPERM);
      await rejects(meta.rename(ROOT, ROOT_INODE, n('f'), ROOT_INODE, n('g')), Errno.EPERM);
      await meta.open(ALICE, f.ino, MODE_READ);
      await meta.release(f.ino);
      await meta.setattr(ROOT, f.ino, { flags: 0 });
      await meta.unlink(ROOT, ROOT_INODE, n('f'));
    });

    it('unlink retries when the entry changed between lookup and transaction (EAGAIN from the engine)', async function () {
      await file(ROOT_INODE, 'victim');
      const other = await file(ROOT_INODE, 'other');
      let swapped = false;
      const real = engine;
      const racy = interpose(real, 'doUnlink', async (t) => {
        if (!swapped) {
          swapped = true;
          // another client renames `other` over `victim` after our lookup
          const src = await real.doLookup(ROOT_INODE, n('other'));
          const dst = await real.doLookup(ROOT_INODE, n('victim'));
          await real.doRename({
            srcParent: ROOT_INODE, srcName: n('other'), dstParent: ROOT_INODE, dstName: n('victim'), flags: 0,
            expectSrcIno: src.ino, expectDstIno: dst.ino, dstKeepOpen: false, sid: 0, trash: null,
            now: { sec: Math.floor(Date.now() / 1000), nsec: 0 },
          });
        }
        return real.doUnlink(t);
      });
      const m2 = new BaseMeta(racy, { skipDirMtimeMs: 0 });
      await m2.load();
      await m2.unlink(ROOT, ROOT_INODE, n('victim'));
      assert.ok(swapped);
      assert.deepEqual(await names(meta, ROOT_INODE), []);
      await rejects(meta.getattr(other.ino), Errno.ENOENT);
      assert.equal((await meta.counters()).usedInodes, 0);
    });

    it('rename retries when the destination changed between lookup and transaction (EAGAIN from the engine)', async function () {
      await file(ROOT_INODE, 'src');
      const late = { ino: toIno(0) };
      let raced = false;
      const real = engine;
      const racy = interpose(real, 'doRename', async (t) => {
        if (!raced) {
          raced = true;
          late.ino = (await meta.create(ROOT, ROOT_INODE, n('dst'), 0o644, 0, true)).ino;
        }
        return real.doRename(t);
      });
      const m2 = new BaseMeta(racy, { skipDirMtimeMs: 0 });
      await m2.load();
      await m2.rename(ROOT, ROOT_INODE, n('src'), ROOT_INODE, n('dst'));
      assert.ok(raced);
      assert.deepEqual(await names(meta, ROOT_INODE), ['dst']);
      await rejects(meta.getattr(late.ino), Errno.ENOENT);
    });

    it('concurrent creates of one name: exactly one wins, the others get EEXIST', async function () {
      const m2 = newMeta();
      await m2.load();
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? meta : m2).create(ROOT, ROOT_INODE, n('same'), 0o644, 0, true)),
      );
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as { code?: string }).code, 'EEXIST');
      assert.equal((await meta.counters()).usedInodes, 1);
    });

    it('concurrent creates of distinct names in one directory all succeed with distinct inodes', async function () {
      const m2 = newMeta();
      await m2.load();
      const made = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? meta : m2).mkdir(ROOT, ROOT_INODE, n(`d${i}`), 0o755, 0)));
      assert.equal(new Set(made.map((r) => r.ino)).size, 30);
      assert.equal((await names(meta, ROOT_INODE)).length, 30);
      assert.equal((await meta.getattr(ROOT_INODE)).nlink, 32);
      assert.equal((await meta.dirStats(ROOT_INODE))?.usedInodes, 30);
    });

    it('rename over a hard link drops one link of the replaced inode and keeps it alive', async function () {
      const a = await file(ROOT_INODE, 'a');
      const b = await file(ROOT_INODE, 'b');
      await meta.link(ROOT, b.ino, ROOT_INODE, n('b2'));
      await meta.rename(ROOT, ROOT_INODE, n('a'), ROOT_INODE, n('b'));
      assert.equal((await meta.lookup(ROOT, ROOT_INODE, n('b'))).ino, a.ino);
      assert.equal((await meta.getattr(b.ino)).nlink, 1);
      assert.equal((await meta.lookup(ROOT, ROOT_INODE, n('b2'))).ino, b.ino);
      assert.deepEqual(await meta.delFiles(), []);
    });

    it('job leases (setIfSmall): a lease is won once per interval', async function () {
      assert.equal(await engine.doSetIfSmall('lastCleanupFiles', 1000, 10), true);
      assert.equal(await engine.doSetIfSmall('lastCleanupFiles', 1005, 10), false);
      assert.equal(await engine.doSetIfSmall('lastCleanupFiles', 1010, 10), true);
      assert.equal(await engine.doSetIfSmall('lastCleanupTrash', 1005, 10), true);
    });

    it('a heartbeat that loses the cleanup lease leaves stale sessions alone', async function () {
      await meta.heartbeat();
      const other = newMeta();
      await other.load();
      const sid = await other.newSession({}, 600);
      const info = (await meta.sessions()).find((s) => s.sid === sid)?.info;
      assert.ok(info !== undefined && info !== null);
      await engine.doRefreshSession(sid, info, 1);
      await meta.heartbeat();
      assert.ok((await meta.sessions()).some((s) => s.sid === sid));
      assert.equal(await meta.cleanupStaleSessions(), 1);
      assert.ok(!(await meta.sessions()).some((s) => s.sid === sid));
    });

    it('writeSlice and setattr on a missing inode fail with ENOENT', async function () {
      const t = { sec: 1, nsec: 0 };
      await rejects(meta.writeSlice(toIno(999_999), C0, { pos: 0, id: await meta.newSliceId(), size: 1, off: 0, len: 1 }, t), Errno.ENOENT);
      await rejects(meta.setattr(ROOT, toIno(999_999), { mode: 0o600 }), Errno.ENOENT);
      await rejects(meta.readlink(toIno(999_999)), Errno.ENOENT);
    });

    it('cloneRange past the end of the source copies only what exists', async function () {
      const src = await file(ROOT_INODE, 'src');
      const dst = await file(ROOT_INODE, 'dst');
      const id = await write(meta, src.ino, 0, 1000);
      const a = await meta.cloneRange(ROOT, src.ino, 500, dst.ino, 0, 10_000);
      assert.equal(a.length, 500);
      const pieces = resolveChunk(await meta.readSlices(dst.ino, C0), 0, 500);
      assert.deepEqual(pieces.map((p) => [p.start, p.end, p.id, p.off]), [[0, 500, id, 500]]);
      assert.equal((await meta.cloneRange(ROOT, src.ino, 5000, dst.ino, 0, 10)).length, 500);
    });

    it('.trash cannot be unlinked, removed or renamed in the root (EPERM)', async function () {
      await reformat({ TrashDays: 1 });
      await rejects(meta.unlink(ROOT, ROOT_INODE, n('.trash')), Errno.EPERM);
      await rejects(meta.rmdir(ROOT, ROOT_INODE, n('.trash')), Errno.EPERM);
      await rejects(meta.rename(ROOT, ROOT_INODE, n('.trash'), ROOT_INODE, n('t')), Errno.EPERM);
      assert.equal((await meta.lookup(ROOT, TRASH_INODE, n('..'))).ino, ROOT_INODE);
      const dots = await collect(meta.readdir(ROOT, TRASH_INODE));
      assert.deepEqual(dots.map((e) => [e.name.toString(), e.ino]), [['.', TRASH_INODE], ['..', ROOT_INODE]]);
    });

    // ------------------------------------------------------------ loader

    it('newLoader fills an empty volume that then reads back through Meta', async function () {
      const json = await engine.getSetting();
      assert.ok(json !== null);
      await meta.closeSession();
      await engine.doReset();
      const t = { sec: 1_600_000_000, nsec: 7 };
      const base: Attr = {
        flags: 0, type: FileType.Directory, mode: 0o755, uid: 0, gid: 0, atime: t.sec, atimeNs: t.nsec, mtime: t.sec,
        mtimeNs: t.nsec, ctime: t.sec, ctimeNs: t.nsec, nlink: 2, length: 4096, rdev: 0, parent: ROOT_INODE,
        accessAclId: 0, defaultAclId: 0, tier: 0,
      };
      const [d, f, s, gone] = [toIno(2), toIno(3), toIno(4), toIno(21)];
      const id = toSliceId(7);
      const fresh = await engine.newLoader();
      fresh.setting(json);
      fresh.node(ROOT_INODE, { ...base, mode: 0o777, nlink: 3 });
      fresh.node(d, base);
      fresh.node(f, { ...base, type: FileType.File, mode: 0o644, nlink: 2, length: 12, parent: toIno(0) });
      fresh.node(s, { ...base, type: FileType.Symlink, mode: 0o777, nlink: 1, length: 6 });
      fresh.entry(ROOT_INODE, n('d'), FileType.Directory, d);
      fresh.entry(ROOT_INODE, n('f'), FileType.File, f);
      fresh.entry(d, n('hard'), FileType.File, f);
      fresh.entry(ROOT_INODE, n('s'), FileType.Symlink, s);
      fresh.parents(f, new Map([[ROOT_INODE, 1], [d, 1]]));
      fresh.symlink(s, n('target'));
      fresh.xattr(f, n('user.k'), n('v'));
      fresh.chunk(f, C0, [{ pos: 0, id, size: 12, off: 0, len: 12 }]);
      fresh.sliceRef(id, 12, 1);
      fresh.dirStats(ROOT_INODE, { dataLength: 12, usedSpace: 3 * 4096, usedInodes: 3 });
      fresh.dirStats(d, { dataLength: 12, usedSpace: 4096, usedInodes: 1 });
      fresh.delFile({ ino: gone, length: 0, expire: 1 });
      fresh.dirQuota(d, { maxSpace: 1 << 30, maxInodes: 100, usedSpace: 4096, usedInodes: 1 });
      fresh.userGroupQuota('user', 501, { maxSpace: 2 ** 40, maxInodes: 1_000_000, usedSpace: 0, usedInodes: 0 });
      fresh.userGroupQuota('group', 20, { maxSpace: 2 ** 41, maxInodes: 2_000_000, usedSpace: 0, usedInodes: 0 });
      fresh.acl(1, { owner: 6, group: 4, mask: 4, other: 4, users: [{ id: 1, perm: 6 }, { id: 2, perm: 7 }], groups: [] });
      fresh.counters({ usedSpace: 3 * 4096, usedInodes: 3, nextInode: 30n, nextChunk: 10n, nextSession: 5, nextTrash: 0 });
      await fresh.commit();

      const m = newMeta();
      assert.equal((await m.load()).Name, 'conformance');
      assert.deepEqual(await names(m, ROOT_INODE), ['d', 'f', 's']);
      assert.equal((await m.lookup(ROOT, d, n('hard'))).ino, f);
      const fa = await m.getattr(f);
      assert.deepEqual([fa.nlink, fa.parent, fa.length, fa.mtime, fa.mtimeNs], [2, 0n, 12, t.sec, t.nsec]);
      assert.equal((await m.getattr(ROOT_INODE)).nlink, 3);
      assert.deepEqual(await m.readlink(s), n('target'));
      assert.deepEqual(await m.getxattr(ROOT, f, n('user.k')), n('v'));
      assert.deepEqual(await m.readSlices(f, C0), [{ pos: 0, id, size: 12, off: 0, len: 12 }]);
      assert.equal(await m.sliceRefs(id, 12), 1);
      assert.deepEqual(await m.dirStats(d), { dataLength: 12, usedSpace: 4096, usedInodes: 1 });
      assert.deepEqual((await m.delFiles()).map((x) => [x.ino, x.length]), [[gone, 0]]);
      assert.deepEqual([...(await m.dirQuotas()).entries()].map(([k, q]) => [k, q.maxSpace, q.maxInodes]), [[d, 1 << 30, 100]]);
      assert.equal((await m.userGroupQuotas('user')).get(501)?.maxInodes, 1_000_000);
      assert.equal((await m.userGroupQuotas('group')).get(20)?.maxSpace, 2 ** 41);
      assert.deepEqual(await m.acl(1), { owner: 6, group: 4, mask: 4, other: 4, users: [{ id: 1, perm: 6 }, { id: 2, perm: 7 }], groups: [] });
      assert.equal(await m.acl(2), null);
      const c = await m.counters();
      assert.deepEqual([c.usedSpace, c.usedInodes], [3 * 4096, 3]);
      assert.ok((await m.create(ROOT, ROOT_INODE, n('new'), 0o644, 0, true)).ino >= 30n);
      assert.ok((await m.newSliceId()) >= 10n);
      assert.ok((await m.newSession({}, 600)) > 5);
      // the loaded hard link behaves like any other
      await m.unlink(ROOT, ROOT_INODE, n('f'));
      assert.equal((await m.getattr(f)).nlink, 1);
    });

    it('newLoader refuses a volume that already has inodes (ENOTEMPTY)', async function () {
      await file(ROOT_INODE, 'f');
      await rejects(engine.newLoader(), Errno.ENOTEMPTY);
    });

    // ------------------------------------------------------------ read-only

    it('read-only mode refuses every change with EROFS and still reads', async function () {
      const d = await dir(ROOT_INODE, 'd');
      const f = await file(d.ino, 'f');
      await write(meta, f.ino, 0, 10);
      const ro = newMeta({ readOnly: true });
      await ro.load();
      const t = { sec: 1, nsec: 0 };
      const changes: [string, () => Promise<unknown>][] = [
        ['format', () => ro.format(volume(), { force: true })],
        ['create', () => ro.create(ROOT, d.ino, n('x'), 0o644, 0, true)],
        ['mknod', () => ro.mknod(ROOT, d.ino, n('x'), FileType.Fifo, 0o644, 0)],
        ['mkdir', () => ro.mkdir(ROOT, d.ino, n('x'), 0o755, 0)],
        ['symlink', () => ro.symlink(ROOT, d.ino, n('x'), n('y'))],
        ['link', () => ro.link(ROOT, f.ino, d.ino, n('x'))],
        ['unlink', () => ro.unlink(ROOT, d.ino, n('f'))],
        ['rmdir', () => ro.rmdir(ROOT, ROOT_INODE, n('d'))],
        ['rename', () => ro.rename(ROOT, d.ino, n('f'), d.ino, n('g'))],
        ['setattr', () => ro.setattr(ROOT, f.ino, { mode: 0o600 })],
        ['truncate', () => ro.setattr(ROOT, f.ino, { size: 0 })],
        ['setxattr', () => ro.setxattr(ROOT, f.ino, n('user.a'), n('1'), 0)],
        ['removexattr', () => ro.removexattr(ROOT, f.ino, n('user.a'))],
        ['writeSlice', () => ro.writeSlice(f.ino, C0, { pos: 0, id: toSliceId(99), size: 1, off: 0, len: 1 }, t)],
        ['newSliceId', () => ro.newSliceId()],
        ['cloneRange', () => ro.cloneRange(ROOT, f.ino, 0, f.ino, 100, 10)],
        ['open for write', () => ro.open(ROOT, f.ino, MODE_WRITE)],
        ['access W', () => ro.access(ROOT, f.ino, MODE_WRITE)],
        ['releaseDeletedFiles', () => ro.releaseDeletedFiles()],
      ];
      for (const [what, op] of changes) {
        await assert.rejects(op(), (err: unknown) => {
          assert.equal((err as { code?: string }).code, 'EROFS', what);
          return true;
        });
      }
      assert.equal((await ro.lookup(ROOT, d.ino, n('f'))).ino, f.ino);
      assert.deepEqual(await names(ro, d.ino), ['f']);
      assert.equal((await ro.readSlices(f.ino, C0)).length, 1);
      await ro.open(ROOT, f.ino, MODE_READ);
      await ro.release(f.ino);
      assert.equal((await meta.getattr(f.ino)).mode, 0o644);
    });

    // ------------------------------------------------------------ WebDAV lock table

    const tableOf = async (m: BaseMeta): Promise<{ version: number; locks: [string, string][] }> => {
      const t = await m.readDavLocks();
      assert.equal(await m.readDavLocksVersion(), t.version, 'readDavLocksVersion answers the version of the table');
      return { version: t.version, locks: [...t.locks].map(([k, v]): [string, string] => [k, v.toString('hex')]).sort((a, b) => (a[0] < b[0] ? -1 : 1)) };
    };
    const hex = (s: string): string => Buffer.from(s).toString('hex');

    it('the WebDAV lock table starts empty at version 0; an update at the version applies (bytes kept) and counts it up', async function () {
      assert.deepEqual(await tableOf(meta), { version: 0, locks: [] });
      const binary = Buffer.from([0, 1, 0xfe, 0xff]);
      assert.equal(await meta.updateDavLocks(0, new Map([['urn:uuid:a', binary], ['urn:uuid:b', Buffer.from('{"b":1}')]]), []), true);
      assert.deepEqual(await tableOf(meta), { version: 1, locks: [['urn:uuid:a', '0001feff'], ['urn:uuid:b', hex('{"b":1}')]] });
      // one update replaces a record, removes another and ignores an unknown token
      assert.equal(await meta.updateDavLocks(1, new Map([['urn:uuid:a', Buffer.from('x')]]), ['urn:uuid:b', 'urn:uuid:none']), true);
      assert.deepEqual(await tableOf(meta), { version: 2, locks: [['urn:uuid:a', hex('x')]] });
      assert.equal(await meta.updateDavLocks(2, new Map(), ['urn:uuid:a']), true);
      assert.deepEqual(await tableOf(meta), { version: 3, locks: [] });
    });

    it('a WebDAV lock table update at a stale version changes nothing; of two racing at one version exactly one applies', async function () {
      assert.equal(await meta.updateDavLocks(0, new Map([['t1', Buffer.from('1')]]), []), true);
      assert.equal(await meta.updateDavLocks(0, new Map([['t2', Buffer.from('2')]]), ['t1']), false);
      assert.equal(await meta.updateDavLocks(7, new Map([['t2', Buffer.from('2')]]), []), false);
      assert.deepEqual(await tableOf(meta), { version: 1, locks: [['t1', hex('1')]] });
      const other = newMeta(); // a second appliance on the volume
      await other.load();
      const won = await Promise.all([
        meta.updateDavLocks(1, new Map([['x', Buffer.from('x')]]), []),
        other.updateDavLocks(1, new Map([['y', Buffer.from('y')]]), []),
      ]);
      assert.equal(won.filter((w) => w).length, 1, String(won));
      const t = await tableOf(other);
      assert.equal(t.version, 2);
      assert.deepEqual(t.locks.map(([k]) => k), ['t1', won[0] === true ? 'x' : 'y']);
    });

    it('the WebDAV lock table is no part of the file system (no xattrs, entries or counters change) and reset empties it', async function () {
      const before = await meta.counters();
      assert.equal(await meta.updateDavLocks(0, new Map([['urn:uuid:a', Buffer.from('{}')]]), []), true);
      assert.deepEqual(await meta.listxattr(ROOT, ROOT_INODE), []);
      assert.deepEqual(await names(meta, ROOT_INODE), []);
      assert.deepEqual(await meta.counters(), before);
      await reformat({});
      assert.deepEqual(await tableOf(meta), { version: 0, locks: [] });
    });

    it('a read-only client reads the WebDAV lock table and may not change it (EROFS)', async function () {
      await meta.updateDavLocks(0, new Map([['t', Buffer.from('v')]]), []);
      const ro = newMeta({ readOnly: true });
      await ro.load();
      assert.deepEqual(await tableOf(ro), { version: 1, locks: [['t', hex('v')]] });
      await rejects(ro.updateDavLocks(1, new Map(), ['t']), Errno.EROFS);
    });

    // ------------------------------------------------------------ model-based

    const freshVolume = (over: Partial<Format>) => async (): Promise<BaseMeta> => {
      await meta.closeSession();
      await engine.doReset();
      meta = newMeta();
      await meta.format(volume(over));
      return meta;
    };

    it('random operation sequences agree with a simple tree model (names, types, nlink, lengths, counters)', async function () {
      this.timeout(120_000);
      await modelBasedTest(freshVolume({}), { trash: false, numRuns: 120 });
    });

    it('random operation sequences with trash on: removed entries land in trash and keep counting', async function () {
      this.timeout(120_000);
      await modelBasedTest(freshVolume({ TrashDays: 1 }), { trash: true, numRuns: 80 });
    });
  });
}
