/**
 * COPY (RFC 4918 §9.8): Depth 0 or infinity; files are cloned with vfs.copyRange (slice
 * references, no data copied), dead properties travel along. Logic shared with MOVE in transfer.ts.
 */
import type { DavMethod } from '../context.js';
import { transfer } from './transfer.js';

export const copy: DavMethod = {
  name: 'COPY',
  body: 'none',
  modifies: true,
  handle: (r) => transfer(r, false),
};
