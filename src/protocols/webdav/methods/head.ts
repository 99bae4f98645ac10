/**
 * HEAD (RFC 7231 §4.3.2): GET's status and headers without the body; shares get.ts's logic so the
 * two never disagree.
 */
import type { DavMethod } from '../context.js';
import { serveResource } from './get.js';

export const head: DavMethod = {
  name: 'HEAD',
  body: 'none',
  modifies: false,
  handle: (r) => serveResource(r, true),
};
