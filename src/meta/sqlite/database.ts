/**
 * Opens a SQLite file the way Ferry's engine and loader use it (spec §C.1): WAL journal and a
 * 5000 ms busy timeout, as JuiceFS does, so both can work on the same file; integers are read as
 * bigint (inode numbers reach 2^63). Creates the schema when missing. Nothing else.
 */
import Database from 'better-sqlite3';
import { ensureSchema, type TableNames } from './schema.js';

export const BUSY_TIMEOUT_MS = 5000;

export function openDatabase(path: string, names: TableNames, busyTimeoutMs = BUSY_TIMEOUT_MS): Database.Database {
  const db = new Database(path);
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    db.pragma('journal_mode = WAL');
    db.defaultSafeIntegers(true);
    ensureSchema(db, names);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}
