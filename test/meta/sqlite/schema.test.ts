// Schema, URL and connection behaviour of the SQLite engine: xorm-style index names, the readdir
// paging plan (no sort), additive schema sync, table prefixes, two engines on one file.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteEngine } from '../../../src/meta/sqlite/engine.js';
import { ensureSchema, readdirSql, tableNames } from '../../../src/meta/sqlite/schema.js';
import { parseSqliteUrl } from '../../../src/meta/sqlite/url.js';
import { Errno, isFsError } from '../../../src/util/errno.js';
import { tmpDir } from '../../helpers/tmp.js';
import { attrOf, FileType, freshVolume, name, NOW, ROOT_INODE, SETTING, toIno } from './helpers.js';

describe('sqlite engine: URL', () => {
  it('sqlite3:///abs/path is an absolute path', () => {
    assert.deepEqual(parseSqliteUrl('sqlite3:///var/lib/ferry/meta.db'), { path: '/var/lib/ferry/meta.db', tablePrefix: '' });
  });

  it('sqlite3://relative.db is relative to the working directory', () => {
    assert.deepEqual(parseSqliteUrl('sqlite3://relative.db'), { path: 'relative.db', tablePrefix: '' });
    assert.deepEqual(parseSqliteUrl('sqlite3://dir/meta.db'), { path: 'dir/meta.db', tablePrefix: '' });
  });

  it('a database in a directory that does not exist is EIO naming the reason (the caller reports it)', () => {
    assert.throws(() => openSqliteEngine(`sqlite3://${join(tmpDir('ferry-sqlite-'), 'missing', 'meta.db')}`),
      (e: unknown) => isFsError(e, Errno.EIO) && /directory does not exist/.test(e.message));
  });

  it('JuiceFS driver options are accepted and table_prefix is honoured', () => {
    assert.deepEqual(parseSqliteUrl('sqlite3:///m.db?cache=shared&_journal=WAL&_timeout=5000&table_prefix=vol1'),
      { path: '/m.db', tablePrefix: 'vol1' });
  });

  it('other schemes and empty paths are EINVAL', () => {
    for (const bad of ['redis://h/1', 'sqlite3://', 'sqlite3:///', 'sqlite:///x.db', 'sqlite3:///x.db?table_prefix=a-b']) {
      assert.throws(() => parseSqliteUrl(bad), (e: unknown) => isFsError(e, Errno.EINVAL), bad);
    }
  });
});

describe('sqlite engine: schema and connection', () => {
  it('creates the JuiceFS indexes under the names xorm gives them', async () => {
    const f = await freshVolume();
    try {
      const names = f.raw.prepare<[], { name: string }>(`SELECT name FROM sqlite_master WHERE type='index' AND sql IS NOT NULL ORDER BY name`)
        .all().map((r) => r.name);
      for (const n of ['UQE_jfs_edge_edge', 'IDX_jfs_edge_inode', 'UQE_jfs_chunk_chunk', 'IDX_jfs_chunk_ref_refs', 'UQE_jfs_xattr_name',
        'UQE_jfs_sustained_sustained', 'UQE_jfs_flock_flock', 'UQE_jfs_plock_plock']) {
        assert.ok(names.includes(n), `missing index ${n} in ${names.join(',')}`);
      }
      const edgeCols = f.raw.prepare<[], { name: string }>('PRAGMA table_info(jfs_edge)').all().map((r) => r.name);
      assert.deepEqual(edgeCols, ['id', 'parent', 'name', 'inode', 'type']);
      assert.equal(f.raw.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      await f.close();
    }
  });

  it('readdir paging by edge id is an index range scan with no temp b-tree sort', async () => {
    const f = await freshVolume();
    try {
      const dirs = [ROOT_INODE];
      for (let d = 0; d < 4; d++) {
        const ino = f.ino();
        await f.engine.doMknod({ parent: ROOT_INODE, name: name(`d${d}`), ino, attr: attrOf(FileType.Directory, ROOT_INODE), onExist: 'fail', now: NOW });
        dirs.push(ino);
      }
      for (let i = 0; i < 30; i++) {
        for (const d of dirs) {
          await f.engine.doMknod({ parent: d, name: name(`f${i}`), ino: f.ino(), attr: attrOf(FileType.File, d), onExist: 'fail', now: NOW });
        }
      }
      const t = tableNames();
      const queries = [readdirSql(t, false), readdirSql(t, true)];
      // without statistics (how JuiceFS leaves the file) and after ANALYZE
      for (const q of [...queries, 'ANALYZE', ...queries]) {
        if (q === 'ANALYZE') {
          f.raw.exec(q);
          continue;
        }
        const plan = f.raw.prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${q}`).all(1, 10, 20).map((r) => r.detail);
        assert.ok(!plan.some((d) => d.includes('TEMP B-TREE')), plan.join(' | '));
        assert.ok(plan.some((d) => d.includes(t.readdirIndex) && d.includes('rowid>?')), plan.join(' | '));
      }
    } finally {
      await f.close();
    }
  });

  it('readdir recreates its index when a JuiceFS schema sync dropped it while the engine was open', async () => {
    const f = await freshVolume();
    try {
      await f.engine.doMknod({ parent: ROOT_INODE, name: name('a'), ino: f.ino(), attr: attrOf(FileType.File, ROOT_INODE), onExist: 'fail', now: NOW });
      assert.equal((await f.engine.doReaddir(ROOT_INODE, 0n, 10, false)).entries.length, 1);
      for (const plus of [false, true]) {
        // plus=false re-runs a prepared statement, plus=true prepares a new one
        f.raw.exec(`DROP INDEX ${tableNames().readdirIndex}`);
        const page = await f.engine.doReaddir(ROOT_INODE, 0n, 10, plus);
        assert.deepEqual(page.entries.map((e) => e.name.toString()), ['a']);
      }
      assert.ok(f.raw.prepare(`SELECT 1 FROM sqlite_master WHERE name=?`).get(tableNames().readdirIndex) !== undefined);
    } finally {
      await f.close();
    }
  });

  it('the readdir index is recreated on open after a JuiceFS schema sync dropped it', async () => {
    const f = await freshVolume();
    const { readdirIndex } = tableNames();
    f.raw.exec(`DROP INDEX ${readdirIndex}`);
    await f.close();
    const again = openSqliteEngine(f.url);
    const raw = new Database(f.path);
    try {
      assert.ok(raw.prepare(`SELECT 1 FROM sqlite_master WHERE name=?`).get(readdirIndex) !== undefined);
    } finally {
      raw.close();
      await again.close();
    }
  });

  it('the WebDAV lock table is Ferry\'s own table ferry_jfs_dav_lock (the empty token holds the version)', async () => {
    const f = await freshVolume();
    try {
      assert.equal(await f.engine.doUpdateDavLocks(0, new Map([['urn:uuid:a', Buffer.from([0, 0xff])]]), []), true);
      const rows = f.raw.prepare<[], { token: string; value: Buffer }>('SELECT token, value FROM ferry_jfs_dav_lock ORDER BY token').all();
      assert.deepEqual(rows.map((r) => [r.token, Buffer.from(r.value).toString('hex')]), [['', Buffer.from('1').toString('hex')], ['urn:uuid:a', '00ff']]);
      assert.equal(f.raw.prepare('SELECT COUNT(*) FROM jfs_xattr').pluck().get(), 0n);
    } finally {
      await f.close();
    }
  });

  it('schema sync adds columns an older JuiceFS schema lacks and keeps its rows', () => {
    const path = join(tmpDir('ferry-sqlite-'), 'old.db');
    const db = new Database(path);
    db.exec('CREATE TABLE `jfs_node` (`inode` INTEGER PRIMARY KEY NOT NULL, `type` INTEGER NOT NULL, `flags` INTEGER NOT NULL, ' +
      '`mode` INTEGER NOT NULL, `uid` INTEGER NOT NULL, `gid` INTEGER NOT NULL, `atime` INTEGER NOT NULL, `mtime` INTEGER NOT NULL, ' +
      '`ctime` INTEGER NOT NULL, `nlink` INTEGER NOT NULL, `length` INTEGER NOT NULL, `rdev` INTEGER NULL, `parent` INTEGER NULL)');
    db.exec('INSERT INTO jfs_node VALUES (1, 2, 0, 511, 0, 0, 1, 1, 1, 2, 4096, 0, 1)');
    ensureSchema(db, tableNames());
    const cols = db.prepare<[], { name: string }>('PRAGMA table_info(jfs_node)').all().map((r) => r.name);
    assert.deepEqual(cols.slice(-6), ['atimensec', 'mtimensec', 'ctimensec', 'access_acl_id', 'default_acl_id', 'tier_id']);
    assert.deepEqual(db.prepare('SELECT mode, atimensec, tier_id FROM jfs_node').get(), { mode: 511, atimensec: 0, tier_id: null });
    db.close();
  });

  it('table_prefix=x puts the volume in jfs_x_* tables', async () => {
    const path = join(tmpDir('ferry-sqlite-'), 'p.db');
    const e = openSqliteEngine(`sqlite3://${path}?table_prefix=vol1`);
    await e.doFormat(SETTING, attrOf(FileType.Directory, ROOT_INODE), null);
    await e.close();
    const raw = new Database(path);
    try {
      assert.equal(raw.prepare(`SELECT value FROM jfs_vol1_setting WHERE name='format'`).pluck().get(), SETTING);
      assert.equal(raw.prepare(`SELECT 1 FROM sqlite_master WHERE name='jfs_setting'`).get(), undefined);
      assert.ok(raw.prepare(`SELECT 1 FROM sqlite_master WHERE name='UQE_jfs_vol1_edge_edge'`).get() !== undefined);
    } finally {
      raw.close();
    }
  });

  it('a second engine on the same file sees the first one\'s writes at once', async () => {
    const f = await freshVolume();
    const other = openSqliteEngine(f.url);
    try {
      const ino = f.ino();
      await f.engine.doMknod({ parent: ROOT_INODE, name: name('shared'), ino, attr: attrOf(FileType.File, ROOT_INODE), onExist: 'fail', now: NOW });
      const seen = await other.doLookup(ROOT_INODE, name('shared'));
      assert.equal(seen.ino, ino);
      await other.doSetXattr(ino, name('user.k'), name('v'), 0);
      assert.deepEqual(await f.engine.doGetXattr(ino, name('user.k')), name('v'));
      const first = await other.allocateIds('inode', 10);
      const second = await f.engine.allocateIds('inode', 10);
      assert.equal(second, first + 10n);
    } finally {
      await other.close();
      await f.close();
    }
  });

  it('opening a file in a missing directory fails with an FsError', () => {
    assert.throws(() => openSqliteEngine(`sqlite3://${join(tmpDir(), 'no', 'such', 'dir.db')}`), (e: unknown) => isFsError(e));
  });

  it('toIno keeps inode numbers above 2^53 exact through the node table', async () => {
    const f = await freshVolume();
    try {
      const big = toIno(0x7fffffff10000005n);
      await f.engine.doMknod({ parent: ROOT_INODE, name: name('big'), ino: big, attr: attrOf(FileType.File, ROOT_INODE), onExist: 'fail', now: NOW });
      assert.equal((await f.engine.doLookup(ROOT_INODE, name('big'))).ino, big);
    } finally {
      await f.close();
    }
  });
});
