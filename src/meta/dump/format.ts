/**
 * Streaming writer of the JuiceFS dump JSON, byte-identical to `juicefs dump` (spec §H.4): the
 * header is Go MarshalIndent output with two-space indent, then one line per entry field, with
 * attr/xattrs/ACL objects and single-chunk arrays compact and multi-chunk arrays one chunk per line.
 * Entries are written as the caller walks the tree; the whole document is never held in memory
 * and writes wait for `drain` when the destination pushes back. It does not sort or fetch anything.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { AclRule } from '../engine.js';
import { formatToGo } from '../format-setting.js';
import { escapeBytes } from './escape.js';
import { goMap, goMarshal, goQuote, goQuoteBytes, type GoObject, type GoValue } from './go-json.js';
import { type DumpAttr, type DumpChunk, type DumpEntry, type DumpHeader, type QuotaLimit, typeName } from './model.js';

const INDENT = '  ';
const DEFAULT_BUFFER_BYTES = 64 * 1024;

function attrJson(a: DumpAttr): string {
  let s = `{"inode":${a.inode}`;
  if (a.flags !== 0) s += `,"flags":${a.flags}`;
  s += `,"type":"${typeName(a.type)}","mode":${a.mode},"uid":${a.uid},"gid":${a.gid}`;
  s += `,"atime":${a.atime},"mtime":${a.mtime},"ctime":${a.ctime}`;
  if (a.atimeNs !== 0) s += `,"atimensec":${a.atimeNs}`;
  if (a.mtimeNs !== 0) s += `,"mtimensec":${a.mtimeNs}`;
  if (a.ctimeNs !== 0) s += `,"ctimensec":${a.ctimeNs}`;
  s += `,"nlink":${a.nlink},"length":${a.length}`;
  if (a.rdev !== 0) s += `,"rdev":${a.rdev}`;
  if (a.tier !== 0) s += `,"tier":${a.tier}`;
  return s + '}';
}

function aclEntriesJson(list: readonly { id: number; perm: number }[]): string {
  if (list.length === 0) return 'null';
  return '[' + list.map((e) => `{"id":${e.id},"perm":${e.perm}}`).join(',') + ']';
}

function aclJson(r: AclRule): string {
  return `{"owner":${r.owner},"group":${r.group},"other":${r.other},"mask":${r.mask},` +
    `"users":${aclEntriesJson(r.users)},"groups":${aclEntriesJson(r.groups)}}`;
}

function chunkJson(c: DumpChunk): string {
  const slices = c.slices.map((s) => {
    let t = `{"id":${s.id}`;
    if (s.pos !== 0) t += `,"pos":${s.pos}`;
    t += `,"size":${s.size}`;
    if (s.off !== 0) t += `,"off":${s.off}`;
    return t + `,"len":${s.len}}`;
  });
  return `{"index":${c.index},"slices":[${slices.join(',')}]}`;
}

function quotasGo(m: ReadonlyMap<bigint | number, QuotaLimit>): GoObject {
  return goMap([...m].map(([k, q]): [bigint | number, GoValue] =>
    [k, new Map<string, GoValue>([['maxSpace', q.maxSpace], ['maxInodes', q.maxInodes]])]));
}

/** The header object in DumpedMeta field order (FSTree/Trash follow separately). */
export function headerToGo(h: DumpHeader): GoObject {
  const c = h.counters;
  const counters: GoObject = new Map<string, GoValue>([
    ['usedSpace', c.usedSpace], ['usedInodes', c.usedInodes], ['nextInodes', c.nextInode],
    ['nextChunk', c.nextChunk], ['nextSession', c.nextSession], ['nextTrash', c.nextTrash],
  ]);
  if ((c.nextCleanupSlices ?? 0) !== 0) counters.set('nextCleanupSlices', c.nextCleanupSlices ?? 0);
  if ((c.lastChangelog ?? 0) !== 0) counters.set('lastChangelog', c.lastChangelog ?? 0);
  const out: GoObject = new Map<string, GoValue>([
    ['Setting', formatToGo(h.setting)],
    ['Counters', counters],
    ['Sustained', h.sustained.map((s) => new Map<string, GoValue>([['sid', s.sid], ['inodes', [...s.inodes]]]))],
    ['DelFiles', h.delFiles.map((d) => new Map<string, GoValue>([['inode', d.ino], ['length', d.length], ['expire', d.expire]]))],
  ]);
  if (h.quotas.size > 0) out.set('Quotas', quotasGo(h.quotas));
  if (h.userQuotas.size > 0) out.set('UserQuotas', quotasGo(h.userQuotas));
  if (h.groupQuotas.size > 0) out.set('GroupQuotas', quotasGo(h.groupQuotas));
  return out;
}

/** Entry fields before `entries`: attr, [symlink], [xattrs], [ACLs], [chunks]; directories stop after the ACLs. */
function entryFields(e: DumpEntry, fieldPrefix: string, dir: boolean): string {
  let s = `\n${fieldPrefix}"attr": ${attrJson(e.attr)}`;
  if (!dir && e.symlink !== undefined && e.symlink.length > 0) s += `,\n${fieldPrefix}"symlink": "${escapeBytes(e.symlink)}"`;
  if (e.xattrs.length > 0) {
    const xs = e.xattrs.map((x) => `{"name":${goQuoteBytes(x.name)},"value":${goQuote(escapeBytes(x.value))}}`);
    s += `,\n${fieldPrefix}"xattrs": [${xs.join(',')}]`;
  }
  if (e.accessAcl !== null) s += `,\n${fieldPrefix}"posix_acl_access": ${aclJson(e.accessAcl)}`;
  if (e.defaultAcl !== null) s += `,\n${fieldPrefix}"posix_acl_default": ${aclJson(e.defaultAcl)}`;
  if (dir) return s;
  if (e.chunks.length === 1 && e.chunks[0] !== undefined) {
    s += `,\n${fieldPrefix}"chunks": [${chunkJson(e.chunks[0])}]`;
  } else if (e.chunks.length > 1) {
    const chunkPrefix = fieldPrefix + INDENT;
    s += `,\n${fieldPrefix}"chunks": [` + e.chunks.map((c) => `\n${chunkPrefix}${chunkJson(c)}`).join(',') + `\n${fieldPrefix}]`;
  }
  return s;
}

interface Level {
  depth: number;
  children: number;
}

/**
 * Call order: header(), then beginTree('FSTree'), any nesting of beginDir()/leaf()/endDir(),
 * endDir() for the tree, optionally the same for 'Trash', then finish(). Children must be given
 * in the order they should appear (JuiceFS: sorted by raw name bytes).
 */
export class DumpWriter {
  readonly #out: Writable;
  readonly #limit: number;
  #parts: string[] = [];
  #size = 0;
  readonly #stack: Level[] = [];
  #trees = 0;
  #state: 'new' | 'header' | 'done' = 'new';

  constructor(out: Writable, opts: { bufferBytes?: number } = {}) {
    this.#out = out;
    this.#limit = opts.bufferBytes ?? DEFAULT_BUFFER_BYTES;
  }

  async #write(s: string): Promise<void> {
    this.#parts.push(s);
    this.#size += s.length;
    if (this.#size >= this.#limit) await this.flush();
  }

  /** Hands buffered text to the destination, waiting for `drain` when it asks to. Does not end it. */
  async flush(): Promise<void> {
    if (this.#parts.length === 0) return;
    const chunk = Buffer.from(this.#parts.join(''), 'utf8');
    this.#parts = [];
    this.#size = 0;
    const out = this.#out;
    if (out.destroyed || out.errored !== null) throw out.errored ?? new Error('dump destination is closed');
    if (!out.write(chunk)) await once(out, 'drain');
  }

  /** Writes everything before FSTree. */
  async header(h: DumpHeader): Promise<void> {
    if (this.#state !== 'new') throw new Error('dump header written twice');
    this.#state = 'header';
    const text = goMarshal(headerToGo(h), INDENT);
    // drop the closing "\n}" so the trees can follow inside the same object
    await this.#write(text.slice(0, -2) + ',');
  }

  async #openDir(key: string, e: DumpEntry, depth: number): Promise<void> {
    const prefix = INDENT.repeat(depth);
    const fieldPrefix = prefix + INDENT;
    await this.#write(`\n${prefix}"${key}": {` + entryFields(e, fieldPrefix, true) + `,\n${fieldPrefix}"entries": {`);
    this.#stack.push({ depth, children: 0 });
  }

  /** Opens `FSTree` or `Trash`; close it with endDir(). */
  async beginTree(key: 'FSTree' | 'Trash', root: DumpEntry): Promise<void> {
    if (this.#state !== 'header' || this.#stack.length > 0) throw new Error(`dump ${key} out of order`);
    if (this.#trees++ > 0) await this.#write(',');
    await this.#openDir(key, root, 1);
  }

  #child(): Level {
    const top = this.#stack[this.#stack.length - 1];
    if (top === undefined) throw new Error('dump entry outside a directory');
    return top;
  }

  /** Opens a sub-directory of the current directory; close it with endDir(). */
  async beginDir(name: Buffer, e: DumpEntry): Promise<void> {
    const parent = this.#child();
    if (parent.children++ > 0) await this.#write(',');
    await this.#openDir(escapeBytes(name), e, parent.depth + 2);
  }

  /** Writes a non-directory entry of the current directory. */
  async leaf(name: Buffer, e: DumpEntry): Promise<void> {
    const parent = this.#child();
    if (parent.children++ > 0) await this.#write(',');
    const prefix = INDENT.repeat(parent.depth + 2);
    await this.#write(`\n${prefix}"${escapeBytes(name)}": {` + entryFields(e, prefix + INDENT, false) + `\n${prefix}}`);
  }

  /** Closes the current directory (or tree). */
  async endDir(): Promise<void> {
    const level = this.#stack.pop();
    if (level === undefined) throw new Error('dump endDir without beginDir');
    await this.#write(`\n${INDENT.repeat(level.depth + 1)}}\n${INDENT.repeat(level.depth)}}`);
  }

  /** Ends the document and flushes it; the destination stays open. */
  async finish(): Promise<void> {
    if (this.#state !== 'header' || this.#stack.length > 0 || this.#trees === 0) throw new Error('dump finished early');
    this.#state = 'done';
    await this.#write('\n}\n');
    await this.flush();
  }
}
