/**
 * Redis metadata engine: MetaEngine over the JuiceFS Redis key schema and binary encodings
 * (spec §B). Every namespace change is ONE Lua script (scripts.ts) run with EVALSHA; reads are plain
 * commands or a small read-only script. It never imports storage/cache/vfs and throws only FsError,
 * converted from backend errors in exactly one place, toFsError() below.
 *
 * Key schema ({P} = "" standalone/Sentinel, "{<db>}" on Redis Cluster; names built only in keys.ts):
 *   {P}setting                      string  volume Format JSON (spec §A)
 *   {P}i<ino>                       string  attr, 72/73/80/81 bytes BE with trailing zero (§B.5.1)
 *   {P}d<ino>                       hash    entry name -> u8 type + u64 inode (9 bytes, §B.5.2)
 *   {P}p<ino>                       hash    parent inode -> link count, only when Attr.Parent == 0
 *   {P}c<ino>_<indx>                list    24-byte slice records, RPUSHed in write order (§B.5.3)
 *   {P}s<ino>                       string  symlink target
 *   {P}x<ino>                       hash    xattr name -> value
 *   {P}lockf<ino> / {P}lockp<ino>   hash    "<sid>_<OWNER16HEX>" -> "R"/"W" | plock records (§B.6)
 *   {P}allSessions                  zset    sid -> expiry unix seconds;  {P}sessionInfos hash sid -> JSON
 *   {P}sessions                     zset    legacy sessions (read for stale cleanup only)
 *   {P}session<sid>                 set     sustained inodes (unlinked while open)
 *   {P}locked<sid>                  set     full lock key names held by the session
 *   {P}delfiles                     zset    "<ino>:<length>" -> unix seconds queued
 *   {P}sliceRef                     hash    k<id>_<size> -> refcount−1 (absent = 1; < 0 = unreferenced)
 *   {P}delSlices                    hash    delayed slices of compactions (read by the trash cleaner)
 *   {P}nextinode {P}nextchunk {P}nextsession {P}nextTrash   string int, LAST USED id (§B.4)
 *   {P}usedSpace {P}totalInodes     string int, updated inside each script (§B.10)
 *   {P}dirUsedInodes {P}dirUsedSpace {P}dirDataLength   hash dir ino -> decimal (HINCRBY in scripts)
 *   {P}dirQuota {P}dirQuotaUsedSpace {P}dirQuotaUsedInodes, {P}userQuota..., {P}groupQuota...  hashes
 *   {P}acl hash id -> rule (§B.5.5); {P}aclMaxId;  leases {P}lastCleanup*, {P}nextCleanupSlices (§B.11)
 *
 * Readdir positions: see dir-listing.ts (62-bit name-hash positions, sorted snapshots per process).
 * Round trips: lookup 1 (script), getattr 1, mknod/unlink/rename/link/setattr/truncate/write 1.
 * getattr, lookup and mknod requests issued in the same tick share one command (batcher.ts): an
 * MGET, or one script call that checks and applies every item on its own; getxattr ones share
 * one pipeline of HGETs.
 */
import { Redis, Cluster, type RedisOptions } from 'ioredis';
import { Errno, expectedFsError, FsError } from '../../util/errno.js';
import { logger, redactUrl } from '../../observability/logger.js';
import {
  type Attr, type ChunkIndex, type DavLockTable, type DirEntry, type Ino, type SessionInfo, type SliceId, type SliceRecord,
  type Timespec, CHUNK_SIZE, FileType, ROOT_INODE, TRASH_INODE, isTrashIno, toChunkIndex, toIno, toSliceId,
} from '../types.js';
import { decodeAttr, decodeDelayedSlices, decodeEntry, decodeQuota, decodeSlice, encodeAttr, encodeEntry, encodeSlice, encodeSlices } from '../encoding.js';
import type {
  AclRule, CloneRangeTxn, CompactChunkResult, CompactChunkTxn, Counters, DelFile, DirStats, IdKind, LinkTxn, MetaEngine,
  MknodResult, MknodTxn,
  Quota, ReaddirPage, SliceScanItem, RenameResult, RenameTxn, SetAttrTxn, TruncateTxn, UnlinkResult, UnlinkTxn, VolumeLoader,
  WriteResult, WriteTxn,
} from '../engine.js';
import { RedisKeys } from './keys.js';
import { parseRedisUrl, type RedisTarget } from './url.js';
import { redisTlsOptions } from './tls.js';
import {
  type LuaScript, ALL_SCRIPTS, CLEANUP_ZERO_REF, CLONE, COMPACT_CHUNK, DELETE_SUSTAINED, DROP_CHUNKS, LINK, LOOKUP, MKNOD, RELEASE_DELAYED, REMOVE_SESSION, RENAME, SETATTR,
  SETATTR_ATIME, SETATTR_FLAGS, SETATTR_GID, SETATTR_MODE, SETATTR_MTIME, SETATTR_UID, SET_IF_SMALL, SET_XATTR,
  TRUNCATE, UNLINK, UPDATE_DAV_LOCKS, WRITE,
} from './scripts.js';
import { DirListingCache, DirSnapshot, FIRST_POSITION, type DirCacheOptions } from './dir-listing.js';
import { planClone } from '../slices.js';
import { decodeAclRule } from './acl-codec.js';
import { RedisLoader } from './loader.js';
import { TickBatcher } from './batcher.js';

const log = logger.child({ module: 'meta.redis' });

export interface RedisEngineOptions {
  /** true/false forces Redis Cluster mode on/off; undefined detects it with INFO cluster (tcp URLs). */
  cluster?: boolean;
  /**
   * ioredis auto-pipelining (default false): the engine already batches its hot commands per tick
   * (batcher.ts), and measured faster without ioredis wrapping every command in a pipeline.
   */
  autoPipelining?: boolean;
  /** Most getattrs/lookups/creates sent in one batched command (default 32). */
  batchMax?: number;
  connectTimeoutMs?: number;
  dirCache?: Partial<DirCacheOptions>;
  /** Environment for passwords (tests); defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

type Client = Redis | Cluster;
/** ioredis defines `<command>Buffer` for every command at runtime; its typings omit the scripting ones. */
interface BufferScripting {
  evalshaBuffer(sha: string, numKeys: number, ...args: ArgValue[]): Promise<unknown>;
  evalBuffer(source: string, numKeys: number, ...args: ArgValue[]): Promise<unknown>;
}
type ArgValue = string | Buffer | number;

const LOGGED_ONCE = new Set<string>();
/**
 * Items per batched command (one tick's getattrs, lookups or creates). Measured with bench/meta.ts:
 * 32 beat both 8 (too many commands) and 256 (Redis and Node stop overlapping).
 */
const DEFAULT_BATCH_MAX = 32;

/**
 * The one place backend outcomes become FsError: a nil reply (null) is `nilErrno` (ENOENT by
 * default), a number is a script's errno, ioredis/Redis errors are classified by their reply or code.
 * Unknown errors become EIO and are logged here, once, with their stack.
 */
export function toFsError(err: unknown, op: string, nilErrno: Errno = Errno.ENOENT): FsError {
  if (err instanceof FsError) return err;
  if (err === null || err === undefined) return new FsError(nilErrno, op);
  if (typeof err === 'number') return new FsError(err as Errno, op);
  const msg = err instanceof Error ? err.message : String(err);
  const code = typeof err === 'object' && 'code' in err ? String((err as { code: unknown }).code) : '';
  const name = err instanceof Error ? err.name : '';
  const wrap = (errno: Errno): FsError => new FsError(errno, `${op}: ${msg}`, { cause: err });
  if (/^OOM\b/.test(msg)) return wrap(Errno.ENOSPC);
  if (/^READONLY\b/.test(msg)) return wrap(Errno.EROFS);
  // the command did not run: safe for the caller to retry
  if (/^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|MOVED|ASK)\b/.test(msg)) return wrap(Errno.EAGAIN);
  // no connection while every reconnect failed (see baseOptions): the command waited in ioredis's
  // queues, or was in flight when its connection was lost (then it may have run); BaseMeta does
  // not retry it at once, clients are told to come back later
  if (name === 'MaxRetriesPerRequestError') return wrap(Errno.ETIMEDOUT);
  // the connection broke or timed out: the command may or may not have run
  if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENOTFOUND)$/.test(code) ||
    /Connection is closed|Command timed out|Stream isn't writeable|connect ETIMEDOUT|None of the sentinels|All sentinels are unreachable|Failed to refresh slots cache/.test(msg)) {
    return wrap(Errno.EIO);
  }
  if (/^NOPERM\b|^NOAUTH\b|^WRONGPASS\b/.test(msg)) return wrap(Errno.EACCES);
  log.error({ err, op }, 'unexpected redis error');
  return wrap(Errno.EIO);
}

/** u64 big-endian, as entries and attr parent fields hold inode numbers. */
function u64be(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
}

/** i64 seconds + u32 nanoseconds, the layout of attr times (spec §B.5.1). */
function time12(t: Timespec): Buffer {
  const b = Buffer.alloc(12);
  b.writeBigInt64BE(BigInt(t.sec));
  b.writeUInt32BE(t.nsec >>> 0, 8);
  return b;
}

/** The parent "touch" window in nanoseconds, as scripts compare it; 0 = always touch. */
function threshold(skipDirMtimeMs: number | undefined): string {
  return String(Math.round((skipDirMtimeMs ?? 0) * 1e6));
}

function u32be(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(typeof v === 'string' || Buffer.isBuffer(v) ? v.toString() : v));
const buf = (v: unknown): Buffer | null => (Buffer.isBuffer(v) ? v : null);
const str = (v: unknown): string => (Buffer.isBuffer(v) ? v.toString() : String(v));

function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT');
}

export class RedisEngine implements MetaEngine {
  readonly kind = 'redis';
  readonly keys: RedisKeys;
  readonly #client: Client;
  readonly #scripting: BufferScripting;
  readonly #dirs: DirListingCache;
  readonly #url: string;
  /** getattr, lookup and mknod requests of one tick share one command (batcher.ts). */
  readonly #attrBatch: TickBatcher<Ino, Buffer | null>;
  readonly #lookupBatch: TickBatcher<{ parent: Ino; name: Buffer }, unknown[]>;
  readonly #mknodBatch: TickBatcher<{ keys: string[]; args: ArgValue[] }, unknown[]>;
  readonly #xattrBatch: TickBatcher<{ ino: Ino; name: Buffer }, Buffer | null>;
  #closed = false;

  constructor(client: Client, prefix: string, opts: RedisEngineOptions & { url?: string } = {}) {
    this.#client = client;
    this.#scripting = client as unknown as BufferScripting;
    // connection trouble is reported to callers as FsError; the event stream is only logged, at
    // most once a minute per distinct message
    const lastLogged = new Map<string, number>();
    client.on('error', (err: unknown) => {
      const msg = err instanceof Error ? err.message : String(err);
      const now = Date.now();
      if ((lastLogged.get(msg) ?? 0) > now - 60_000) return;
      lastLogged.set(msg, now);
      log.warn({ err, url: this.#url }, 'redis connection error');
    });
    this.keys = new RedisKeys(prefix);
    this.#dirs = new DirListingCache(opts.dirCache);
    this.#url = redactUrl(opts.url ?? '');
    const batchMax = Math.max(1, opts.batchMax ?? DEFAULT_BATCH_MAX);
    // an inode asked for twice in one tick (an NFS call's post-op attributes and its permission
    // check read the same directory) is one key of the MGET; each asker decodes the same reply
    this.#attrBatch = new TickBatcher(async (inos) => {
      const unique = [...new Set(inos)];
      const values = await this.#client.mgetBuffer(...unique.map((i) => this.keys.inode(i)));
      if (unique.length === inos.length) return values;
      const byIno = new Map(unique.map((ino, i) => [ino, values[i] ?? null]));
      return inos.map((ino) => byIno.get(ino) ?? null);
    }, batchMax);
    this.#lookupBatch = new TickBatcher(async (items) => {
      const keys: string[] = [];
      for (const it of items) keys.push(this.keys.entries(it.parent), this.keys.inode(it.parent));
      const reply = await this.#runRaw(LOOKUP, keys, [this.keys.inodePrefix, ...items.map((it) => it.name)]);
      return reply.map((r) => (Array.isArray(r) ? r : new Error('malformed lookup reply')));
    }, batchMax);
    // HGETs of one tick go out as one pipeline (one round-trip: a PROPFIND reading the dead
    // properties of a page of entries); all keys share the cluster hash tag, so one node answers
    this.#xattrBatch = new TickBatcher(async (items) => {
      const p = this.#client.pipeline();
      for (const it of items) p.hgetBuffer(this.keys.xattr(it.ino), it.name);
      const reply = await p.exec();
      if (reply === null) throw new Error('getxattr pipeline discarded');
      return reply.map(([err, v]) => (err !== null ? err : v === null || Buffer.isBuffer(v) ? v : new Error('malformed hget reply')));
    }, batchMax);
    this.#mknodBatch = new TickBatcher(async (items) => {
      const keys: string[] = [this.keys.usedSpace, this.keys.totalInodes, this.keys.dirUsedInodes, this.keys.dirUsedSpace, this.keys.dirDataLength];
      const args: ArgValue[] = [];
      for (const it of items) {
        keys.push(...it.keys);
        args.push(...it.args);
      }
      const reply = await this.#runRaw(MKNOD, keys, args);
      return reply.map((r) => (Array.isArray(r) && typeof r[0] === 'number' ? r : new Error('malformed mknod reply')));
    }, batchMax);
  }

  /** True when connected to a Redis Cluster (keys carry the `{db}` hash tag). */
  get isCluster(): boolean {
    return this.#client instanceof Cluster;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#dirs.clear();
    try {
      await this.#client.quit();
    } catch {
      // disconnect() below ends it anyway
    } finally {
      // also stops what quit() leaves behind: a Sentinel client's failover detector keeps its own
      // connections to the sentinels, reconnecting forever once they are gone
      this.#client.disconnect();
    }
  }

  /** SCRIPT LOAD of every script on every node, so the first EVALSHA of each finds it. */
  async loadScripts(): Promise<void> {
    await this.#io('script load', () => Promise.all(this.#nodes().flatMap((node) => ALL_SCRIPTS.map((sc) => node.script('LOAD', sc.source)))));
  }

  // ---- plumbing -------------------------------------------------------------------------------

  async #io<T>(op: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toFsError(err, op);
    }
  }

  /** Runs a script with positional KEYS/ARGV (EVALSHA, EVAL on NOSCRIPT); answers its raw reply array. */
  async #runRaw(s: LuaScript<string, string>, keys: readonly string[], args: readonly ArgValue[]): Promise<unknown[]> {
    let reply: unknown;
    try {
      reply = await this.#scripting.evalshaBuffer(s.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!isNoScript(err)) throw err;
      reply = await this.#scripting.evalBuffer(s.source, keys.length, ...keys, ...args);
    }
    if (!Array.isArray(reply)) throw new Error(`malformed reply from script ${s.name}`);
    return reply;
  }

  /** Runs a script (EVALSHA, EVAL on NOSCRIPT); answers the reply after the status, or throws its errno. */
  async #run<K extends string, A extends string>(
    op: string, s: LuaScript<K, A>, keys: Record<K, string>, args: Record<A, ArgValue>,
    extraKeys: readonly string[] = [], extraArgs: readonly ArgValue[] = [],
  ): Promise<unknown[]> {
    const k: string[] = [];
    for (const n of s.keys) k.push(keys[n]);
    for (const x of extraKeys) k.push(x);
    const a: ArgValue[] = [];
    for (const n of s.args) a.push(args[n]);
    for (const x of extraArgs) a.push(x);
    let reply: unknown[];
    try {
      reply = await this.#runRaw(s, k, a);
    } catch (err) {
      throw toFsError(err, op);
    }
    if (typeof reply[0] !== 'number') throw toFsError(new Error(`malformed reply from script ${s.name}`), op);
    if (reply[0] !== 0) {
      const detail = reply[1];
      throw toFsError(reply[0], Buffer.isBuffer(detail) && reply[0] === Errno.EIO ? `${op}: ${detail.toString()}` : op);
    }
    return reply.slice(1);
  }

  /** Time arguments of the scripts that touch a parent; no `skipDirMtimeMs` means always touch. */
  #timeArgs(now: Timespec, skipDirMtimeMs: number | undefined): { now12: Buffer; threshold: string } {
    return { now12: time12(now), threshold: threshold(skipDirMtimeMs) };
  }

  #statKeys(): { dirUsedInodes: string; dirUsedSpace: string; dirDataLength: string } {
    return { dirUsedInodes: this.keys.dirUsedInodes, dirUsedSpace: this.keys.dirUsedSpace, dirDataLength: this.keys.dirDataLength };
  }

  #quotaKeys(): { dirQuota: string; dirQuotaUsedSpace: string; dirQuotaUsedInodes: string } {
    return { dirQuota: this.keys.dirQuota, dirQuotaUsedSpace: this.keys.dirQuotaUsedSpace, dirQuotaUsedInodes: this.keys.dirQuotaUsedInodes };
  }

  // ---- volume ---------------------------------------------------------------------------------

  async getSetting(): Promise<string | null> {
    return this.#io('getSetting', () => this.#client.get(this.keys.setting));
  }

  async doFormat(settingJson: string, root: Attr | null, trashRoot: Attr | null): Promise<void> {
    const m = this.#client.multi();
    m.set(this.keys.setting, settingJson);
    for (const [ino, attr] of [[ROOT_INODE, root], [TRASH_INODE, trashRoot]] as const) {
      if (attr === null) continue;
      m.set(this.keys.inode(ino), encodeAttr(attr));
      // like a mkdir: the new directory's stats start at zero (kept if they already exist)
      for (const key of [this.keys.dirUsedInodes, this.keys.dirUsedSpace, this.keys.dirDataLength]) m.hsetnx(key, ino.toString(), '0');
    }
    await this.#exec('format', m);
  }

  async #exec(op: string, m: ReturnType<Client['multi']>): Promise<unknown[]> {
    const res = await this.#io(op, () => m.exec());
    if (res === null) throw toFsError(null, op, Errno.EAGAIN);
    return res.map(([err, v]) => {
      if (err !== null) throw toFsError(err, op);
      return v;
    });
  }

  async doReset(): Promise<void> {
    this.#dirs.clear();
    if (this.keys.prefix === '' && !this.isCluster) {
      await this.#io('reset', () => (this.#client as Redis).flushdb());
      return;
    }
    await this.#io('reset', async () => {
      for (const node of this.#nodes()) {
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', this.keys.all, 'COUNT', 1000);
          cursor = next;
          if (keys.length > 0) await node.unlink(...keys);
        } while (cursor !== '0');
      }
    });
  }

  async isEmpty(): Promise<boolean> {
    return this.#io('isEmpty', async () => {
      const [inodes, rootEntries] = await Promise.all([this.#client.get(this.keys.totalInodes), this.#client.hlen(this.keys.entries(ROOT_INODE))]);
      if (num(inodes) > 0 || rootEntries > 0) return false;
      const allowed = new Set([this.keys.inode(ROOT_INODE), this.keys.inode(TRASH_INODE)]);
      for (const node of this.#nodes()) {
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', `${this.keys.inodePrefix}*`, 'COUNT', 1000);
          cursor = next;
          if (keys.some((k) => !allowed.has(k))) return false;
        } while (cursor !== '0');
      }
      return true;
    });
  }

  // ---- counters -------------------------------------------------------------------------------

  async allocateIds(kind: IdKind, count: number): Promise<bigint> {
    const key = kind === 'inode' ? this.keys.nextInode : this.keys.nextChunk;
    // Redis holds the last used id: INCRBY answers v and we own [v-count+1, v] (spec §B.4)
    const v = await this.#io('allocateIds', () => this.#client.incrby(key, count));
    return BigInt(v) - BigInt(count) + 1n;
  }

  async nextTrashId(): Promise<number> {
    return this.#io('nextTrashId', () => this.#client.incr(this.keys.nextTrash));
  }

  async getCounters(): Promise<Counters> {
    const k = this.keys;
    const v = await this.#io('getCounters', () => this.#client.mget(k.usedSpace, k.totalInodes, k.nextInode, k.nextChunk, k.nextSession, k.nextTrash));
    // dump meaning: nextInode/nextChunk are the Redis value + 1 (SQL's "next unused"); JuiceFS
    // dumps nextsession and nextTrash unchanged (redis.go DumpMeta/LoadMeta)
    return {
      usedSpace: num(v[0]),
      usedInodes: num(v[1]),
      nextInode: BigInt(v[2] ?? '0') + 1n,
      nextChunk: BigInt(v[3] ?? '0') + 1n,
      nextSession: num(v[4]),
      nextTrash: num(v[5]),
    };
  }

  // ---- attributes and lookup ------------------------------------------------------------------

  async doGetAttr(ino: Ino): Promise<Attr> {
    const a = await this.#io('getattr', () => this.#attrBatch.add(ino));
    if (a === null) throw toFsError(null, `getattr ${ino}`);
    return decodeAttr(a);
  }

  async doGetAttrs(inos: readonly Ino[]): Promise<(Attr | null)[]> {
    if (inos.length === 0) return [];
    const vals = await this.#io('getattrs', () => this.#client.mgetBuffer(...inos.map((i) => this.keys.inode(i))));
    return vals.map((v) => (v === null ? null : decodeAttr(v)));
  }

  async doLookup(parent: Ino, name: Buffer): Promise<{ ino: Ino; type: FileType; attr: Attr }> {
    const r = await this.#io('lookup', () => this.#lookupBatch.add({ parent, name }));
    // a miss is expected (every create looks its name up first): no stack trace, as the other engines
    if (r[0] === Errno.ENOENT) throw expectedFsError(Errno.ENOENT, `lookup ${parent}/${name.toString()}`);
    if (r[0] !== 0) throw toFsError(typeof r[0] === 'number' ? r[0] : new Error('malformed lookup reply'), 'lookup');
    const e = buf(r[1]);
    const a = buf(r[2]);
    if (e === null || a === null) throw toFsError(null, 'lookup');
    const { type, ino } = decodeEntry(e);
    return { ino, type, attr: decodeAttr(a) };
  }

  // ---- namespace ------------------------------------------------------------------------------

  /** A write is as durable as Redis makes it when it is answered (its appendfsync setting): nothing is deferred. */
  async durable(): Promise<void> {
    // nothing to wait for
  }

  async doMknod(t: MknodTxn): Promise<MknodResult> {
    const k = this.keys;
    if (t.attr.type === FileType.Symlink && t.symlinkTarget === undefined) throw new FsError(Errno.EINVAL, 'mknod: symlink without target');
    let parent: Buffer | null;
    try {
      const item = {
        keys: [k.inode(t.parent), k.entries(t.parent), k.inode(t.ino), k.symlink(t.ino)],
        args: [t.name, encodeAttr(t.attr), encodeEntry(t.attr.type, t.ino), t.symlinkTarget ?? '', t.parent.toString(), time12(t.now),
          (t.parent === TRASH_INODE ? '0' : '1') + threshold(t.skipDirMtimeMs)],
      };
      const [code, parentRaw] = await this.#io('mknod', () => this.#mknodBatch.add(item));
      if (code !== 0) throw toFsError(code, code === Errno.EIO ? `mknod: inode ${t.ino} is already in use` : 'mknod');
      parent = buf(parentRaw);
    } catch (err) {
      if (t.onExist === 'return' && err instanceof FsError && err.errno === Errno.EEXIST) return this.#existing(t);
      throw err;
    }
    this.#dirs.noteAdd(t.parent, t.name, t.attr.type, t.ino);
    return { ino: t.ino, attr: t.attr, existing: false, ...(parent !== null ? { parentAttr: decodeAttr(parent) } : {}) };
  }

  /** create without O_EXCL found the name taken: answer what is there now. */
  async #existing(t: MknodTxn): Promise<MknodResult> {
    const found = await this.doLookup(t.parent, t.name).catch((err: unknown) => {
      // the entry went away between the two steps: let BaseMeta retry the create
      if (err instanceof FsError && err.errno === Errno.ENOENT) throw new FsError(Errno.EAGAIN, 'create: entry vanished', { cause: err });
      throw err;
    });
    return { ino: found.ino, attr: found.attr, existing: true };
  }

  #victimKeys(ino: Ino): Record<'attr' | 'xattr' | 'parents' | 'symlink' | 'entries', string> {
    return { attr: this.keys.inode(ino), xattr: this.keys.xattr(ino), parents: this.keys.parents(ino), symlink: this.keys.symlink(ino), entries: this.keys.entries(ino) };
  }

  #trashArgs(trash: { dir: Ino; name: Buffer } | null): { trashName: Buffer | string; trashDec: string; trash8: Buffer } {
    if (trash === null) return { trashName: '', trashDec: '0', trash8: u64be(0n) };
    return { trashName: trash.name, trashDec: trash.dir.toString(), trash8: u64be(trash.dir) };
  }

  #unlinkResult(ino: Ino, entryType: FileType, outcome: string, raw: Buffer | null): UnlinkResult {
    const attr = raw === null ? null : decodeAttr(raw);
    return {
      ino,
      attr: outcome === 'deleted' ? null : attr,
      deleted: outcome === 'deleted',
      sustained: outcome === 'sustained',
      length: attr !== null && attr.type === FileType.File ? attr.length : 0,
      type: attr?.type ?? entryType,
    };
  }

  async doUnlink(t: UnlinkTxn): Promise<UnlinkResult> {
    const k = this.keys;
    const r = await this.#run(t.rmdir ? 'rmdir' : 'unlink', UNLINK, {
      parentAttr: k.inode(t.parent), parentEntries: k.entries(t.parent), ...this.#victimKeys(t.expectIno),
      trashEntries: k.entries(t.trash?.dir ?? 0n), delfiles: k.delfiles, sustained: k.sustained(t.sid),
      usedSpace: k.usedSpace, totalInodes: k.totalInodes, ...this.#statKeys(), ...this.#quotaKeys(),
    }, {
      name: t.name, expect8: u64be(t.expectIno), rmdir: t.rmdir ? '1' : '0', keepOpen: t.keepOpen ? '1' : '0',
      parentDec: t.parent.toString(), inoDec: t.expectIno.toString(), touchParent: isTrashIno(t.parent) ? '0' : '1',
      ...this.#trashArgs(t.trash), ...this.#timeArgs(t.now, t.skipDirMtimeMs),
    });
    const outcome = str(r[0]);
    const res = this.#unlinkResult(t.expectIno, t.rmdir ? FileType.Directory : FileType.File, outcome, buf(r[1]));
    const parent = buf(r[2]);
    if (parent !== null) res.parentAttr = decodeAttr(parent);
    this.#dirs.noteRemove(t.parent, t.name);
    if (outcome === 'trashed' && t.trash !== null) this.#dirs.noteAdd(t.trash.dir, t.trash.name, res.type, t.expectIno);
    return res;
  }

  async doRename(t: RenameTxn): Promise<RenameResult> {
    const k = this.keys;
    const dst = t.expectDstIno ?? toIno(0n);
    const v = this.#victimKeys(dst);
    const r = await this.#run('rename', RENAME, {
      srcParentAttr: k.inode(t.srcParent), srcParentEntries: k.entries(t.srcParent),
      dstParentAttr: k.inode(t.dstParent), dstParentEntries: k.entries(t.dstParent),
      srcAttr: k.inode(t.expectSrcIno), srcParents: k.parents(t.expectSrcIno),
      dstAttr: v.attr, dstXattr: v.xattr, dstParents: v.parents, dstSymlink: v.symlink, dstEntries: v.entries,
      trashEntries: k.entries(t.trash?.dir ?? 0n), delfiles: k.delfiles, sustained: k.sustained(t.sid),
      usedSpace: k.usedSpace, totalInodes: k.totalInodes, ...this.#statKeys(), ...this.#quotaKeys(),
    }, {
      srcName: t.srcName, dstName: t.dstName, expectSrc8: u64be(t.expectSrcIno), expectDst8: t.expectDstIno === null ? '' : u64be(t.expectDstIno),
      flags: String(t.flags), srcParentDec: t.srcParent.toString(), dstParentDec: t.dstParent.toString(),
      srcParent8: u64be(t.srcParent), dstParent8: u64be(t.dstParent), dstDec: dst.toString(), keepOpen: t.dstKeepOpen ? '1' : '0',
      touchSrc: isTrashIno(t.srcParent) ? '0' : '1', touchDst: isTrashIno(t.dstParent) ? '0' : '1',
      inodePrefix: k.inodePrefix, ...this.#trashArgs(t.trash), ...this.#timeArgs(t.now, t.skipDirMtimeMs),
    });
    const sa = buf(r[0]);
    if (sa === null) throw toFsError(new Error('rename script answered no attr'), 'rename');
    const attr = decodeAttr(sa);
    const outcome = str(r[1]);
    const victimRaw = buf(r[2]);
    if (outcome === 'none') return { ino: t.expectSrcIno, attr, replaced: null };
    this.#dirs.noteRemove(t.srcParent, t.srcName);
    this.#dirs.noteAdd(t.dstParent, t.dstName, attr.type, t.expectSrcIno);
    if (outcome === 'exchanged') {
      const vt = victimRaw === null ? FileType.File : decodeAttr(victimRaw).type;
      this.#dirs.noteAdd(t.srcParent, t.srcName, vt, dst);
      return { ino: t.expectSrcIno, attr, replaced: null };
    }
    if (t.expectDstIno === null) return { ino: t.expectSrcIno, attr, replaced: null };
    const replaced = this.#unlinkResult(dst, FileType.File, outcome, victimRaw);
    if (outcome === 'trashed' && t.trash !== null) this.#dirs.noteAdd(t.trash.dir, t.trash.name, replaced.type, dst);
    return { ino: t.expectSrcIno, attr, replaced };
  }

  async doLink(t: LinkTxn): Promise<Attr> {
    const r = await this.#run('link', LINK, {
      parentAttr: this.keys.inode(t.parent), parentEntries: this.keys.entries(t.parent), attr: this.keys.inode(t.ino),
      parents: this.keys.parents(t.ino), ...this.#statKeys(),
    }, { name: t.name, ino8: u64be(t.ino), parentDec: t.parent.toString(), ...this.#timeArgs(t.now, t.skipDirMtimeMs) });
    const a = buf(r[0]);
    if (a === null) throw toFsError(new Error('link script answered no attr'), 'link');
    const attr = decodeAttr(a);
    this.#dirs.noteAdd(t.parent, t.name, attr.type, t.ino);
    return attr;
  }

  async doSetAttr(t: SetAttrTxn): Promise<Attr> {
    let mask = 0;
    if (t.mode !== undefined) mask |= SETATTR_MODE;
    if (t.uid !== undefined) mask |= SETATTR_UID;
    if (t.gid !== undefined) mask |= SETATTR_GID;
    if (t.atime !== undefined) mask |= SETATTR_ATIME;
    if (t.mtime !== undefined) mask |= SETATTR_MTIME;
    if (t.flags !== undefined) mask |= SETATTR_FLAGS;
    const zero12 = Buffer.alloc(12);
    const r = await this.#run('setattr', SETATTR, { attr: this.keys.inode(t.ino) }, {
      mask: String(mask), mode: String((t.mode ?? 0) & 0o7777), uid4: u32be(t.uid ?? 0), gid4: u32be(t.gid ?? 0),
      atime12: t.atime === undefined ? zero12 : time12(t.atime), mtime12: t.mtime === undefined ? zero12 : time12(t.mtime),
      flags: String((t.flags ?? 0) & 0xff), now12: time12(t.now),
    });
    const a = buf(r[0]);
    if (a === null) throw toFsError(new Error('setattr script answered no attr'), 'setattr');
    return decodeAttr(a);
  }

  async doTruncate(t: TruncateTxn): Promise<Attr> {
    if (!Number.isSafeInteger(t.length) || t.length < 0) throw new FsError(Errno.EINVAL, `truncate to ${t.length}`);
    const r = await this.#run('truncate', TRUNCATE, { attr: this.keys.inode(t.ino), usedSpace: this.keys.usedSpace, ...this.#statKeys() }, {
      length: String(t.length), chunkPrefix: this.keys.chunkPrefix(t.ino), now12: time12(t.now),
    });
    const a = buf(r[0]);
    if (a === null) throw toFsError(new Error('truncate script answered no attr'), 'truncate');
    return decodeAttr(a);
  }

  async doReadlink(ino: Ino): Promise<Buffer> {
    const [target, attr] = await this.#io('readlink', () => Promise.all([
      this.#client.getBuffer(this.keys.symlink(ino)), this.#client.getBuffer(this.keys.inode(ino)),
    ]));
    if (attr === null) throw toFsError(null, `readlink ${ino}`);
    if (decodeAttr(attr).type !== FileType.Symlink) throw new FsError(Errno.EINVAL, `readlink ${ino}: not a symlink`);
    if (target === null) throw new FsError(Errno.EIO, `readlink ${ino}: symlink without target`);
    return target;
  }

  // ---- readdir --------------------------------------------------------------------------------

  async doReaddir(ino: Ino, after: bigint, limit: number, plus: boolean): Promise<ReaddirPage> {
    const fromStart = after < FIRST_POSITION;
    const snap = await this.#dirs.snapshot(ino, fromStart, () => this.#readDir(ino));
    const onRankOverflow = (): void => {
      if (!LOGGED_ONCE.has(`rank${ino}`)) {
        LOGGED_ONCE.add(`rank${ino}`);
        log.error({ ino }, 'more than 16 names share one 58-bit hash; their readdir positions are not unique');
      }
    };
    for (;;) {
      const page = snap.page(after, Math.max(1, limit), onRankOverflow);
      if (!plus || page.entries.length === 0) {
        return { entries: page.entries.map((e): DirEntry => ({ name: e.name, ino: e.ino, type: e.type, cookie: e.position })), more: page.more };
      }
      const attrs = await this.doGetAttrs(page.entries.map((e) => e.ino));
      const withAttr: DirEntry[] = [];
      page.entries.forEach((e, i) => {
        const a = attrs[i];
        // an entry whose inode vanished meanwhile was removed concurrently: skip it
        if (a !== null && a !== undefined) withAttr.push({ name: e.name, ino: e.ino, type: e.type, cookie: e.position, attr: a });
      });
      // never answer an empty page with more = true (callers stop on an empty page)
      if (withAttr.length > 0 || !page.more) return { entries: withAttr, more: page.more };
      after = page.entries[page.entries.length - 1]?.position ?? after;
    }
  }

  async #readDir(ino: Ino): Promise<DirSnapshot> {
    const builtAt = Date.now();
    const key = this.keys.entries(ino);
    const pairs: { name: Buffer; type: FileType; ino: Ino }[] = [];
    let cursor = '0';
    let first = true;
    await this.#io('readdir', async () => {
      do {
        const scan = this.#client.hscanBuffer(key, cursor, 'COUNT', 10000);
        if (first) {
          const [attr] = await Promise.all([this.#client.getBuffer(this.keys.inode(ino)), scan]);
          if (attr === null) throw toFsError(null, `readdir ${ino}`);
          if (decodeAttr(attr).type !== FileType.Directory) throw new FsError(Errno.ENOTDIR, `readdir ${ino}`);
          first = false;
        }
        const [next, items] = await scan;
        cursor = next.toString();
        for (let i = 0; i + 1 < items.length; i += 2) {
          const name = items[i];
          const value = items[i + 1];
          if (name === undefined || value === undefined) continue;
          if (value.length !== 9) {
            log.warn({ dir: ino, name: name.toString('latin1') }, 'corrupt directory entry skipped');
            continue;
          }
          const e = decodeEntry(value);
          pairs.push({ name, type: e.type, ino: e.ino });
        }
      } while (cursor !== '0');
    });
    return new DirSnapshot(pairs, builtAt);
  }

  // ---- xattrs ---------------------------------------------------------------------------------

  async doGetXattr(ino: Ino, name: Buffer): Promise<Buffer> {
    const v = await this.#io('getxattr', () => this.#xattrBatch.add({ ino, name }));
    if (v === null) throw toFsError(null, 'getxattr', Errno.ENODATA);
    return v;
  }

  async doGetXattrs(inos: readonly Ino[], name: Buffer): Promise<(Buffer | null)[]> {
    return this.#io('getxattrs', () => Promise.all(inos.map((ino) => this.#xattrBatch.add({ ino, name }))));
  }

  async doSetXattr(ino: Ino, name: Buffer, value: Buffer, flags: number): Promise<void> {
    await this.#run('setxattr', SET_XATTR, { attr: this.keys.inode(ino), xattr: this.keys.xattr(ino) }, { name, value, flags: String(flags) });
  }

  async doListXattr(ino: Ino): Promise<Buffer[]> {
    return this.#io('listxattr', () => this.#client.hkeysBuffer(this.keys.xattr(ino)));
  }

  async doRemoveXattr(ino: Ino, name: Buffer): Promise<void> {
    const n = await this.#io('removexattr', () => this.#client.hdel(this.keys.xattr(ino), name));
    if (n === 0) throw toFsError(null, 'removexattr', Errno.ENODATA);
  }

  // ---- data -----------------------------------------------------------------------------------

  async doReadSlices(ino: Ino, indx: ChunkIndex): Promise<SliceRecord[]> {
    const vals = await this.#io('readSlices', () => this.#client.lrangeBuffer(this.keys.chunk(ino, indx), 0, -1));
    return vals.map((v) => {
      if (v.length !== 24) throw new FsError(Errno.EIO, `corrupt slice record in chunk ${ino}_${indx}: ${v.length} bytes`);
      return decodeSlice(v);
    });
  }

  async doWriteSlice(t: WriteTxn): Promise<WriteResult> {
    const newEnd = t.indx * CHUNK_SIZE + t.slice.pos + t.slice.len;
    const r = await this.#run('write', WRITE, {
      attr: this.keys.inode(t.ino), chunk: this.keys.chunk(t.ino, t.indx), usedSpace: this.keys.usedSpace, ...this.#statKeys(),
    }, { record: encodeSlice(t.slice), newEnd: String(newEnd), mtime12: time12(t.mtime), now12: time12(t.now) });
    const a = buf(r[0]);
    if (a === null) throw toFsError(new Error('write script answered no attr'), 'write');
    return { attr: decodeAttr(a), listLength: num(r[1]) };
  }

  async doCloneRange(t: CloneRangeTxn): Promise<Attr> {
    const k = this.keys;
    const [srcRaw, dstRaw] = await this.#io('clone', () => this.#client.mgetBuffer(k.inode(t.src), k.inode(t.dst)));
    if (srcRaw === null || srcRaw === undefined || dstRaw === null || dstRaw === undefined) throw toFsError(null, 'clone');
    const src = decodeAttr(srcRaw);
    const dst = decodeAttr(dstRaw);
    if (src.type !== FileType.File || dst.type !== FileType.File) throw new FsError(Errno.EINVAL, 'clone: not a regular file');
    if (t.srcOff >= src.length || t.length <= 0) return dst;
    const length = Math.min(t.length, src.length - t.srcOff);
    const srcChunks: number[] = [];
    for (let i = Math.floor(t.srcOff / CHUNK_SIZE); i <= Math.floor((t.srcOff + length - 1) / CHUNK_SIZE); i++) srcChunks.push(i);
    const lists = await this.#io('clone', () => Promise.all(srcChunks.map((i) => this.#client.lrangeBuffer(k.chunk(t.src, i), 0, -1))));
    const byIndex = new Map<number, SliceRecord[]>();
    srcChunks.forEach((indx, n) => byIndex.set(indx, (lists[n] ?? []).map((v) => decodeSlice(v))));
    const dstLists = new Map<number, SliceRecord[]>();
    const refs: string[] = [];
    for (const { indx, record } of planClone((i) => byIndex.get(i) ?? [], t.srcOff, t.dstOff, length)) {
      let list = dstLists.get(indx);
      if (list === undefined) dstLists.set(indx, list = []);
      list.push(record);
      if (record.id !== 0n) refs.push(RedisKeys.sliceRefField(record.id, record.size));
    }
    const dstIdx = [...dstLists.keys()];
    const r = await this.#run('clone', CLONE, {
      srcAttr: k.inode(t.src), dstAttr: k.inode(t.dst), usedSpace: k.usedSpace, sliceRef: k.sliceRef, ...this.#statKeys(),
    }, {
      srcAttrExpected: srcRaw, nSrc: String(srcChunks.length), nDst: String(dstIdx.length), nRefs: String(refs.length),
      newEnd: String(t.dstOff + length), now12: time12(t.now),
    }, [
      ...srcChunks.map((i) => k.chunk(t.src, i)),
      ...dstIdx.map((i) => k.chunk(t.dst, i)),
    ], [
      ...srcChunks.map((_, n) => Buffer.concat(lists[n] ?? [])),
      ...dstIdx.map((i) => encodeSlices(dstLists.get(i) ?? [])),
      ...refs,
    ]);
    const a = buf(r[0]);
    if (a === null) throw toFsError(new Error('clone script answered no attr'), 'clone');
    return decodeAttr(a);
  }

  async doListChunks(ino: Ino, queuedLength?: number): Promise<ChunkIndex[]> {
    return this.#io('listChunks', async () => {
      // like JuiceFS, a file's chunks are those below its length (from the attr, or from its
      // delfiles entry once the attr is gone); a key SCAN is the last resort
      const lists = (length: number): Promise<number[]> =>
        Promise.all(Array.from({ length: Math.ceil(length / CHUNK_SIZE) }, (_, i) => this.#client.llen(this.keys.chunk(ino, i))));
      // a released file's attr is normally gone: its list lengths go out with the attr read
      const guessed = queuedLength !== undefined ? lists(queuedLength) : null;
      guessed?.catch(() => undefined);
      const attr = await this.#client.getBuffer(this.keys.inode(ino));
      let sizes: number[] | null = null;
      if (attr === null && guessed !== null) sizes = await guessed;
      else {
        const length = attr === null ? await this.#queuedLength(ino) : decodeAttr(attr).length;
        if (length !== null) sizes = await lists(length);
      }
      if (sizes !== null) return sizes.flatMap((len, i) => (len > 0 ? [toChunkIndex(i)] : []));
      const prefix = this.keys.chunkPrefix(ino);
      const found = new Set<number>();
      for (const node of this.#nodes()) {
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 10000);
          cursor = next;
          for (const key of keys) {
            const i = Number(key.slice(prefix.length));
            if (Number.isSafeInteger(i) && i >= 0) found.add(i);
          }
        } while (cursor !== '0');
      }
      return [...found].sort((a, b) => a - b).map(toChunkIndex);
    });
  }

  /** Members of `delfiles` for an inode ("<ino>:<length>"). */
  async #delFileMembers(ino: Ino): Promise<string[]> {
    let cursor = '0';
    const members: string[] = [];
    do {
      const [next, items] = await this.#client.zscan(this.keys.delfiles, cursor, 'MATCH', `${ino}:*`, 'COUNT', 1000);
      cursor = next;
      for (let i = 0; i < items.length; i += 2) {
        const m = items[i];
        if (m !== undefined && m.startsWith(`${ino}:`)) members.push(m);
      }
    } while (cursor !== '0');
    return members;
  }

  async #queuedLength(ino: Ino): Promise<number | null> {
    const lengths = (await this.#delFileMembers(ino)).map((m) => Number(m.slice(m.indexOf(':') + 1))).filter(Number.isSafeInteger);
    return lengths.length === 0 ? null : Math.max(...lengths);
  }

  /** The nodes holding this volume's keys (every master on a cluster). */
  #nodes(): Redis[] {
    return this.#client instanceof Cluster ? this.#client.nodes('master') : [this.#client];
  }

  async doDropChunk(ino: Ino, indx: ChunkIndex): Promise<{ id: SliceId; size: number }[]> {
    const r = await this.#run('dropChunk', DROP_CHUNKS, { sliceRef: this.keys.sliceRef }, {}, [this.keys.chunk(ino, indx)]);
    return decodeUnreferenced(buf(r[0]));
  }

  async doDropChunks(ino: Ino, length: number): Promise<{ id: SliceId; size: number }[]> {
    const lists = Array.from({ length: Math.ceil(length / CHUNK_SIZE) }, (_, i) => this.keys.chunk(ino, i));
    if (lists.length === 0) return [];
    const r = await this.#run('dropChunks', DROP_CHUNKS, { sliceRef: this.keys.sliceRef }, {}, lists);
    return decodeUnreferenced(buf(r[0]));
  }

  async doCompactChunk(t: CompactChunkTxn): Promise<CompactChunkResult> {
    if (t.skipped < 0 || t.skipped > t.old.length) throw new FsError(Errno.EINVAL, `compaction skips ${t.skipped} of ${t.old.length} records`);
    const r = await this.#run('compactChunk', COMPACT_CHUNK, {
      chunk: this.keys.chunk(t.ino, t.indx), sliceRef: this.keys.sliceRef, delSlices: this.keys.delSlices,
    }, {
      old: encodeSlices(t.old), skipped: String(t.skipped), record: encodeSlice(t.slice),
      newRef: RedisKeys.sliceRefField(t.slice.id, t.slice.size), delayed: t.delayed ? '1' : '0', delField: `${t.slice.id}_${t.now.sec}`,
    });
    if (num(r[0]) !== 1) return { applied: false, freed: [] };
    return { applied: true, freed: decodeUnreferenced(buf(r[1])) };
  }

  async doForgetSlice(id: SliceId, size: number): Promise<void> {
    await this.#io('forgetSlice', () => this.#client.hdel(this.keys.sliceRef, RedisKeys.sliceRefField(id, size)));
  }

  async doCleanupZeroRef(id: SliceId, size: number): Promise<void> {
    await this.#run('cleanupZeroRef', CLEANUP_ZERO_REF, { sliceRef: this.keys.sliceRef }, { field: RedisKeys.sliceRefField(id, size) });
  }

  async doCleanupSliceRefs(limit: number): Promise<{ id: SliceId; size: number }[]> {
    const out: { id: SliceId; size: number }[] = [];
    for (const [field, value] of await this.#hashFields('cleanupSliceRefs', this.keys.sliceRef)) {
      const m = /^k(\d+)_(\d+)$/.exec(field);
      if (m === null) continue;
      const id = toSliceId(BigInt(m[1] ?? '0'));
      const size = Number(m[2]);
      if (value === '0') await this.doCleanupZeroRef(id, size);
      else if (Number(value) < 0 && out.length < limit) out.push({ id, size });
    }
    return out;
  }

  async doReleaseDelayedSlices(edgeSec: number): Promise<{ id: SliceId; size: number }[]> {
    const out: { id: SliceId; size: number }[] = [];
    for (const [field] of await this.#hashFields('releaseDelayedSlices', this.keys.delSlices)) {
      const m = /^(\d+)_(\d+)$/.exec(field);
      if (m === null || Number(m[2]) >= edgeSec) continue;
      const r = await this.#run('releaseDelayed', RELEASE_DELAYED, { sliceRef: this.keys.sliceRef, delSlices: this.keys.delSlices }, { field });
      out.push(...decodeUnreferenced(buf(r[0])));
    }
    return out;
  }

  /** Every (field, value) of a hash, by HSCAN (fields may repeat; callers are idempotent). */
  async #hashFields(op: string, key: string): Promise<[string, string][]> {
    const out: [string, string][] = [];
    let cursor = '0';
    do {
      const [next, flat] = await this.#io(op, () => this.#client.hscan(key, cursor, 'COUNT', 1000));
      for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i] ?? '', flat[i + 1] ?? '']);
      cursor = next;
    } while (cursor !== '0');
    return out;
  }

  async doSliceRefs(id: SliceId, size: number): Promise<number> {
    const v = await this.#io('sliceRefs', () => this.#client.hget(this.keys.sliceRef, RedisKeys.sliceRefField(id, size)));
    return v === null ? 1 : Number(v) + 1;
  }

  async *doScanSlices(): AsyncIterable<SliceScanItem> {
    const chunkKey = new RegExp(`^${escapeRegExp(this.keys.prefix)}c(\\d+)_(\\d+)$`);
    for (const node of this.#nodes()) {
      let cursor = '0';
      do {
        const [next, keys] = await this.#io('scanSlices', () => node.scan(cursor, 'MATCH', `${this.keys.prefix}c*`, 'COUNT', 1000));
        cursor = next;
        const chunks = keys.flatMap((key) => {
          const m = chunkKey.exec(key);
          return m === null ? [] : [{ key, ino: toIno(BigInt(m[1] ?? '0')), indx: toChunkIndex(Number(m[2])) }];
        });
        if (chunks.length === 0) continue;
        const pipe = node.pipeline();
        for (const c of chunks) pipe.lrangeBuffer(c.key, 0, -1);
        const replies = (await this.#io('scanSlices', () => pipe.exec())) ?? [];
        for (const [i, c] of chunks.entries()) {
          const [err, list] = replies[i] ?? [null, []];
          if (err !== null) throw toFsError(err, 'scanSlices');
          const slices = (list as Buffer[]).map((b) => decodeSlice(b));
          if (slices.length > 0) yield { kind: 'chunk', ino: c.ino, indx: c.indx, slices };
        }
      } while (cursor !== '0');
    }
    const delayed = await this.#io('scanSlices', () => this.#client.hgetallBuffer(this.keys.delSlices));
    for (const v of Object.values(delayed)) yield { kind: 'delayed', slices: decodeDelayedSlices(v) };
    let cursor = '0';
    do {
      const [next, items] = await this.#io('scanSlices', () => this.#client.hscan(this.keys.sliceRef, cursor, 'COUNT', 1000));
      cursor = next;
      for (let i = 0; i + 1 < items.length; i += 2) {
        const m = /^k(\d+)_(\d+)$/.exec(items[i] ?? '');
        if (m !== null && Number(items[i + 1]) < 0) yield { kind: 'unreferenced', id: toSliceId(BigInt(m[1] ?? '0')), size: Number(m[2]) };
      }
    } while (cursor !== '0');
  }

  async doGetParents(ino: Ino): Promise<Map<Ino, number>> {
    return this.#io('getParents', async () => {
      const a = await this.#client.getBuffer(this.keys.inode(ino));
      if (a === null) throw toFsError(null, `parents ${ino}`);
      const parent = decodeAttr(a).parent;
      if (parent !== 0n) return new Map([[parent, 1]]);
      const h = await this.#client.hgetall(this.keys.parents(ino));
      return new Map(Object.entries(h).map(([p, n]) => [toIno(BigInt(p)), Number(n)]));
    });
  }

  async doListDelFiles(limit: number): Promise<DelFile[]> {
    const v = await this.#io('listDelFiles', () => this.#client.zrange(this.keys.delfiles, 0, Math.max(0, limit - 1), 'WITHSCORES'));
    const out: DelFile[] = [];
    for (let i = 0; i + 1 < v.length; i += 2) {
      const m = /^(\d+):(\d+)$/.exec(v[i] ?? '');
      if (m === null) continue;
      out.push({ ino: toIno(BigInt(m[1] ?? '0')), length: Number(m[2]), expire: Number(v[i + 1]) });
    }
    return out;
  }

  async doRemoveDelFile(ino: Ino, length?: number): Promise<void> {
    await this.#io('removeDelFile', async () => {
      // the member is "<ino>:<length>": with the length known, no scan of the whole set
      if (length !== undefined && await this.#client.zrem(this.keys.delfiles, `${ino}:${length}`) > 0) return;
      const members = await this.#delFileMembers(ino);
      if (members.length > 0) await this.#client.zrem(this.keys.delfiles, ...members);
    });
  }

  async doDeleteSustained(sid: number, ino: Ino): Promise<DelFile | null> {
    const nowSec = Math.floor(Date.now() / 1000);
    const r = await this.#run('deleteSustained', DELETE_SUSTAINED, {
      attr: this.keys.inode(ino), xattr: this.keys.xattr(ino), parents: this.keys.parents(ino), delfiles: this.keys.delfiles,
      usedSpace: this.keys.usedSpace, totalInodes: this.keys.totalInodes, sustained: this.keys.sustained(sid),
    }, { inoDec: ino.toString(), nowSec: String(nowSec) });
    const a = buf(r[0]);
    if (a === null) return null;
    return { ino, length: decodeAttr(a).length, expire: nowSec };
  }

  // ---- sessions and leases --------------------------------------------------------------------

  async doNewSession(info: SessionInfo, expire: number): Promise<number> {
    const sid = await this.#io('newSession', () => this.#client.incrby(this.keys.nextSession, 1));
    const m = this.#client.multi();
    m.zadd(this.keys.allSessions, expire, String(sid));
    m.hset(this.keys.sessionInfos, String(sid), JSON.stringify(info));
    await this.#exec('newSession', m);
    return sid;
  }

  async doRefreshSession(sid: number, info: SessionInfo, expire: number): Promise<void> {
    const m = this.#client.multi();
    m.hsetnx(this.keys.sessionInfos, String(sid), JSON.stringify(info));
    m.zadd(this.keys.allSessions, expire, String(sid));
    const [created] = await this.#exec('refreshSession', m);
    if (created === 1) log.warn({ sid }, 'session record had been cleaned up by another client; registered again');
  }

  async doListSessions(): Promise<{ sid: number; expire: number; info: SessionInfo | null; sustained: Ino[] }[]> {
    return this.#io('listSessions', async () => {
      const z = await this.#client.zrange(this.keys.allSessions, 0, -1, 'WITHSCORES');
      const out: { sid: number; expire: number; info: SessionInfo | null; sustained: Ino[] }[] = [];
      const pending: Promise<void>[] = [];
      for (let i = 0; i + 1 < z.length; i += 2) {
        const sid = Number(z[i]);
        const item = { sid, expire: Number(z[i + 1]), info: null as SessionInfo | null, sustained: [] as Ino[] };
        out.push(item);
        pending.push((async () => {
          const [json, members] = await Promise.all([this.#client.hget(this.keys.sessionInfos, String(sid)), this.#client.smembers(this.keys.sustained(sid))]);
          if (json !== null) {
            try {
              item.info = JSON.parse(json) as SessionInfo;
            } catch {
              log.warn({ sid }, 'unparsable session info');
            }
          }
          item.sustained = members.map((m) => toIno(BigInt(m)));
        })());
      }
      await Promise.all(pending);
      return out;
    });
  }

  async doFindStaleSessions(now: number, limit: number): Promise<number[]> {
    return this.#io('findStaleSessions', async () => {
      const [cur, legacy] = await Promise.all([
        this.#client.zrangebyscore(this.keys.allSessions, '-inf', now, 'LIMIT', 0, limit),
        // pre-1.0 clients: a heartbeat older than 5 minutes means the session is gone
        this.#client.zrangebyscore(this.keys.legacySessions, '-inf', now - 300, 'LIMIT', 0, limit),
      ]);
      return [...new Set([...cur, ...legacy].map(Number))].slice(0, limit);
    });
  }

  async doRemoveSession(sid: number): Promise<void> {
    await this.#run('removeSession', REMOVE_SESSION, {
      locked: this.keys.locked(sid), sessionInfos: this.keys.sessionInfos, allSessions: this.keys.allSessions, legacySessions: this.keys.legacySessions,
    }, { sid: String(sid) });
  }

  async doSetIfSmall(name: string, now: number, diff: number): Promise<boolean> {
    const r = await this.#run('setIfSmall', SET_IF_SMALL, { lease: this.keys.lease(name) }, { now: String(now), diff: String(diff) });
    return num(r[0]) === 1;
  }

  // ---- stats, quotas, ACLs --------------------------------------------------------------------

  async doGetDirStats(ino: Ino): Promise<DirStats | null> {
    const f = ino.toString();
    const [length, space, inodes] = await this.#io('dirStats', () => Promise.all([
      this.#client.hget(this.keys.dirDataLength, f), this.#client.hget(this.keys.dirUsedSpace, f), this.#client.hget(this.keys.dirUsedInodes, f),
    ]));
    if (length === null && space === null && inodes === null) return null;
    return { dataLength: num(length), usedSpace: num(space), usedInodes: num(inodes) };
  }

  async #quotas(quotaKey: string, spaceKey: string, inodesKey: string, op: string): Promise<Map<string, Quota>> {
    const [q, s, n] = await this.#io(op, () => Promise.all([
      this.#client.hgetallBuffer(quotaKey), this.#client.hgetall(spaceKey), this.#client.hgetall(inodesKey),
    ]));
    const out = new Map<string, Quota>();
    for (const [field, value] of Object.entries(q)) {
      if (value.length !== 16) continue;
      const { maxSpace, maxInodes } = decodeQuota(value);
      out.set(field, { maxSpace: Number(maxSpace), maxInodes: Number(maxInodes), usedSpace: num(s[field]), usedInodes: num(n[field]) });
    }
    return out;
  }

  async doGetDirQuotas(): Promise<Map<Ino, Quota>> {
    const m = await this.#quotas(this.keys.dirQuota, this.keys.dirQuotaUsedSpace, this.keys.dirQuotaUsedInodes, 'dirQuotas');
    return new Map([...m].map(([k, v]) => [toIno(BigInt(k)), v]));
  }

  async doGetUserGroupQuotas(kind: 'user' | 'group'): Promise<Map<number, Quota>> {
    const k = this.keys.userGroupQuota(kind);
    const m = await this.#quotas(k.quota, k.usedSpace, k.usedInodes, `${kind}Quotas`);
    return new Map([...m].map(([id, v]) => [Number(id), v]));
  }

  async doGetAcl(id: number): Promise<AclRule | null> {
    const v = await this.#io('acl', () => this.#client.hgetBuffer(this.keys.acl, String(id)));
    return v === null ? null : decodeAclRule(v);
  }

  // ---- WebDAV locks ---------------------------------------------------------------------------

  async doReadDavLocks(): Promise<DavLockTable> {
    const m = this.#client.multi();
    m.hgetallBuffer(this.keys.davLocks);
    m.get(this.keys.davLocksVersion);
    const [locks, version] = await this.#exec('readDavLocks', m) as [Record<string, Buffer>, string | null];
    return { version: num(version), locks: new Map(Object.entries(locks)) };
  }

  async doReadDavLocksVersion(): Promise<number> {
    return num(await this.#io('readDavLocksVersion', () => this.#client.get(this.keys.davLocksVersion)));
  }

  async doUpdateDavLocks(version: number, put: ReadonlyMap<string, Buffer>, remove: readonly string[]): Promise<boolean> {
    const extra: ArgValue[] = [String(put.size)];
    for (const [token, value] of put) extra.push(token, value);
    extra.push(...remove);
    const r = await this.#run('updateDavLocks', UPDATE_DAV_LOCKS, { locks: this.keys.davLocks, version: this.keys.davLocksVersion },
      { version: String(version) }, [], extra);
    return num(r[0]) === 1;
  }

  async newLoader(): Promise<VolumeLoader> {
    if (!(await this.isEmpty())) throw new FsError(Errno.ENOTEMPTY, 'load: the volume already has files');
    this.#dirs.clear();
    return new RedisLoader(this.#client, this.keys, (err, op) => toFsError(err, op));
  }

  /** For logs: the URL this engine was opened with, password removed. */
  toString(): string {
    return `RedisEngine(${this.#url}${this.isCluster ? ', cluster' : ''})`;
  }
}

/**
 * While the connection is down, ioredis queues commands and reconnects after RECONNECT_STEP_MS,
 * twice that, ... at most RECONNECT_MAX_MS apart; a queued command fails (MaxRetriesPerRequestError,
 * ETIMEDOUT: it was not sent) after MAX_RETRIES_PER_REQUEST failed attempts. So while Redis refuses
 * connections a call answers within 2 to 3 s (plus connectTimeout per attempt when packets are
 * dropped): NFS clients get JUKEBOX and retry by themselves, WebDAV clients 503, instead of waiting
 * up to 40 s (ioredis's defaults: 20 attempts up to 2 s apart) for an EIO. A Redis restart or
 * failover shorter than that is ridden out.
 * A connection that goes silent instead (a network partition, a firewall or NAT that dropped its
 * state, a hung server) is dropped once a reply has been awaited READ_TIMEOUT_MS with no byte
 * received (the URL's `read-timeout`, JuiceFS's option and default), and then handled as above,
 * instead of waiting for TCP to give up after about 15 minutes: calls made from then on fail as
 * above. A command that was in flight on it is sent again once a reconnect succeeds (or fails
 * with the queued ones when every reconnect attempt fails to connect). Idle connections send TCP
 * keepalives so that firewalls and NAT keep their state.
 */
const RECONNECT_STEP_MS = 100;
const RECONNECT_MAX_MS = 500;
const MAX_RETRIES_PER_REQUEST = 6;
const READ_TIMEOUT_MS = 30_000;
const KEEPALIVE_MS = 60_000;

function baseOptions(target: RedisTarget, opts: RedisEngineOptions): RedisOptions {
  const o: RedisOptions = {
    lazyConnect: true,
    enableAutoPipelining: opts.autoPipelining ?? false,
    connectTimeout: opts.connectTimeoutMs ?? 10_000,
    maxRetriesPerRequest: MAX_RETRIES_PER_REQUEST,
    retryStrategy: (attempt) => Math.min(attempt * RECONNECT_STEP_MS, RECONNECT_MAX_MS),
    keepAlive: KEEPALIVE_MS,
  };
  const readTimeoutMs = target.readTimeoutMs ?? READ_TIMEOUT_MS;
  // no commandTimeout: ioredis would send a command it had already failed once a reconnect
  // succeeds, so an old write could land after newer ones
  if (readTimeoutMs > 0) o.socketTimeout = Math.max(1, Math.ceil(readTimeoutMs));
  if (target.username !== undefined) o.username = target.username;
  if (target.password !== undefined) o.password = target.password;
  const tls = redisTlsOptions(target);
  if (tls !== undefined) o.tls = tls;
  return o;
}

/** Opens the engine for a metadata URL (spec §B.1), detecting Redis Cluster on tcp URLs. */
export async function openRedisEngine(url: string, opts: RedisEngineOptions = {}): Promise<RedisEngine> {
  const target = parseRedisUrl(url, opts.env ?? process.env);
  if (target.ignored.length > 0) log.warn({ url: redactUrl(url), options: target.ignored }, 'redis url options that Ferry does not use are ignored');
  const base = baseOptions(target, opts);
  const a = target.address;
  const engineOpts = { ...opts, url };
  const ready = async (engine: RedisEngine): Promise<RedisEngine> => {
    try {
      await engine.loadScripts();
    } catch (err) {
      await engine.close();
      throw err;
    }
    return engine;
  };
  const connect = async <C extends Client>(client: C): Promise<C> => {
    // ioredis reports the reason (WRONGPASS, ECONNREFUSED...) as an 'error' event and rejects
    // connect() with a bare "Connection is closed": map the reason
    let reason: unknown = null;
    const onError = (err: unknown): void => { reason = err; };
    client.on('error', onError);
    try {
      await client.connect();
      return client;
    } catch (err) {
      client.disconnect();
      throw toFsError(reason ?? err, `connect ${redactUrl(url)}`);
    } finally {
      client.off('error', onError);
    }
  };
  if (a.kind === 'unix') return ready(new RedisEngine(await connect(new Redis({ ...base, path: a.path, db: target.db })), '', engineOpts));
  if (a.kind === 'sentinel') {
    // failoverDetector: on the sentinels' +switch-master the connection drops and asks them again,
    // instead of writing to the old master until it is demoted
    const o: RedisOptions = { ...base, sentinels: a.sentinels, name: a.masterName, db: target.db, failoverDetector: true };
    if (target.sentinelPassword !== undefined) o.sentinelPassword = target.sentinelPassword;
    if (base.tls !== undefined) {
      // the sentinels speak TLS too (as in JuiceFS); servername stays unset: each has its own host
      const { servername: _name, ...sentinelTls } = base.tls;
      o.enableTLSForSentinelMode = true;
      o.sentinelTLS = sentinelTls;
    }
    return ready(new RedisEngine(await connect(new Redis(o)), '', engineOpts));
  }
  let cluster = opts.cluster;
  if (cluster === undefined) {
    // probe without SELECT: a cluster node refuses SELECT of a non-zero db
    const probe = await connect(new Redis({ ...base, host: a.host, port: a.port, enableAutoPipelining: false }));
    try {
      const info = await probe.info('cluster');
      cluster = /cluster_enabled:1/.test(info);
    } catch (err) {
      throw toFsError(err, 'detect cluster');
    } finally {
      probe.disconnect();
    }
  }
  if (!cluster) return ready(new RedisEngine(await connect(new Redis({ ...base, host: a.host, port: a.port, db: target.db })), '', engineOpts));
  const { lazyConnect: _lazy, enableAutoPipelining, ...redisOptions } = base;
  const c = await connect(new Cluster([{ host: a.host, port: a.port }], { lazyConnect: true, enableAutoPipelining: enableAutoPipelining ?? false, redisOptions }));
  log.info({ url: redactUrl(url) }, 'redis cluster detected: keys use the {db} hash tag');
  return ready(new RedisEngine(c, `{${target.db}}`, engineOpts));
}

/** A script's concatenated 12-byte (u64 id, u32 size) records of unreferenced slices, each slice once. */
function decodeUnreferenced(b: Buffer | null): { id: SliceId; size: number }[] {
  const blob = b ?? Buffer.alloc(0);
  const seen = new Set<string>();
  const out: { id: SliceId; size: number }[] = [];
  for (let at = 0; at + 12 <= blob.length; at += 12) {
    const id = toSliceId(blob.readBigUInt64BE(at));
    const size = blob.readUInt32BE(at + 8);
    const key = `${id}_${size}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ id, size });
  }
  return out;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
