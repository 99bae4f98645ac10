/**
 * PROPFIND (RFC 4918 §9.1): allprop (with include), propname and named properties, Depth 0 and
 * 1; Depth infinity is 403 propfind-finite-depth unless enabled. The 207 body is streamed: a
 * Depth 1 listing pulls readdir-plus pages only as the response drains, preparing a bounded window
 * of entries concurrently. Collection hrefs end in '/'.
 */
import { type Attr, type Ino } from '../../../vfs/types.js';
import { activeLock, type DavMethod, header, type DavRequest, davAttr, isDir, readDeadProps, resolvePath } from '../context.js';
import { parseDepth } from '../headers.js';
import type { LockRecord } from '../locks.js';
import { encodeHref } from '../href.js';
import { type LivePropContext, liveProp, propfindPropstats } from '../props.js';
import { httpError } from '../status.js';
import { MultistatusWriter } from '../xml/build.js';
import { parsePropfind, type PropfindRequest } from '../xml/parse.js';
import { DAV_NS } from '../xml/types.js';

const DOT = Buffer.from('.');
const DOTDOT = Buffer.from('..');
/**
 * Entries of a listing whose properties (attributes, dead-property xattr, locks) are fetched at
 * once while earlier responses are written: hides one metadata round-trip per entry, yet memory
 * stays bounded whatever the directory size.
 */
const PREFETCH = 64;

/** An entry of the listing whose response is being prepared. */
interface Pending {
  readonly ino: Ino;
  readonly segments: readonly Buffer[];
  readonly ready: Promise<{ attr: Attr; response: Awaited<ReturnType<typeof responseFor>> }>;
}

function wants(req: PropfindRequest, name: string): boolean {
  return req.kind === 'allprop' || req.kind === 'propname' || req.props.some((p) => p.ns === DAV_NS && p.name === name);
}

/** Locks covering a path, from one snapshot of the lock table per PROPFIND (null: not asked for). */
type LocksOf = ((fsPath: readonly Buffer[]) => LockRecord[]) | null;

async function responseFor(r: DavRequest, req: PropfindRequest, locksOf: LocksOf, ino: Ino, attr: Attr, segments: readonly Buffer[]): Promise<{ href: string; propstats: ReturnType<typeof propfindPropstats> }> {
  const ctx: { -readonly [K in keyof LivePropContext]: LivePropContext[K] } = {};
  if (locksOf !== null) ctx.locks = locksOf([...r.rootSegments, ...segments]).map((l) => activeLock(r, l));
  if (req.kind === 'propname' || (req.kind === 'prop' && req.props.some((p) => p.ns === DAV_NS && p.name.startsWith('quota-')))
    || (req.kind === 'allprop' && req.include.some((p) => p.ns === DAV_NS && p.name.startsWith('quota-')))) {
    const st = await r.server.vfs.statfs(r.cred, ino);
    ctx.quota = { availableBytes: st.availBytes, usedBytes: st.usedBytes };
  }
  const needDead = req.kind !== 'prop' || req.props.some((p) => liveProp(p) === undefined || p.name === 'displayname');
  const dead = needDead ? await readDeadProps(r, ino) : [];
  const name = segments[segments.length - 1] ?? Buffer.alloc(0);
  return { href: encodeHref(segments, isDir(attr)), propstats: propfindPropstats(req, davAttr(ino, attr, name), ctx, dead) };
}

export const propfind: DavMethod = {
  name: 'PROPFIND',
  body: 'buffered',
  modifies: false,
  async handle(r) {
    const depth = parseDepth(header(r, 'depth'), 'infinity');
    if (depth === 'infinity' && !r.server.allowPropfindInfinity) {
      throw httpError('PROPFIND_INFINITY_FORBIDDEN', undefined, { condition: { name: 'propfind-finite-depth' } });
    }
    const req = parsePropfind(r.body);
    const { vfs } = r.server;
    const e = await resolvePath(vfs, r.cred, r.fsPath);
    const locksOf = wants(req, 'lockdiscovery') ? await r.server.locks.coveringSnapshot() : null;
    const first = await responseFor(r, req, locksOf, e.ino, e.attr, r.path.segments);
    r.res.writeHead(207, { 'Content-Type': 'application/xml; charset=utf-8' });
    const w = new MultistatusWriter(r.res, { signal: r.signal });
    await w.write(first);
    const walk = async (ino: Ino, segments: readonly Buffer[], level: number): Promise<void> => {
      const window: Pending[] = [];
      const next = async (): Promise<void> => {
        const p = window.shift();
        if (p === undefined) return;
        const { attr, response } = await p.ready;
        await w.write(response);
        if (isDir(attr) && (depth === 'infinity' || level + 1 < 1)) await walk(p.ino, p.segments, level + 1);
      };
      for await (const d of vfs.readdir(r.cred, ino, { plus: true })) {
        if (d.name.equals(DOT) || d.name.equals(DOTDOT)) continue;
        const segs = [...segments, d.name];
        const ready = (async () => {
          const attr = d.attr ?? await vfs.getattr(r.cred, d.ino);
          return { attr, response: await responseFor(r, req, locksOf, d.ino, attr, segs) };
        })();
        // Awaited in order by next(); this only keeps a failure from counting as unhandled meanwhile.
        ready.catch(() => undefined);
        window.push({ ino: d.ino, segments: segs, ready });
        if (window.length >= PREFETCH) await next();
      }
      while (window.length > 0) await next();
    };
    if (isDir(e.attr) && depth !== 0) await walk(e.ino, r.path.segments, 0);
    await w.end();
    r.res.end();
  },
};
