/**
 * Mocha root hooks: one redis-server and one s3rver per test run, each started lazily by the first
 * suite that asks for it (sharedRedis(), sharedS3rver()) and stopped by PID when the run ends;
 * temp dirs removed. Each test gets its own logical db from nextRedisDb() and its own key prefix
 * from nextS3Prefix() so tests never share keys.
 */
import { Redis } from 'ioredis';
import { startRedis, type RedisServer } from './redis-server.js';
import { startS3rver, type S3rverServer } from './s3rver.js';
import { removeTmpDirs } from './tmp.js';

process.env['NODE_ENV'] = 'test';

let redis: Promise<RedisServer> | null = null;
let nextDb = 1;
let s3rver: Promise<S3rverServer> | null = null;
let nextPrefix = 1;

/** The run's redis-server, started on first use. */
export function sharedRedis(): Promise<RedisServer> {
  redis ??= startRedis();
  return redis;
}

/** A fresh logical db number (1..255), cycling; callers flush it before use. */
export function nextRedisDb(): number {
  const db = nextDb;
  nextDb = nextDb >= 255 ? 1 : nextDb + 1;
  return db;
}

/** The URL of a fresh logical db of the run's redis-server (nextRedisDb()), flushed. */
export async function freshRedisUrl(): Promise<string> {
  const srv = await sharedRedis();
  const db = nextRedisDb();
  const raw = new Redis({ host: '127.0.0.1', port: srv.port, db, lazyConnect: true });
  try {
    await raw.connect();
    await raw.flushdb();
  } finally {
    raw.disconnect();
  }
  return srv.url(db);
}

/** The run's s3rver with its bucket, started on first use. */
export function sharedS3rver(): Promise<S3rverServer> {
  s3rver ??= startS3rver();
  return s3rver;
}

/** A key prefix no other test of this run uses, e.g. `t17-<pid>/`. */
export function nextS3Prefix(): string {
  return `t${nextPrefix++}-${process.pid}/`;
}

export const mochaHooks = {
  async afterAll(): Promise<void> {
    if (redis !== null) await (await redis).stop();
    if (s3rver !== null) await (await s3rver).stop();
    removeTmpDirs();
  },
};
