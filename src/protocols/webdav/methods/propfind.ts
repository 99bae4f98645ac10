/**
 * PROPFIND (RFC 4918 §9.1): allprop (with include), propname and named properties, Depth 0 and
 * 1; Depth infinity is 403 propfind-finite-depth unless enabled. The 207 body is streamed: a
 * Depth 1 listing pulls readdir-plus pages only as the response drains, reading the dead properties
 * of a bounded batch of entries in one metadata round-trip. Collection hrefs end in '/'.
 */
import { type Attr, type Ino } from '../../../vfs/types.js';
import { activeLock, type DavMethod, header, type DavRequest, davAttr, isDir, readDeadProps, readDeadPropsOf, resolvePath } from '../context.js';
import { parseDepth } from '../headers.js';
import type { LockRecord } from '../locks.js';
import { encodeHref } from '../href.js';
import { type LivePropContext, liveProp, propfindPropstats } from '../props.js';
import { httpError } from '../status.js';
import { MultistatusWriter } from '../xml/build.js';
import { parsePropfind, type PropfindRequest } from '../xml/parse.js';
import { DAV_NS, type DeadProp } from '../xml/types.js';

const DOT = Buffer.from('.');
const DOTDOT = Buffer.from('..');
/**
 * Entries of a listing handled together: their dead properties come from one metadata
 * round-trip (vfs.getxattrs), yet memory stays bounded whatever the directory size.
 */
const BATCH = 256;

/** An entry of the listing waiting for its batch. */
interface Listed {
  readonly ino: Ino;
  readonly attr: Attr;
  readonly segments: readonly Buffer[];
}

function wants(req: PropfindRequest, name: string): boolean {
  return req.kind === 'allprop' || req.kind === 'propname' || req.props.some((p) => p.ns === DAV_NS && p.name === name);
}

/** Locks covering a path, from one snapshot of the lock table per PROPFIND (null: not asked for). */
type LocksOf = ((fsPath: readonly Buffer[]) => LockRecord[]) | null;

/** Whether the request needs dead properties at all (named live properties alone do not). */
function needsDead(req: PropfindRequest): boolean {
  return req.kind !== 'prop' || req.props.some((p) => liveProp(p) === undefined || p.name === 'displayname');
}

/** Whether the quota properties are asked for (one statfs per entry then). Memoised per request. */
const quotaWanted = new WeakMap<PropfindRequest, boolean>();
function needsQuota(req: PropfindRequest): boolean {
  let v = quotaWanted.get(req);
  if (v === undefined) {
    const quota = (p: { ns: string; name: string }): boolean => p.ns === DAV_NS && p.name.startsWith('quota-');
    v = req.kind === 'propname' || (req.kind === 'prop' && req.props.some(quota)) || (req.kind === 'allprop' && req.include.some(quota));
    quotaWanted.set(req, v);
  }
  return v;
}

type EntryResponse = { href: string; propstats: ReturnType<typeof propfindPropstats> };

/** The response of one resource; synchronous unless the quota properties need a statfs. */
function responseFor(r: DavRequest, req: PropfindRequest, locksOf: LocksOf, dead: readonly DeadProp[], ino: Ino, attr: Attr, segments: readonly Buffer[]): EntryResponse | Promise<EntryResponse> {
  const ctx: { -readonly [K in keyof LivePropContext]: LivePropContext[K] } = {};
  if (locksOf !== null) ctx.locks = locksOf([...r.rootSegments, ...segments]).map((l) => activeLock(r, l));
  const build = (): EntryResponse => {
    const name = segments[segments.length - 1] ?? Buffer.alloc(0);
    return { href: encodeHref(segments, isDir(attr)), propstats: propfindPropstats(req, davAttr(ino, attr, name), ctx, dead) };
  };
  if (!needsQuota(req)) return build();
  return r.server.vfs.statfs(r.cred, ino).then((st) => {
    ctx.quota = { availableBytes: st.availBytes, usedBytes: st.usedBytes };
    return build();
  });
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
    const needDead = needsDead(req);
    const first = await responseFor(r, req, locksOf, needDead ? await readDeadProps(r, e.ino) : [], e.ino, e.attr, r.path.segments);
    r.res.writeHead(207, { 'Content-Type': 'application/xml; charset=utf-8' });
    const w = new MultistatusWriter(r.res, { signal: r.signal });
    await w.write(first);
    const walk = async (ino: Ino, segments: readonly Buffer[], level: number): Promise<void> => {
      let batch: Listed[] = [];
      const flush = async (): Promise<void> => {
        const items = batch;
        batch = [];
        if (items.length === 0) return;
        const dead = needDead ? await readDeadPropsOf(r, items.map((it) => it.ino)) : [];
        for (const [k, it] of items.entries()) {
          const resp = responseFor(r, req, locksOf, dead[k] ?? [], it.ino, it.attr, it.segments);
          const flushing = w.add(resp instanceof Promise ? await resp : resp);
          if (flushing !== undefined) await flushing;
          if (isDir(it.attr) && (depth === 'infinity' || level + 1 < 1)) await walk(it.ino, it.segments, level + 1);
        }
      };
      for await (const d of vfs.readdir(r.cred, ino, { plus: true })) {
        if (d.name.equals(DOT) || d.name.equals(DOTDOT)) continue;
        batch.push({ ino: d.ino, attr: d.attr ?? await vfs.getattr(r.cred, d.ino), segments: [...segments, d.name] });
        if (batch.length >= BATCH) await flush();
      }
      await flush();
    };
    if (isDir(e.attr) && depth !== 0) await walk(e.ino, r.path.segments, 0);
    await w.end();
    r.res.end();
  },
};
