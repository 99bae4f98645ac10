/**
 * PROPFIND (RFC 4918 §9.1): allprop (with include), propname and named properties, Depth 0 and
 * 1; Depth infinity is 403 propfind-finite-depth unless enabled. The 207 body is streamed: a
 * Depth 1 listing pulls readdir-plus pages only as the response drains, reading the dead properties
 * of a page of entries in one metadata round-trip. Collection hrefs end in '/'.
 */
import { type Attr, type Ino } from '../../../vfs/types.js';
import { activeLock, type DavMethod, header, type DavRequest, davAttr, isDir, readDeadProps, readDeadPropsOf, resolvePath } from '../context.js';
import { parseDepth } from '../headers.js';
import type { LockRecord } from '../locks.js';
import { encodeHref, encodeSegment } from '../href.js';
import { type LivePropContext, liveProp, propfindPropstats } from '../props.js';
import { httpError } from '../status.js';
import { MultistatusWriter } from '../xml/build.js';
import { parsePropfind, type PropfindRequest } from '../xml/parse.js';
import { DAV_NS, type DeadProp } from '../xml/types.js';

const isDotOrDotDot = (name: Buffer): boolean => name.length <= 2 && name[0] === 0x2e && (name.length === 1 || name[1] === 0x2e);
/** An entry of a listing page. */
interface Listed {
  readonly ino: Ino;
  readonly attr: Attr;
  readonly name: Buffer;
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

/** Whether the quota properties are asked for (one statfs per entry then). */
function needsQuota(req: PropfindRequest): boolean {
  const quota = (p: { ns: string; name: string }): boolean => p.ns === DAV_NS && p.name.startsWith('quota-');
  return req.kind === 'propname' || (req.kind === 'prop' && req.props.some(quota)) || (req.kind === 'allprop' && req.include.some(quota));
}

/** What one PROPFIND needs for each resource, decided once per request. */
interface Plan {
  readonly r: DavRequest;
  readonly req: PropfindRequest;
  readonly locksOf: LocksOf;
  readonly quota: boolean;
}

type EntryResponse = { href: string; propstats: ReturnType<typeof propfindPropstats> };

const NO_EXTRAS: LivePropContext = {};

/**
 * The response of one resource at `href` (`segments`: its path below the user's root, only read
 * for lockdiscovery); synchronous unless the quota properties need a statfs.
 */
function responseFor(plan: Plan, dead: readonly DeadProp[], ino: Ino, attr: Attr, name: Uint8Array, href: string, segments: () => readonly Buffer[]): EntryResponse | Promise<EntryResponse> {
  const { r, req, locksOf } = plan;
  const locks = locksOf === null ? undefined : locksOf([...r.rootSegments, ...segments()]).map((l) => activeLock(r, l));
  const ctx: LivePropContext = locks === undefined ? NO_EXTRAS : { locks };
  if (!plan.quota) return { href, propstats: propfindPropstats(req, davAttr(ino, attr, name), ctx, dead) };
  return r.server.vfs.statfs(r.cred, ino).then((st) => {
    const withQuota: LivePropContext = { ...ctx, quota: { availableBytes: st.availBytes, usedBytes: st.usedBytes } };
    return { href, propstats: propfindPropstats(req, davAttr(ino, attr, name), withQuota, dead) };
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
    const plan: Plan = { r, req, locksOf, quota: needsQuota(req) };
    const top = r.path.segments;
    const first = await responseFor(plan, needDead ? await readDeadProps(r, e.ino) : [], e.ino, e.attr, top[top.length - 1] ?? Buffer.alloc(0), encodeHref(top, isDir(e.attr)), () => top);
    r.res.writeHead(207, { 'Content-Type': 'application/xml; charset=utf-8' });
    const w = new MultistatusWriter(r.res, { signal: r.signal });
    await w.write(first);
    const walk = async (ino: Ino, segments: readonly Buffer[], level: number): Promise<void> => {
      const dirHref = encodeHref(segments, true);
      for await (const page of vfs.readdirPages(r.cred, ino, { plus: true })) {
        const items: Listed[] = [];
        for (const d of page) {
          if (isDotOrDotDot(d.name)) continue;
          items.push({ ino: d.ino, attr: d.attr ?? await vfs.getattr(r.cred, d.ino), name: d.name });
        }
        const dead = needDead && items.length > 0 ? await readDeadPropsOf(r, items.map((it) => it.ino)) : [];
        for (const [k, it] of items.entries()) {
          const dir = isDir(it.attr);
          const href = dir ? `${dirHref}${encodeSegment(it.name)}/` : dirHref + encodeSegment(it.name);
          const path = (): readonly Buffer[] => [...segments, it.name];
          const resp = responseFor(plan, dead[k] ?? [], it.ino, it.attr, it.name, href, path);
          const flushing = w.add(resp instanceof Promise ? await resp : resp);
          if (flushing !== undefined) await flushing;
          if (dir && (depth === 'infinity' || level + 1 < 1)) await walk(it.ino, path(), level + 1);
        }
      }
    };
    if (isDir(e.attr) && depth !== 0) await walk(e.ino, top, 0);
    await w.end();
    r.res.end();
  },
};
