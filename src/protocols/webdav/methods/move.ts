/**
 * MOVE (RFC 4918 §9.9): one vfs rename (atomic in the metadata engine); Depth must be infinity.
 * Locks rooted at the source are dropped (§7.7: locks do not move). Shared logic in transfer.ts.
 */
import type { DavMethod } from '../context.js';
import { transfer } from './transfer.js';

export const move: DavMethod = {
  name: 'MOVE',
  body: 'none',
  modifies: true,
  handle: (r) => transfer(r, true),
};
