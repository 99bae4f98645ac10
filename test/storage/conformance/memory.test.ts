import { MemoryObjectStore } from '../../../src/storage/memory.js';
import { storageConformance } from './suite.js';

storageConformance('memory', () => new MemoryObjectStore());
