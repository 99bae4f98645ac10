/**
 * Test fixture for the Redis engine: a fresh, flushed logical db on the run's redis-server, an
 * engine formatted with a root inode, a raw ioredis client to inspect keys byte by byte, and
 * attr/time builders. Callers must await cleanup() (closes both clients).
 */
import { Redis } from 'ioredis';
import { nextRedisDb, sharedRedis } from '../../helpers/hooks.js';
import { openRedisEngine, type RedisEngine, type RedisEngineOptions } from '../../../src/meta/redis/engine.js';
import { type Attr, type Ino, type Timespec, FileType, ROOT_INODE, toIno } from '../../../src/meta/types.js';

export interface Fixture {
  engine: RedisEngine;
  raw: Redis;
  db: number;
  url: string;
  cleanup(): Promise<void>;
}

export const SETTING = JSON.stringify({ Name: 'test', UUID: '00000000-0000-4000-8000-000000000000', Storage: 'file', Bucket: '/tmp/x/', BlockSize: 4096, TrashDays: 0, EnableACL: false, DirStats: true });

export async function freshRedis(opts: RedisEngineOptions = {}, format = true): Promise<Fixture> {
  const srv = await sharedRedis();
  const db = nextRedisDb();
  const raw = new Redis({ host: '127.0.0.1', port: srv.port, db });
  await raw.flushdb();
  const engine = await openRedisEngine(srv.url(db), opts);
  if (format) await engine.doFormat(SETTING, dirAttr({ parent: ROOT_INODE, mode: 0o777 }), null);
  return {
    engine, raw, db, url: srv.url(db),
    async cleanup() {
      await engine.close();
      raw.disconnect();
    },
  };
}

let clock = 1_700_000_000;
/** Strictly increasing times, one second apart (so parent-mtime "touch" always applies). */
export function tick(): Timespec {
  clock += 1;
  return { sec: clock, nsec: 123 };
}

export function fileAttr(over: Partial<Attr> = {}): Attr {
  const t = tick();
  return {
    flags: 0, type: FileType.File, mode: 0o644, uid: 1000, gid: 1000,
    atime: t.sec, atimeNs: t.nsec, mtime: t.sec, mtimeNs: t.nsec, ctime: t.sec, ctimeNs: t.nsec,
    nlink: 1, length: 0, rdev: 0, parent: ROOT_INODE, accessAclId: 0, defaultAclId: 0, tier: 0, ...over,
  };
}

export function dirAttr(over: Partial<Attr> = {}): Attr {
  return fileAttr({ type: FileType.Directory, mode: 0o755, nlink: 2, length: 4096, ...over });
}

/** Inode ids for tests: allocated from the engine like BaseMeta does (skipping ids <= 1). */
export async function newIno(engine: RedisEngine): Promise<Ino> {
  for (;;) {
    const first = await engine.allocateIds('inode', 1);
    if (first > 1n) return toIno(first);
  }
}

export const name = (s: string): Buffer => Buffer.from(s);

/** Creates a child through the engine and returns its inode. */
export async function mk(engine: RedisEngine, parent: Ino, n: string, type: FileType = FileType.File, target?: string): Promise<Ino> {
  const ino = await newIno(engine);
  const attr = type === FileType.Directory ? dirAttr({ parent }) : fileAttr({ parent, type, length: target === undefined ? 0 : Buffer.byteLength(target) });
  const t = { parent, name: name(n), ino, attr, onExist: 'fail' as const, now: tick() };
  await engine.doMknod(target === undefined ? t : { ...t, symlinkTarget: Buffer.from(target) });
  return ino;
}
