import { MemoryEngine } from '../../../src/meta/memory/engine.js';
import { compactConformance } from './compact.js';
import { metaConformance } from './suite.js';

metaConformance('memory', async () => ({ engine: new MemoryEngine(), cleanup: async () => {} }));
compactConformance('memory', async () => ({ engine: new MemoryEngine(), cleanup: async () => {} }));
