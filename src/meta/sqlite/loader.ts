/**
 * VolumeLoader for `ferry load` into an empty SQLite volume (spec §H): its own connection holds
 * one BEGIN IMMEDIATE transaction from open() to commit(), rows go in through prepared statements
 * as the dump is read, so nothing is visible to anyone until COMMIT. Values are stored in SQL
 * meaning: chunk_ref holds the real refcount, counters the next unused id. Any failure rolls the
 * whole load back; the loader is unusable afterwards.
 */
import type Database from 'better-sqlite3';
import type { AclRule, Counters, DelFile, DirStats, Quota, VolumeLoader } from '../engine.js';
import { encodeSlices } from '../encoding.js';
import type { Attr, ChunkIndex, FileType, Ino, SliceId, SliceRecord } from '../types.js';
import { Errno, FsError } from '../../util/errno.js';
import { encodeNamedPerms } from './acl-row.js';
import { openDatabase } from './database.js';
import { toFsError } from './errors.js';
import { attrToNodeParams, NODE_COLUMNS } from './node-row.js';
import type { TableNames } from './schema.js';

type Run = (...params: unknown[]) => void;

export class SqliteLoader implements VolumeLoader {
  readonly #db: Database.Database;
  readonly #t: TableNames;
  readonly #stmts = new Map<string, Database.Statement<unknown[]>>();
  #failed: FsError | null = null;
  #done = false;

  private constructor(db: Database.Database, names: TableNames) {
    this.#db = db;
    this.#t = names;
  }

  /** Opens a second connection on `path` and starts the load transaction. */
  static open(path: string, names: TableNames): SqliteLoader {
    const db = openDatabase(path, names);
    try {
      db.exec('BEGIN IMMEDIATE');
    } catch (err) {
      db.close();
      throw err;
    }
    return new SqliteLoader(db, names);
  }

  /** Runs one statement inside the load transaction; the first failure aborts the load. */
  #run(op: string, sql: string, ...params: unknown[]): void {
    if (this.#failed !== null) throw this.#failed;
    if (this.#done) throw new FsError(Errno.EINVAL, `load already committed (${op})`);
    try {
      let st = this.#stmts.get(sql);
      if (st === undefined) {
        st = this.#db.prepare<unknown[]>(sql);
        this.#stmts.set(sql, st);
      }
      (st.run as Run)(...params);
    } catch (err) {
      this.#failed = toFsError(err, `load ${op}`);
      this.#abort();
      throw this.#failed;
    }
  }

  #abort(): void {
    if (!this.#db.open) return;
    if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
    this.#db.close();
  }

  setting(json: string): void {
    this.#run('setting', `INSERT OR REPLACE INTO ${this.#t.setting} (name, value) VALUES ('format', ?)`, json);
  }

  node(ino: Ino, attr: Attr): void {
    this.#run('node', `INSERT OR REPLACE INTO ${this.#t.node} (${NODE_COLUMNS.join(',')}) VALUES (${NODE_COLUMNS.map((c) => `@${c}`).join(',')})`,
      attrToNodeParams(ino, attr));
  }

  entry(parent: Ino, name: Buffer, type: FileType, ino: Ino): void {
    this.#run('entry', `INSERT INTO ${this.#t.edge} (parent, name, inode, type) VALUES (?,?,?,?)`, parent, name, ino, type);
  }

  /** SQL has no parents table: the edges already say it. */
  parents(_ino: Ino, _counts: ReadonlyMap<Ino, number>): void {}

  symlink(ino: Ino, target: Buffer): void {
    this.#run('symlink', `INSERT OR REPLACE INTO ${this.#t.symlink} (inode, target) VALUES (?,?)`, ino, target);
  }

  xattr(ino: Ino, name: Buffer, value: Buffer): void {
    this.#run('xattr', `INSERT OR REPLACE INTO ${this.#t.xattr} (inode, name, value) VALUES (?, CAST(? AS TEXT), ?)`, ino, name, value);
  }

  chunk(ino: Ino, indx: ChunkIndex, slices: readonly SliceRecord[]): void {
    this.#run('chunk', `INSERT OR REPLACE INTO ${this.#t.chunk} (inode, indx, slices) VALUES (?,?,?)`, ino, indx, encodeSlices(slices));
  }

  sliceRef(id: SliceId, size: number, refs: number): void {
    this.#run('sliceRef', `INSERT OR REPLACE INTO ${this.#t.chunkRef} (chunkid, size, refs) VALUES (?,?,?)`, id, size, refs);
  }

  dirStats(ino: Ino, s: DirStats): void {
    this.#run('dirStats', `INSERT OR REPLACE INTO ${this.#t.dirStats} (inode, data_length, used_space, used_inodes) VALUES (?,?,?,?)`,
      ino, s.dataLength, s.usedSpace, s.usedInodes);
  }

  dirQuota(ino: Ino, q: Quota): void {
    this.#run('dirQuota', `INSERT OR REPLACE INTO ${this.#t.dirQuota} (inode, max_space, max_inodes, used_space, used_inodes) VALUES (?,?,?,?,?)`,
      ino, q.maxSpace, q.maxInodes, q.usedSpace, q.usedInodes);
  }

  userGroupQuota(kind: 'user' | 'group', id: number, q: Quota): void {
    this.#run('userGroupQuota',
      `INSERT OR REPLACE INTO ${this.#t.userGroupQuota} (qtype, qkey, max_space, max_inodes, used_space, used_inodes) VALUES (?,?,?,?,?,?)`,
      kind === 'user' ? 1 : 2, id, q.maxSpace, q.maxInodes, q.usedSpace, q.usedInodes);
  }

  acl(id: number, r: AclRule): void {
    this.#run('acl', `INSERT OR REPLACE INTO ${this.#t.acl} (id, owner, "group", mask, other, named_users, named_groups) VALUES (?,?,?,?,?,?,?)`,
      id, r.owner, r.group, r.mask, r.other, encodeNamedPerms(r.users), encodeNamedPerms(r.groups));
  }

  delFile(f: DelFile): void {
    this.#run('delFile', `INSERT OR REPLACE INTO ${this.#t.delfile} (inode, length, expire) VALUES (?,?,?)`, f.ino, f.length, f.expire);
  }

  sustained(sid: number, ino: Ino): void {
    this.#run('sustained', `INSERT OR IGNORE INTO ${this.#t.sustained} (sid, inode) VALUES (?,?)`, sid, ino);
  }

  counters(c: Counters): void {
    const values: [string, bigint | number][] = [
      ['nextInode', c.nextInode], ['nextChunk', c.nextChunk], ['nextSession', c.nextSession],
      ['usedSpace', c.usedSpace], ['totalInodes', c.usedInodes], ['nextTrash', c.nextTrash],
    ];
    for (const [name, value] of values) {
      this.#run('counters', `INSERT OR REPLACE INTO ${this.#t.counter} (name, value) VALUES (?,?)`, name, value);
    }
  }

  /** Rolls the whole load back (a malformed dump); the loader is unusable afterwards. */
  async abort(): Promise<void> {
    if (this.#done) return;
    this.#failed ??= new FsError(Errno.EINVAL, 'load aborted');
    this.#abort();
  }

  async commit(): Promise<void> {
    if (this.#failed !== null) throw this.#failed;
    if (this.#done) return;
    try {
      this.#db.exec('COMMIT');
      this.#done = true;
    } catch (err) {
      this.#failed = toFsError(err, 'load commit');
      this.#abort();
      throw this.#failed;
    }
    this.#db.close();
  }
}
