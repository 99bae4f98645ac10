import { MemoryEngine } from '../../../src/meta/memory/engine.js';
import { metaConformance } from './suite.js';

metaConformance('memory', async () => ({ engine: new MemoryEngine(), cleanup: async () => {} }));
