/** Runs the vfs suite once per matrix row of this branch (test/vfs/rig.ts). */
import { ROWS } from './rig.js';
import { vfsSuite } from './suite.js';

for (const row of ROWS) vfsSuite(row);
