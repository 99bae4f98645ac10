/**
 * Streaming reader of the JuiceFS dump JSON (spec §H): turns the document into visitor calls
 * (header, enter directory, leaf, leave directory) in document order, unescaping names, symlink
 * targets and xattr values to raw bytes (§H.3). Memory use is bounded by one entry plus the path
 * of open directories. It only parses: no counters, links or engine writes happen here.
 */
import type { Readable } from 'node:stream';
import type { AclRule, DelFile } from '../engine.js';
import { formatFromJson } from '../format-setting.js';
import { FileType, type Format, type Ino, type SliceRecord, toIno, toSliceId } from '../types.js';
import { Errno, FsError } from '../../util/errno.js';
import { unescapeBytes } from './escape.js';
import { JsonReader, type JsonValue } from './json-reader.js';
import {
  type DumpAttr, type DumpChunk, type DumpCounters, type DumpEntry, type DumpHeader, type DumpSustained, type DumpXattr,
  type QuotaLimit, typeFromName,
} from './model.js';

export type DumpTree = 'FSTree' | 'Trash';

/** Receives the dump in document order; every method may be async (the reader waits). */
export interface DumpVisitor {
  /** Once, before the first tree: every header section read so far. */
  header(h: DumpHeader): void | Promise<void>;
  /** A directory whose `entries` begin; `name` is null for a tree root. Fields after `entries` come in leaveDir. */
  enterDir(name: Buffer | null, e: DumpEntry, tree: DumpTree): void | Promise<void>;
  /** A non-directory entry, complete. */
  leaf(name: Buffer, e: DumpEntry, tree: DumpTree): void | Promise<void>;
  /** The directory opened last is complete; `e` has all its fields. */
  leaveDir(e: DumpEntry, tree: DumpTree): void | Promise<void>;
}

function bad(msg: string): FsError {
  return new FsError(Errno.EINVAL, `dump: ${msg}`);
}

function isObject(v: JsonValue | undefined): v is { [key: string]: JsonValue } {
  return v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v);
}

function int(v: JsonValue | undefined, what: string, dflt?: number): number {
  if (v === undefined || v === null) {
    if (dflt !== undefined) return dflt;
    throw bad(`missing ${what}`);
  }
  if (typeof v === 'bigint') return Number(v);
  if (typeof v !== 'number' || !Number.isInteger(v)) throw bad(`${what} must be an integer`);
  return v;
}

function bigint(v: JsonValue | undefined, what: string, dflt?: bigint): bigint {
  if (v === undefined || v === null) {
    if (dflt !== undefined) return dflt;
    throw bad(`missing ${what}`);
  }
  if (typeof v === 'bigint') return v;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw bad(`${what} must be an integer`);
  return BigInt(v);
}

function parseAttr(v: JsonValue): DumpAttr {
  if (!isObject(v)) throw bad('attr must be an object');
  const typeText = v['type'];
  const type = typeof typeText === 'string' ? typeFromName(typeText) : null;
  if (type === null) throw bad(`unknown entry type ${JSON.stringify(typeText)}`);
  return {
    inode: toIno(bigint(v['inode'], 'attr.inode')),
    flags: int(v['flags'], 'flags', 0),
    type,
    mode: int(v['mode'], 'mode', 0),
    uid: int(v['uid'], 'uid', 0),
    gid: int(v['gid'], 'gid', 0),
    atime: int(v['atime'], 'atime', 0),
    mtime: int(v['mtime'], 'mtime', 0),
    ctime: int(v['ctime'], 'ctime', 0),
    atimeNs: int(v['atimensec'], 'atimensec', 0),
    mtimeNs: int(v['mtimensec'], 'mtimensec', 0),
    ctimeNs: int(v['ctimensec'], 'ctimensec', 0),
    nlink: int(v['nlink'], 'nlink', 0),
    length: int(v['length'], 'length', 0),
    rdev: int(v['rdev'], 'rdev', 0),
    tier: int(v['tier'], 'tier', 0),
  };
}

function parseAclEntries(v: JsonValue | undefined): { id: number; perm: number }[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw bad('ACL users/groups must be an array');
  return v.map((e) => {
    if (!isObject(e)) throw bad('ACL entry must be an object');
    return { id: int(e['id'], 'ACL id'), perm: int(e['perm'], 'ACL perm') };
  });
}

function parseAcl(v: JsonValue): AclRule | null {
  if (v === null) return null;
  if (!isObject(v)) throw bad('ACL must be an object');
  return {
    owner: int(v['owner'], 'ACL owner', 0),
    group: int(v['group'], 'ACL group', 0),
    other: int(v['other'], 'ACL other', 0),
    mask: int(v['mask'], 'ACL mask', 0),
    users: parseAclEntries(v['users']),
    groups: parseAclEntries(v['groups']),
  };
}

function parseChunks(v: JsonValue): DumpChunk[] {
  if (v === null) return [];
  if (!Array.isArray(v)) throw bad('chunks must be an array');
  return v.map((c) => {
    if (!isObject(c)) throw bad('chunk must be an object');
    const slices = c['slices'];
    if (slices !== null && slices !== undefined && !Array.isArray(slices)) throw bad('slices must be an array');
    return {
      index: int(c['index'], 'chunk index', 0),
      slices: (slices ?? []).map((s): SliceRecord => {
        if (!isObject(s)) throw bad('slice must be an object');
        // old dumps call the slice id `chunkid`
        let id = bigint(s['id'], 'slice id', 0n);
        if (id === 0n) id = bigint(s['chunkid'], 'slice chunkid', 0n);
        return { pos: int(s['pos'], 'pos', 0), id: toSliceId(id), size: int(s['size'], 'size', 0), off: int(s['off'], 'off', 0), len: int(s['len'], 'len', 0) };
      }),
    };
  });
}

function parseQuotas(v: JsonValue): Map<bigint, QuotaLimit> {
  const out = new Map<bigint, QuotaLimit>();
  if (v === null) return out;
  if (!isObject(v)) throw bad('quotas must be an object');
  for (const [k, q] of Object.entries(v)) {
    if (!/^[0-9]+$/.test(k)) throw bad(`bad quota key ${k}`);
    if (!isObject(q)) throw bad('quota must be an object');
    out.set(BigInt(k), { maxSpace: int(q['maxSpace'], 'maxSpace', 0), maxInodes: int(q['maxInodes'], 'maxInodes', 0) });
  }
  return out;
}

function parseCounters(v: JsonValue): DumpCounters {
  if (!isObject(v)) throw bad('Counters must be an object');
  const c: DumpCounters = {
    usedSpace: int(v['usedSpace'], 'usedSpace', 0),
    usedInodes: int(v['usedInodes'], 'usedInodes', 0),
    nextInode: bigint(v['nextInodes'], 'nextInodes', 0n),
    nextChunk: bigint(v['nextChunk'], 'nextChunk', 0n),
    nextSession: int(v['nextSession'], 'nextSession', 0),
    nextTrash: int(v['nextTrash'], 'nextTrash', 0),
  };
  const ncs = int(v['nextCleanupSlices'], 'nextCleanupSlices', 0);
  if (ncs !== 0) c.nextCleanupSlices = ncs;
  const lc = int(v['lastChangelog'], 'lastChangelog', 0);
  if (lc !== 0) c.lastChangelog = lc;
  return c;
}

function parseSustained(v: JsonValue): DumpSustained[] {
  if (v === null) return [];
  if (!Array.isArray(v)) throw bad('Sustained must be an array');
  return v.map((s) => {
    if (!isObject(s)) throw bad('Sustained item must be an object');
    const inodes = s['inodes'];
    if (inodes !== null && inodes !== undefined && !Array.isArray(inodes)) throw bad('Sustained inodes must be an array');
    return { sid: int(s['sid'], 'sid'), inodes: (inodes ?? []).map((i): Ino => toIno(bigint(i, 'sustained inode'))) };
  });
}

function parseDelFiles(v: JsonValue): DelFile[] {
  if (v === null) return [];
  if (!Array.isArray(v)) throw bad('DelFiles must be an array');
  return v.map((d) => {
    if (!isObject(d)) throw bad('DelFiles item must be an object');
    return { ino: toIno(bigint(d['inode'], 'delfile inode')), length: int(d['length'], 'delfile length', 0), expire: int(d['expire'], 'delfile expire', 0) };
  });
}

async function readXattrs(r: JsonReader): Promise<DumpXattr[]> {
  if ((await r.peekKind()) === 'l') {
    await r.readValue();
    return [];
  }
  const out: DumpXattr[] = [];
  await r.beginArray();
  while (await r.nextItem()) {
    let name: Buffer | null = null;
    let value: Buffer = Buffer.alloc(0);
    await r.beginObject();
    for (let k = await r.nextKey(); k !== null; k = await r.nextKey()) {
      const key = k.toString('utf8');
      if (key === 'name') name = await r.readStringBytes();
      else if (key === 'value') value = unescapeBytes(await r.readStringBytes());
      else await r.skipValue();
    }
    if (name === null) throw bad('xattr without a name');
    out.push({ name, value });
  }
  return out;
}

class TreeReader {
  constructor(private readonly r: JsonReader, private readonly v: DumpVisitor, private readonly tree: DumpTree) {}

  /** Reads one entry object; `name` null for the tree root. */
  async entry(name: Buffer | null): Promise<void> {
    const r = this.r;
    let attr: DumpAttr | null = null;
    const e: Omit<DumpEntry, 'attr'> & { attr?: DumpAttr } = { xattrs: [], accessAcl: null, defaultAcl: null, chunks: [] };
    let opened = false;
    await r.beginObject();
    for (let k = await r.nextKey(); k !== null; k = await r.nextKey()) {
      switch (k.toString('utf8')) {
        case 'attr':
          attr = parseAttr(await r.readValue());
          e.attr = attr;
          break;
        case 'symlink':
          e.symlink = unescapeBytes(await r.readStringBytes());
          break;
        case 'xattrs':
          e.xattrs = await readXattrs(r);
          break;
        case 'posix_acl_access':
          e.accessAcl = parseAcl(await r.readValue());
          break;
        case 'posix_acl_default':
          e.defaultAcl = parseAcl(await r.readValue());
          break;
        case 'chunks':
          e.chunks = parseChunks(await r.readValue());
          break;
        case 'entries': {
          if (attr === null) throw bad('"entries" before "attr"');
          if (attr.type !== FileType.Directory) throw bad(`"entries" in a non-directory (inode ${attr.inode})`);
          if (opened) throw bad(`"entries" twice in inode ${attr.inode}`);
          opened = true;
          await this.v.enterDir(name, { ...e, attr }, this.tree);
          if ((await r.peekKind()) === 'l') {
            await r.readValue();
            break;
          }
          await r.beginObject();
          for (let c = await r.nextKey(); c !== null; c = await r.nextKey()) await this.entry(unescapeBytes(c));
          break;
        }
        default:
          await r.skipValue();
      }
    }
    if (attr === null) throw bad(`entry ${name === null ? this.tree : JSON.stringify(name.toString('utf8'))} has no attr`);
    const full: DumpEntry = { ...e, attr };
    if (attr.type === FileType.Directory) {
      if (!opened) await this.v.enterDir(name, full, this.tree);
      await this.v.leaveDir(full, this.tree);
    } else {
      if (name === null) throw bad(`${this.tree} is not a directory`);
      await this.v.leaf(name, full, this.tree);
    }
  }
}

const HEADER_KEYS = new Set(['Setting', 'Counters', 'Sustained', 'DelFiles', 'Quotas', 'UserQuotas', 'GroupQuotas', 'ChangeLog']);

/**
 * Reads a whole dump, calling the visitor as it goes. EINVAL for malformed input, a missing
 * Setting/Counters/FSTree, or header sections after the trees.
 */
export async function readDump(input: Readable | Buffer | AsyncIterable<Buffer | string>, visitor: DumpVisitor): Promise<void> {
  const r = new JsonReader(input);
  let setting: Format | null = null;
  let counters: DumpCounters | null = null;
  const h: Omit<DumpHeader, 'setting' | 'counters'> = {
    sustained: [], delFiles: [], quotas: new Map(), userQuotas: new Map(), groupQuotas: new Map(),
  };
  let headerDone = false;
  let sawTree = false;
  const finishHeader = async (): Promise<void> => {
    if (headerDone) return;
    headerDone = true;
    if (setting === null) throw bad('missing "Setting"');
    if (counters === null) throw bad('missing "Counters"');
    await visitor.header({ ...h, setting, counters });
  };
  await r.beginObject();
  for (let k = await r.nextKey(); k !== null; k = await r.nextKey()) {
    const key = k.toString('utf8');
    if (headerDone && HEADER_KEYS.has(key) && key !== 'ChangeLog') throw bad(`"${key}" after the trees`);
    switch (key) {
      case 'Setting':
        setting = formatFromJson(await r.readValue());
        break;
      case 'Counters':
        counters = parseCounters(await r.readValue());
        break;
      case 'Sustained':
        h.sustained = parseSustained(await r.readValue());
        break;
      case 'DelFiles':
        h.delFiles = parseDelFiles(await r.readValue());
        break;
      case 'Quotas':
        h.quotas = parseQuotas(await r.readValue()) as Map<Ino, QuotaLimit>;
        break;
      case 'UserQuotas':
        h.userQuotas = new Map([...parseQuotas(await r.readValue())].map(([id, q]) => [Number(id), q]));
        break;
      case 'GroupQuotas':
        h.groupQuotas = new Map([...parseQuotas(await r.readValue())].map(([id, q]) => [Number(id), q]));
        break;
      case 'FSTree':
      case 'Trash':
        await finishHeader();
        if (key === 'FSTree') sawTree = true;
        await new TreeReader(r, visitor, key).entry(null);
        break;
      default:
        // ChangeLog and unknown sections are not loaded
        await r.skipValue();
    }
  }
  await r.end();
  if (!sawTree) throw bad('missing "FSTree"');
}
