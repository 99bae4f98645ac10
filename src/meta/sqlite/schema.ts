/**
 * The JuiceFS SQL schema (spec §C.2) as SQLite DDL, written the way xorm's SQLite dialect writes it
 * (backquoted names, INTEGER/TEXT/BLOB affinities, `UQE_<table>_<name>` / `IDX_<table>_<name>`
 * indexes) so a JuiceFS client accepts a file we created and we accept one it created.
 * Schema sync only ever adds: missing tables, columns and indexes. It never drops or alters.
 */
import type { Database } from 'better-sqlite3';
import { nodeColumns } from './node-row.js';

interface Column {
  name: string;
  /** Column definition after the name, as xorm emits it. */
  def: string;
}

interface Index {
  name: string;
  unique: boolean;
  columns: string[];
}

interface Table {
  /** Logical name without the prefix, e.g. 'edge'. */
  name: string;
  columns: Column[];
  /** Composite primary key (xorm appends it as a table constraint). */
  primaryKey?: string[];
  indexes: Index[];
}

const col = (name: string, def: string): Column => ({ name, def });
const INT_NN = 'INTEGER NOT NULL';
const INT_NULL = 'INTEGER NULL';
const AUTO_PK = 'INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL';
const INT_PK = 'INTEGER PRIMARY KEY NOT NULL';

/** Tables in JuiceFS's struct order (pkg/meta/sql.go), columns in field order. */
const TABLES: Table[] = [
  { name: 'setting', columns: [col('name', 'TEXT PRIMARY KEY NOT NULL'), col('value', 'TEXT NOT NULL')], indexes: [] },
  { name: 'counter', columns: [col('name', 'TEXT PRIMARY KEY NOT NULL'), col('value', INT_NN)], indexes: [] },
  {
    name: 'edge',
    columns: [col('id', AUTO_PK), col('parent', INT_NN), col('name', 'BLOB NOT NULL'), col('inode', INT_NN), col('type', INT_NN)],
    indexes: [{ name: 'edge', unique: true, columns: ['parent', 'name'] }, { name: 'inode', unique: false, columns: ['inode'] }],
  },
  {
    name: 'node',
    columns: [
      col('inode', INT_PK), col('type', INT_NN), col('flags', INT_NN), col('mode', INT_NN), col('uid', INT_NN),
      col('gid', INT_NN), col('atime', INT_NN), col('mtime', INT_NN), col('ctime', INT_NN),
      col('atimensec', 'INTEGER DEFAULT 0 NOT NULL'), col('mtimensec', 'INTEGER DEFAULT 0 NOT NULL'),
      col('ctimensec', 'INTEGER DEFAULT 0 NOT NULL'), col('nlink', INT_NN), col('length', INT_NN),
      col('rdev', INT_NULL), col('parent', INT_NULL), col('access_acl_id', INT_NULL), col('default_acl_id', INT_NULL),
      col('tier_id', INT_NULL),
    ],
    indexes: [],
  },
  { name: 'symlink', columns: [col('inode', INT_PK), col('target', 'BLOB NOT NULL')], indexes: [] },
  {
    name: 'xattr',
    columns: [col('id', AUTO_PK), col('inode', INT_NN), col('name', 'TEXT NOT NULL'), col('value', 'BLOB NOT NULL')],
    indexes: [{ name: 'name', unique: true, columns: ['inode', 'name'] }],
  },
  {
    name: 'chunk',
    columns: [col('id', AUTO_PK), col('inode', INT_NN), col('indx', INT_NN), col('slices', 'BLOB NOT NULL')],
    indexes: [{ name: 'chunk', unique: true, columns: ['inode', 'indx'] }],
  },
  {
    name: 'chunk_ref',
    columns: [col('chunkid', INT_PK), col('size', INT_NN), col('refs', INT_NN)],
    indexes: [{ name: 'refs', unique: false, columns: ['refs'] }],
  },
  { name: 'delslices', columns: [col('chunkid', INT_PK), col('deleted', INT_NN), col('slices', 'BLOB NOT NULL')], indexes: [] },
  { name: 'session2', columns: [col('sid', INT_PK), col('expire', INT_NN), col('info', 'BLOB NULL')], indexes: [] },
  {
    name: 'sustained',
    columns: [col('id', AUTO_PK), col('sid', INT_NN), col('inode', INT_NN)],
    indexes: [{ name: 'sustained', unique: true, columns: ['sid', 'inode'] }],
  },
  { name: 'delfile', columns: [col('inode', INT_PK), col('length', INT_NN), col('expire', INT_NN)], indexes: [] },
  {
    name: 'flock',
    columns: [col('id', AUTO_PK), col('inode', INT_NN), col('sid', INT_NN), col('owner', INT_NN), col('ltype', INT_NN)],
    indexes: [{ name: 'flock', unique: true, columns: ['inode', 'sid', 'owner'] }],
  },
  {
    name: 'plock',
    columns: [col('id', AUTO_PK), col('inode', INT_NN), col('sid', INT_NN), col('owner', INT_NN), col('records', 'BLOB NOT NULL')],
    indexes: [{ name: 'plock', unique: true, columns: ['inode', 'sid', 'owner'] }],
  },
  {
    name: 'dir_quota',
    columns: [col('inode', INT_PK), col('max_space', INT_NN), col('max_inodes', INT_NN), col('used_space', INT_NN), col('used_inodes', INT_NN)],
    indexes: [],
  },
  {
    name: 'user_group_quota',
    columns: [
      col('qtype', INT_NN), col('qkey', INT_NN), col('max_space', INT_NN), col('max_inodes', INT_NN),
      col('used_space', INT_NN), col('used_inodes', INT_NN),
    ],
    primaryKey: ['qtype', 'qkey'],
    indexes: [],
  },
  {
    name: 'dir_stats',
    columns: [col('inode', INT_PK), col('data_length', INT_NN), col('used_space', INT_NN), col('used_inodes', INT_NN)],
    indexes: [],
  },
  { name: 'detached_node', columns: [col('inode', INT_PK), col('added', INT_NN)], indexes: [] },
  {
    name: 'acl',
    columns: [
      col('id', AUTO_PK), col('owner', INT_NULL), col('group', INT_NULL), col('mask', INT_NULL), col('other', INT_NULL),
      col('named_users', 'BLOB NULL'), col('named_groups', 'BLOB NULL'),
    ],
    indexes: [],
  },
  { name: 'delegation_token', columns: [col('id', AUTO_PK), col('token', 'BLOB NULL')], indexes: [] },
  { name: 'change_log', columns: [col('id', AUTO_PK), col('entry', 'TEXT NOT NULL')], indexes: [] },
];

/**
 * Physical table names for a prefix: `jfs_` by default, `jfs_<p>_` for `?table_prefix=<p>`.
 * Keys are the logical names used throughout the engine.
 */
export interface TableNames {
  readonly prefix: string;
  readonly setting: string;
  readonly counter: string;
  readonly edge: string;
  readonly node: string;
  readonly symlink: string;
  readonly xattr: string;
  readonly chunk: string;
  readonly chunkRef: string;
  readonly delslices: string;
  readonly session2: string;
  /** Legacy session table of JuiceFS < 1.0-beta3; never created by us. */
  readonly session: string;
  readonly sustained: string;
  readonly delfile: string;
  readonly flock: string;
  readonly plock: string;
  readonly dirQuota: string;
  readonly userGroupQuota: string;
  readonly dirStats: string;
  readonly detachedNode: string;
  readonly acl: string;
  readonly delegationToken: string;
  readonly changeLog: string;
  /** Ferry's own index for readdir paging (not part of JuiceFS's schema). */
  readonly readdirIndex: string;
  /** Ferry's own WebDAV lock table (not part of JuiceFS's schema): `token` -> `value`. */
  readonly davLock: string;
}

export function tableNames(tablePrefix = ''): TableNames {
  const prefix = tablePrefix === '' ? 'jfs_' : `jfs_${tablePrefix}_`;
  const t = (n: string): string => prefix + n;
  return {
    prefix,
    setting: t('setting'), counter: t('counter'), edge: t('edge'), node: t('node'), symlink: t('symlink'),
    xattr: t('xattr'), chunk: t('chunk'), chunkRef: t('chunk_ref'), delslices: t('delslices'),
    session2: t('session2'), session: t('session'), sustained: t('sustained'), delfile: t('delfile'),
    flock: t('flock'), plock: t('plock'), dirQuota: t('dir_quota'), userGroupQuota: t('user_group_quota'),
    dirStats: t('dir_stats'), detachedNode: t('detached_node'), acl: t('acl'),
    delegationToken: t('delegation_token'), changeLog: t('change_log'),
    readdirIndex: `ferry_${prefix}edge_readdir`,
    davLock: `ferry_${prefix}dav_lock`,
  };
}

const q = (name: string): string => `\`${name}\``;

function createTableSql(table: string, def: Table): string {
  const cols = def.columns.map((c) => `${q(c.name)} ${c.def}`);
  if (def.primaryKey !== undefined) cols.push(`PRIMARY KEY ( ${def.primaryKey.map(q).join(',')} )`);
  return `CREATE TABLE IF NOT EXISTS ${q(table)} (${cols.join(', ')})`;
}

function createIndexSql(table: string, idx: Index): string {
  const name = `${idx.unique ? 'UQE' : 'IDX'}_${table}_${idx.name}`;
  return `CREATE ${idx.unique ? 'UNIQUE ' : ''}INDEX IF NOT EXISTS ${q(name)} ON ${q(table)} (${idx.columns.map(q).join(',')})`;
}

/**
 * Ferry's WebDAV lock table: one row per lock by token, and the row with the empty token holding
 * the table's version (decimal text). JuiceFS's schema sync and dumps leave unknown tables alone.
 */
export function davLockTableSql(names: TableNames): string {
  return `CREATE TABLE IF NOT EXISTS ${q(names.davLock)} (${q('token')} TEXT PRIMARY KEY NOT NULL, ${q('value')} BLOB NOT NULL)`;
}

/**
 * Every DDL statement of the schema, in order, then Ferry's own lock table and readdir index. The
 * index is on jfs_edge(parent): its entries are (parent, rowid) and rowid is `id`, so
 * `WHERE parent=? AND id>? ORDER BY id LIMIT n` is a range scan that needs no sort.
 * A JuiceFS client's schema sync (xorm Sync2) drops indexes it does not know; we recreate it
 * on every open, and readdir stays correct (only slower) while it is missing.
 */
export function schemaStatements(names: TableNames): string[] {
  const out: string[] = [];
  for (const def of TABLES) {
    const table = names.prefix + def.name;
    out.push(createTableSql(table, def));
    for (const idx of def.indexes) out.push(createIndexSql(table, idx));
  }
  out.push(davLockTableSql(names));
  out.push(readdirIndexSql(names));
  return out;
}

/** CREATE statement of Ferry's readdir index (also run again when a JuiceFS sync dropped it). */
export function readdirIndexSql(names: TableNames): string {
  return `CREATE INDEX IF NOT EXISTS ${q(names.readdirIndex)} ON ${q(names.edge)} (${q('parent')})`;
}

/**
 * One readdir page: entries of `parent` with id > `after`, in id order, `limit` rows; with
 * `plus` each row also carries the node columns in NODE_COLUMNS order (NULL when the node is
 * missing).
 * INDEXED BY pins the plan to the readdir index: with statistics SQLite may otherwise prefer a
 * rowid range scan that filters on parent, which is O(entries after the cursor in the whole
 * table) rather than O(page) when directories interleave unevenly.
 */
export function readdirSql(names: TableNames, plus: boolean): string {
  const e = `${names.edge} AS e INDEXED BY ${names.readdirIndex}`;
  return plus
    ? `SELECT e.id AS e_id, CAST(e.name AS BLOB) AS e_name, e.inode AS e_inode, e.type AS e_type, ${nodeColumns('n')} ` +
      `FROM ${e} LEFT JOIN ${names.node} AS n ON n.inode=e.inode WHERE e.parent=? AND e.id>? ORDER BY e.id LIMIT ?`
    : `SELECT e.id AS e_id, CAST(e.name AS BLOB) AS e_name, e.inode AS e_inode, e.type AS e_type ` +
      `FROM ${e} WHERE e.parent=? AND e.id>? ORDER BY e.id LIMIT ?`;
}

/**
 * Creates what is missing: tables, indexes, and columns that an older JuiceFS schema lacks
 * (xorm adds columns the same way). Existing rows and definitions are left alone.
 */
export function ensureSchema(db: Database, names: TableNames): void {
  db.transaction(() => {
    for (const sql of schemaStatements(names)) db.exec(sql);
    for (const def of TABLES) {
      const table = names.prefix + def.name;
      const have = new Set((db.prepare(`PRAGMA table_info(${q(table)})`).all() as { name: string }[]).map((r) => r.name));
      for (const c of def.columns) {
        if (have.has(c.name)) continue;
        // ALTER TABLE cannot add NOT NULL without a default nor a PRIMARY KEY; such columns are
        // never missing from a table JuiceFS created, so only nullable/defaulted ones are added.
        const addable = !c.def.includes('PRIMARY KEY') && (!c.def.includes('NOT NULL') || c.def.includes('DEFAULT'));
        if (addable) db.exec(`ALTER TABLE ${q(table)} ADD COLUMN ${q(c.name)} ${c.def}`);
      }
    }
  }).immediate();
}

/** True when the table exists (used for the legacy `jfs_session` table). */
export function tableExists(db: Database, table: string): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE type='table' AND name=?`).pluck().get(table) !== undefined;
}
