/**
 * `ferry dump`: walks a volume through the Meta API and streams it as JuiceFS dump JSON (spec §H),
 * byte-identical to what `juicefs dump` writes for the same metadata: root (or --subdir) then the
 * trash tree, children sorted by raw name bytes, hard-linked files in full under every name,
 * SecretKey/SessionToken replaced by "removed". Read-only; it registers no session and holds one
 * directory listing per open level plus a small window of prefetched entries.
 */
import type { Writable } from 'node:stream';
import { logger } from '../../observability/logger.js';
import { Errno, FsError, isFsError } from '../../util/errno.js';
import type { AclRule } from '../engine.js';
import { removeSecrets } from '../format-setting.js';
import type { Meta } from '../meta.js';
import {
  type Attr, CHUNK_SIZE, FileType, type Ino, ROOT_CREDENTIALS, ROOT_INODE, TRASH_INODE, toChunkIndex,
} from '../types.js';
import { DumpWriter } from './format.js';
import { type DumpChunk, type DumpEntry, type DumpHeader, type DumpXattr, dumpAttrOf, missingDirAttr, type QuotaLimit } from './model.js';

const log = logger.child({ module: 'dump' });

/** POSIX ACLs live in the attr's ACL ids; some Meta implementations also list them as xattrs. */
const ACL_XATTRS = new Set(['system.posix_acl_access', 'system.posix_acl_default']);

export interface DumpOptions {
  /** Dump only this directory (path from the root, `/`-separated); no trash, no user/group quotas. */
  subdir?: string;
  /** Keep SecretKey/SessionToken instead of writing "removed". */
  keepSecretKey?: boolean;
  /** Entries whose details are fetched concurrently (default 16). */
  concurrency?: number;
}

export interface DumpStats {
  /** Entries written, tree roots included. */
  entries: number;
}

interface Child {
  name: Buffer;
  ino: Ino;
  attr: Attr;
}

class Walker {
  readonly #aclCache = new Map<number, Promise<AclRule | null>>();
  entries = 0;

  constructor(private readonly meta: Meta, private readonly w: DumpWriter, private readonly window: number) {}

  #acl(id: number): Promise<AclRule | null> {
    if (id === 0) return Promise.resolve(null);
    let p = this.#aclCache.get(id);
    if (p === undefined) {
      p = this.meta.acl(id);
      this.#aclCache.set(id, p);
    }
    return p;
  }

  async #xattrs(ino: Ino): Promise<DumpXattr[]> {
    const names = (await this.meta.listxattr(ROOT_CREDENTIALS, ino)).filter((n) => !ACL_XATTRS.has(n.toString('latin1')));
    names.sort(Buffer.compare);
    const out: DumpXattr[] = [];
    for (const name of names) {
      try {
        out.push({ name, value: await this.meta.getxattr(ROOT_CREDENTIALS, ino, name) });
      } catch (err) {
        if (!isFsError(err, Errno.ENODATA)) throw err;
      }
    }
    return out;
  }

  async #chunks(ino: Ino, length: number): Promise<DumpChunk[]> {
    if (length === 0) return [];
    const out: DumpChunk[] = [];
    // JuiceFS dumps only the chunks inside the file length
    for (const indx of await this.meta.listChunks(ino)) {
      if (indx * CHUNK_SIZE >= length) continue;
      const slices = await this.meta.readSlices(ino, toChunkIndex(indx));
      if (slices.length > 0) out.push({ index: indx, slices });
    }
    return out.sort((a, b) => a.index - b.index);
  }

  /** Everything of one inode except its directory entries. */
  async entry(ino: Ino, attr: Attr): Promise<DumpEntry> {
    const [xattrs, accessAcl, defaultAcl] = await Promise.all([this.#xattrs(ino), this.#acl(attr.accessAclId), this.#acl(attr.defaultAclId)]);
    const e: DumpEntry = { attr: dumpAttrOf(ino, attr), xattrs, accessAcl, defaultAcl, chunks: [] };
    if (attr.type === FileType.File) e.chunks = await this.#chunks(ino, attr.length);
    else if (attr.type === FileType.Symlink) e.symlink = await this.meta.readlink(ino);
    return e;
  }

  async #children(ino: Ino): Promise<Child[]> {
    const out: Child[] = [];
    for await (const d of this.meta.readdir(ROOT_CREDENTIALS, ino, { plus: true, batchSize: 1000 })) {
      if (d.name.equals(DOT) || d.name.equals(DOTDOT)) continue;
      let attr = d.attr;
      if (attr === undefined) {
        try {
          attr = await this.meta.getattr(d.ino);
        } catch (err) {
          if (!isFsError(err, Errno.ENOENT)) throw err;
          log.warn({ parent: ino, ino: d.ino, name: d.name.toString('utf8') }, 'skipping an entry whose inode is missing');
          continue;
        }
      }
      out.push({ name: d.name, ino: d.ino, attr });
    }
    return out.sort((a, b) => Buffer.compare(a.name, b.name));
  }

  /** Writes a directory (already opened by the caller) and its subtree, then closes it. */
  async #fill(ino: Ino): Promise<void> {
    const children = await this.#children(ino);
    for (let i = 0; i < children.length; i += this.window) {
      const batch = children.slice(i, i + this.window);
      const heads = await Promise.all(batch.map((c) => this.entry(c.ino, c.attr)));
      for (let j = 0; j < batch.length; j++) {
        const c = batch[j];
        const head = heads[j];
        if (c === undefined || head === undefined) continue;
        this.entries++;
        if (c.attr.type === FileType.Directory) {
          await this.w.beginDir(c.name, head);
          await this.#fill(c.ino);
        } else {
          await this.w.leaf(c.name, head);
        }
      }
    }
    await this.w.endDir();
  }

  async tree(key: 'FSTree' | 'Trash', ino: Ino, head: DumpEntry, hasEntries: boolean): Promise<void> {
    this.entries++;
    await this.w.beginTree(key, head);
    if (hasEntries) await this.#fill(ino);
    else await this.w.endDir();
  }
}

const DOT = Buffer.from('.');
const DOTDOT = Buffer.from('..');

async function resolveSubdir(meta: Meta, path: string): Promise<Ino> {
  let ino = ROOT_INODE;
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    ino = (await meta.lookup(ROOT_CREDENTIALS, ino, Buffer.from(part, 'utf8'))).ino;
  }
  return ino;
}

function limits<K>(m: ReadonlyMap<K, { maxSpace: number; maxInodes: number }>): Map<K, QuotaLimit> {
  const out = new Map<K, QuotaLimit>();
  // (-1, -1) is how a removed user/group quota is stored (spec §B.5.4)
  for (const [k, q] of m) if (!(q.maxSpace === -1 && q.maxInodes === -1)) out.set(k, { maxSpace: q.maxSpace, maxInodes: q.maxInodes });
  return out;
}

/** The header of a dump: setting (secrets stripped unless kept), counters, sessions, quotas. */
async function header(meta: Meta, full: boolean, keepSecretKey: boolean): Promise<DumpHeader> {
  const setting = await meta.load();
  const [counters, sessions, delFiles, dirQuotas] = await Promise.all([meta.counters(), meta.sessions(), meta.delFiles(), meta.dirQuotas()]);
  const sustained = sessions
    .filter((s) => s.sustained.length > 0)
    .sort((a, b) => a.expire - b.expire || String(a.sid).localeCompare(String(b.sid)))
    .map((s) => ({ sid: s.sid, inodes: [...s.sustained].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)) }));
  // Redis order (ZRANGE delfiles): by queue time, then by member text "<ino>:<length>"
  const member = (d: { ino: Ino; length: number }): string => `${d.ino}:${d.length}`;
  delFiles.sort((a, b) => a.expire - b.expire || (member(a) < member(b) ? -1 : member(a) > member(b) ? 1 : 0));
  return {
    setting: keepSecretKey ? setting : removeSecrets(setting),
    counters,
    sustained,
    delFiles,
    quotas: limits(dirQuotas),
    userQuotas: full ? limits(await meta.userGroupQuotas('user')) : new Map(),
    groupQuotas: full ? limits(await meta.userGroupQuotas('group')) : new Map(),
  };
}

/**
 * Streams the dump of `meta` to `out` (not ended: the caller ends it). ENOENT/ENOTDIR when
 * `subdir` does not name a directory. Waits for `drain` whenever `out` pushes back.
 */
export async function dumpVolume(meta: Meta, out: Writable, opts: DumpOptions = {}): Promise<DumpStats> {
  const sub = opts.subdir !== undefined && opts.subdir.split('/').some((p) => p !== '' && p !== '.');
  const root = sub ? await resolveSubdir(meta, opts.subdir ?? '') : ROOT_INODE;
  const rootAttr = await meta.getattr(root);
  if (rootAttr.type !== FileType.Directory) throw new FsError(Errno.ENOTDIR, `dump: ${opts.subdir ?? ''} is not a directory`);
  const w = new DumpWriter(out);
  await w.header(await header(meta, !sub, opts.keepSecretKey === true));
  const walker = new Walker(meta, w, Math.max(1, opts.concurrency ?? 16));
  await walker.tree('FSTree', root, await walker.entry(root, rootAttr), true);
  if (!sub) {
    let trashAttr: Attr | null = null;
    try {
      trashAttr = await meta.getattr(TRASH_INODE);
    } catch (err) {
      if (!isFsError(err, Errno.ENOENT)) throw err;
    }
    if (trashAttr === null) {
      // JuiceFS dumps a volume without a trash root as an empty default directory
      await walker.tree('Trash', TRASH_INODE, { attr: missingDirAttr(TRASH_INODE), xattrs: [], accessAcl: null, defaultAcl: null, chunks: [] }, false);
    } else {
      await walker.tree('Trash', TRASH_INODE, await walker.entry(TRASH_INODE, trashAttr), true);
    }
  }
  await w.finish();
  return { entries: walker.entries };
}
