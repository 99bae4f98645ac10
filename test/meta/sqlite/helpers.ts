/**
 * Helpers for the SQLite engine tests: a fresh formatted volume in its own temp dir, attr
 * builders, and a second raw better-sqlite3 connection for checking rows as JuiceFS would read them.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { openSqliteEngine, type SqliteEngine } from '../../../src/meta/sqlite/engine.js';
import { type Attr, FileType, type Ino, ROOT_INODE, type Timespec, TRASH_INODE, toIno } from '../../../src/meta/types.js';
import { tmpDir } from '../../helpers/tmp.js';

export const NOW: Timespec = { sec: 1_700_000_000, nsec: 123_456_789 };

export function attrOf(type: FileType, parent: Ino, opts: Partial<Attr> = {}, now: Timespec = NOW): Attr {
  const dir = type === FileType.Directory;
  return {
    flags: 0, type, mode: dir ? 0o755 : 0o644, uid: 1000, gid: 1000,
    atime: now.sec, atimeNs: now.nsec, mtime: now.sec, mtimeNs: now.nsec, ctime: now.sec, ctimeNs: now.nsec,
    nlink: dir ? 2 : 1, length: dir ? 4096 : 0, rdev: 0, parent, accessAclId: 0, defaultAclId: 0, tier: 0,
    ...opts,
  };
}

export interface Fixture {
  engine: SqliteEngine;
  path: string;
  url: string;
  /** Raw connection for row checks (integers as bigint). */
  raw: Database.Database;
  /** Next inode to hand to doMknod. */
  ino(): Ino;
  close(): Promise<void>;
}

export const SETTING = JSON.stringify({ Name: 'test', UUID: '00000000-0000-4000-8000-000000000000', TrashDays: 1 });

/** A formatted volume (root 1, trash root) in a fresh temp file. */
export async function freshVolume(opts: { trash?: boolean } = {}): Promise<Fixture> {
  const path = join(tmpDir('ferry-sqlite-'), 'meta.db');
  const url = `sqlite3://${path}`;
  const engine = openSqliteEngine(url);
  const root = attrOf(FileType.Directory, ROOT_INODE, { mode: 0o777 });
  const trash = opts.trash === false ? null : attrOf(FileType.Directory, ROOT_INODE, { mode: 0o555 });
  await engine.doFormat(SETTING, root, trash);
  const raw = new Database(path);
  raw.defaultSafeIntegers(true);
  let next = await engine.allocateIds('inode', 100);
  return {
    engine, path, url, raw,
    ino: () => toIno(next++),
    async close() {
      raw.close();
      await engine.close();
    },
  };
}

export const name = (s: string): Buffer => Buffer.from(s);
export { FileType, ROOT_INODE, TRASH_INODE, toIno };
