// The shared meta conformance suite on the SQLite engine: each test a fresh db file in its own
// temp dir (spec §C; the engine opens it with WAL and creates the schema).
import { join } from 'node:path';
import { openSqliteEngine } from '../../../src/meta/sqlite/engine.js';
import { tmpDir } from '../../helpers/tmp.js';
import { adminScanConformance } from './admin-scan.js';
import { compactConformance } from './compact.js';
import { type EngineUnderTest, metaConformance } from './suite.js';

async function freshEngine(): Promise<EngineUnderTest> {
  const engine = openSqliteEngine(`sqlite3://${join(tmpDir('ferry-sqlite-conf-'), 'meta.db')}`);
  return { engine, cleanup: () => engine.close() };
}

metaConformance('sqlite', freshEngine);
compactConformance('sqlite', freshEngine);
adminScanConformance('sqlite', freshEngine);
