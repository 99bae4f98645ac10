import { freshRedisUrl } from '../../helpers/hooks.js';
import { openRedisEngine } from '../../../src/meta/redis/engine.js';
import { adminScanConformance } from './admin-scan.js';
import { compactConformance } from './compact.js';
import { type EngineUnderTest, metaConformance } from './suite.js';

async function freshEngine(): Promise<EngineUnderTest> {
  const engine = await openRedisEngine(await freshRedisUrl());
  return { engine, cleanup: () => engine.close() };
}

metaConformance('redis', freshEngine);
compactConformance('redis', freshEngine);
adminScanConformance('redis', freshEngine);
