import { MemoryEngine } from '../../../src/meta/memory/engine.js';
import { adminScanConformance } from './admin-scan.js';
import { compactConformance } from './compact.js';
import { metaConformance } from './suite.js';

metaConformance('memory', async () => ({ engine: new MemoryEngine(), cleanup: async () => {} }));
compactConformance('memory', async () => ({ engine: new MemoryEngine(), cleanup: async () => {} }));
adminScanConformance('memory', async () => ({ engine: new MemoryEngine(), cleanup: async () => {} }));
