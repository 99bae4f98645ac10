/**
 * The method table (STYLE.md §3): one module per RFC 4918 method, looked up by name. The server
 * owns no other routing.
 */
import type { DavMethod } from '../context.js';
import { copy } from './copy.js';
import { del } from './delete.js';
import { get } from './get.js';
import { head } from './head.js';
import { lock } from './lock.js';
import { mkcol } from './mkcol.js';
import { move } from './move.js';
import { options } from './options.js';
import { propfind } from './propfind.js';
import { proppatch } from './proppatch.js';
import { put } from './put.js';
import { unlock } from './unlock.js';

export const METHODS: ReadonlyMap<string, DavMethod> = new Map(
  [options, get, head, put, del, mkcol, copy, move, propfind, proppatch, lock, unlock].map((m) => [m.name, m]),
);
