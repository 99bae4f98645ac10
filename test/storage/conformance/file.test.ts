import { FileObjectStore } from '../../../src/storage/file.js';
import { tmpDir } from '../../helpers/tmp.js';
import { storageConformance } from './suite.js';

storageConformance('file', () => new FileObjectStore(`${tmpDir('ferry-file-store-')}/`));
