import { nextRedisDb, sharedRedis } from '../../helpers/hooks.js';
import { openRedisEngine } from '../../../src/meta/redis/engine.js';
import { Redis } from 'ioredis';
import { adminScanConformance } from './admin-scan.js';
import { compactConformance } from './compact.js';
import { type EngineUnderTest, metaConformance } from './suite.js';

async function freshEngine(): Promise<EngineUnderTest> {
  const srv = await sharedRedis();
  const db = nextRedisDb();
  const raw = new Redis({ host: '127.0.0.1', port: srv.port, db, lazyConnect: true });
  await raw.connect();
  await raw.flushdb();
  raw.disconnect();
  const engine = await openRedisEngine(srv.url(db));
  return { engine, cleanup: () => engine.close() };
}

metaConformance('redis', freshEngine);
compactConformance('redis', freshEngine);
adminScanConformance('redis', freshEngine);
