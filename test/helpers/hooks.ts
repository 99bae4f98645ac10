/**
 * Mocha root hooks: one redis-server per test run, started lazily by the first suite that asks
 * for it (sharedRedis()) and stopped by PID when the run ends; temp dirs removed.
 * Each test gets its own logical db from nextRedisDb() so tests never share keys.
 */
import { startRedis, type RedisServer } from './redis-server.js';
import { removeTmpDirs } from './tmp.js';

process.env['NODE_ENV'] = 'test';

let redis: Promise<RedisServer> | null = null;
let nextDb = 1;

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

export const mochaHooks = {
  async afterAll(): Promise<void> {
    if (redis !== null) await (await redis).stop();
    removeTmpDirs();
  },
};
