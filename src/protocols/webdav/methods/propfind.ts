/**
 * PROPFIND (RFC 4918 §9.1): allprop (with include), propname and named properties, Depth 0 and
 * 1; Depth infinity is 403 propfind-finite-depth unless enabled. The 207 body is streamed: a
 * Depth 1 listing pulls readdir-plus pages only as the response drains. Collection hrefs end in '/'.
 */
import { type Attr, type Ino } from '../../../vfs/types.js';
import { activeLock, type DavMethod, header, type DavRequest, davAttr, isDir, readDeadProps, resolvePath } from '../context.js';
import { parseDepth } from '../headers.js';
import { encodeHref } from '../href.js';
import { type LivePropContext, liveProp, propfindPropstats } from '../props.js';
import { httpError } from '../status.js';
import { MultistatusWriter } from '../xml/build.js';
import { parsePropfind, type PropfindRequest } from '../xml/parse.js';
import { DAV_NS } from '../xml/types.js';

const DOT = Buffer.from('.');
const DOTDOT = Buffer.from('..');

function wants(req: PropfindRequest, name: string): boolean {
  return req.kind === 'allprop' || req.kind === 'propname' || req.props.some((p) => p.ns === DAV_NS && p.name === name);
}

async function responseFor(r: DavRequest, req: PropfindRequest, ino: Ino, attr: Attr, segments: readonly Buffer[]): Promise<{ href: string; propstats: ReturnType<typeof propfindPropstats> }> {
  const fs = [...r.rootSegments, ...segments];
  const ctx: { -readonly [K in keyof LivePropContext]: LivePropContext[K] } = {};
  if (wants(req, 'lockdiscovery')) ctx.locks = (await r.server.locks.covering(fs)).map((l) => activeLock(r, l));
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
    const first = await responseFor(r, req, e.ino, e.attr, r.path.segments);
    r.res.writeHead(207, { 'Content-Type': 'application/xml; charset=utf-8' });
    const w = new MultistatusWriter(r.res, { signal: r.signal });
    await w.write(first);
    const walk = async (ino: Ino, segments: readonly Buffer[], level: number): Promise<void> => {
      for await (const d of vfs.readdir(r.cred, ino, { plus: true })) {
        if (d.name.equals(DOT) || d.name.equals(DOTDOT)) continue;
        const attr = d.attr ?? await vfs.getattr(r.cred, d.ino);
        const segs = [...segments, d.name];
        await w.write(await responseFor(r, req, d.ino, attr, segs));
        if (isDir(attr) && (depth === 'infinity' || level + 1 < 1)) await walk(d.ino, segs, level + 1);
      }
    };
    if (isDir(e.attr) && depth !== 0) await walk(e.ino, r.path.segments, 0);
    await w.end();
    r.res.end();
  },
};
