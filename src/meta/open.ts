/**
 * Opens a metadata engine from its URL and wraps it in BaseMeta: `redis://`, `rediss://`,
 * `unix://` (Redis, spec §B.1), `sqlite3://` (SQLite, §C.1), `memory://` (an empty in-process
 * engine for tests and experiments). Does not load the setting or register a session.
 */
import { Errno, FsError } from '../util/errno.js';
import { BaseMeta } from './base.js';
import type { MetaEngine } from './engine.js';
import { MemoryEngine } from './memory/engine.js';
import type { Meta } from './meta.js';
import { openSqliteEngine } from './sqlite/engine.js';

export interface OpenOptions {
  /** No writes and no session (status, dump). */
  readOnly?: boolean;
}

/** How a long-running server opens its engine (one-shot tools take the defaults). */
export interface EngineOptions {
  /** SQLite: WAL checkpoints in a worker thread, off the event loop (sqlite/checkpoints.ts). */
  backgroundCheckpoints?: boolean;
}

/** The engine for a meta URL; EINVAL for an unknown scheme. */
export async function openEngine(url: string, opts: EngineOptions = {}): Promise<MetaEngine> {
  const scheme = /^([a-z0-9+.-]+):\/\//i.exec(url)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'redis':
    case 'rediss':
    case 'unix':
      // loaded on demand: a process on another engine does not load the Redis client
      return (await import('./redis/engine.js')).openRedisEngine(url);
    case 'sqlite3':
      return openSqliteEngine(url, { backgroundCheckpoints: opts.backgroundCheckpoints ?? false });
    case 'memory':
      return new MemoryEngine();
    default:
      throw new FsError(Errno.EINVAL, `unsupported meta URL scheme ${scheme === undefined ? '(none)' : JSON.stringify(scheme)}; use redis://, rediss://, unix://, sqlite3:// or memory://`);
  }
}

export async function openMeta(url: string, opts: OpenOptions = {}): Promise<{ meta: Meta; engine: MetaEngine }> {
  const engine = await openEngine(url);
  return { meta: new BaseMeta(engine, { readOnly: opts.readOnly ?? false }), engine };
}
