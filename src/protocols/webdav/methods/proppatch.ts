/**
 * PROPPATCH (RFC 4918 §9.2): set/remove dead properties in document order, all or nothing, in the
 * one `webdav-dead-props` xattr (dead-props.ts), so the change is a single atomic setxattr.
 * Protected live properties fail with 403 and the rest with 424. Lock tokens are required.
 */
import { Errno, isFsError } from '../../../util/errno.js';
import { checkIfHeader, checkLocks, type DavMethod, isDir, readDeadProps, resolvePath } from '../context.js';
import { DEAD_PROPS_XATTR, encodeDeadProps, planProppatch } from '../dead-props.js';
import { encodeHref } from '../href.js';
import { isProtectedProp } from '../props.js';
import { MultistatusWriter, type Propstat } from '../xml/build.js';
import { parseProppatch } from '../xml/parse.js';

export const proppatch: DavMethod = {
  name: 'PROPPATCH',
  body: 'buffered',
  modifies: true,
  async handle(r) {
    const { vfs } = r.server;
    const submitted = await checkIfHeader(r);
    const req = parseProppatch(r.body);
    const e = await resolvePath(vfs, r.cred, r.fsPath);
    await checkLocks(r, submitted, { path: r.fsPath });
    const current = await readDeadProps(r, e.ino);
    const plan = planProppatch(current, req.ops, isProtectedProp);
    if (plan.ok) {
      const key = Buffer.from(DEAD_PROPS_XATTR);
      if (plan.props.length > 0) {
        await vfs.setxattr(r.cred, e.ino, key, encodeDeadProps(plan.props));
      } else {
        await vfs.removexattr(r.cred, e.ino, key).catch((err: unknown) => {
          if (!isFsError(err, Errno.ENODATA)) throw err;
        });
      }
    }
    const groups = new Map<string, Propstat & { props: { ns: string; name: string }[] }>();
    for (const res of plan.results) {
      const k = `${res.status}:${res.error?.name ?? ''}`;
      let g = groups.get(k);
      if (g === undefined) {
        g = { status: res.status, props: [], ...(res.error === undefined ? {} : { error: res.error }) };
        groups.set(k, g);
      }
      g.props.push({ ns: res.name.ns, name: res.name.name });
    }
    r.res.writeHead(207, { 'Content-Type': 'application/xml; charset=utf-8' });
    const w = new MultistatusWriter(r.res, { signal: r.signal });
    await w.write({ href: encodeHref(r.path.segments, isDir(e.attr)), propstats: [...groups.values()] });
    await w.end();
    r.res.end();
  },
};
