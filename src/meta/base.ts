/**
 * BaseMeta: the engine-agnostic half of the metadata layer (STYLE.md §2). Every check that does not
 * depend on the backend happens here once: names, permissions, read-only, trash placement
 * (spec §E.6), id batches (§B.4), unlinked-while-open files and sessions (§B.7, §B.9, §F), data
 * release through the registered slice deleter, and the one access-log line per operation.
 * It must not know any key or table: all state goes through MetaEngine's do* primitives.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { Errno, FsError, isFsError } from '../util/errno.js';
import { logger as rootLogger, type Logger } from '../observability/logger.js';
import type {
  AclRule, Counters, DelFile, DirStats, MetaEngine, Quota, ReaddirPage, SliceScanItem, TrashTarget, UnlinkResult,
} from './engine.js';
import { RENAME_EXCHANGE, RENAME_NOREPLACE } from './engine.js';
import {
  SYNC_COMPACTION_RECORDS, type CompactionDue, type CreateOptions, type FormatOptions, type Meta, type NewEntry, type OpenResult, type ReaddirOptions, type Removed,
  type SliceDeleter,
} from './meta.js';
import {
  type Attr, type ChunkIndex, type Credentials, type DavLockTable, type DirEntry, FileType, type Format, type Ino,
  type SessionInfo, type SetAttrRequest, type SliceId, type SliceRecord, type StatFs, type Timespec,
  CHUNK_SIZE, DIR_LENGTH, FLAG_APPEND, FLAG_IMMUTABLE, FLAG_SKIP_TRASH, MAX_SYMLINK_LENGTH, MODE_EXEC,
  MODE_READ, MODE_WRITE, ROOT_CREDENTIALS, ROOT_INODE, TRASH_INODE, align4K, isTrashIno, toIno, toSliceId,
} from './types.js';
import { IdPool } from './id-pool.js';
import {
  TRASH_NAME, checkName, isDot, isDotDot, isDotOrDotDot, printableName, trashEntryName, trashHourName,
} from './names.js';
import { S_ISGID, S_ISUID, checkAccess, checkSticky, grantedMask, inGroup } from './permissions.js';
import { MAX_META_VERSION, decodeSetting, encodeSetting, immutableChanges } from './setting.js';
import { now } from './time.js';

export interface BaseMetaOptions {
  /** Refuse every change with EROFS and register no session. */
  readOnly?: boolean;
  logger?: Logger;
  /** Inode ids reserved per engine round trip (default 1024). */
  inodeBatch?: number;
  /** Slice ids reserved per engine round trip (default 4096). */
  sliceBatch?: number;
  /** Parent mtime is touched only this often by creates/removes (spec §F; default 100 ms). */
  skipDirMtimeMs?: number;
}

/** Attempts of one operation when the engine reports a changed precondition (EAGAIN). */
const MAX_TRIES = 50;
/** Entries per engine readdir page unless the caller asks otherwise. */
const READDIR_BATCH = 1000;
/** Statfs size reported when the volume has no Capacity (1 PiB). */
const UNLIMITED_BYTES = 2 ** 50;
/** Statfs free inodes reported when the volume has no Inodes quota. */
const UNLIMITED_INODES = 10 * 2 ** 20;
const DEFAULT_HEARTBEAT_SEC = 12;
/** Files left in delfiles longer than this are released by whoever wins `lastCleanupFiles`. */
const DELFILE_GRACE_SEC = 3600;
/** Period of the hourly background jobs' leases (`nextCleanupSlices`, `lastCleanupTrash`; spec §B.11: 54 min). */
const HOURLY_LEASE_SEC = 54 * 60;
/** Unreferenced slices deleted per cleanupSlices run. */
const CLEANUP_SLICES_BATCH = 10_000;
const MAX_DEPTH = 10_000;
/** Trash entries listed and deleted per batch (memory stays bounded for huge hour directories). */
const TRASH_BATCH = 1000;
/** Volume names JuiceFS accepts (spec §A); the name is also the object key prefix. */
const VOLUME_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

const OWNER_ONLY_CHANGE = FLAG_IMMUTABLE | FLAG_APPEND;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * `p`, marked handled: a read issued early, alongside others (one engine round trip for all), whose
 * failure only matters if it is awaited later; the caller awaits it after the reads that come first.
 */
function early<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/** `NewEntry.parentAttr` when the engine reported it (exactOptionalPropertyTypes: no undefined member). */
const withParent = (parentAttr: Attr | undefined): { parentAttr?: Attr } => (parentAttr !== undefined ? { parentAttr } : {});

/** `a` (the attributes of inode `ino`) when they are a directory's, else ENOTDIR. */
function dirAttrOf(ino: Ino, a: Attr): Attr {
  if (a.type !== FileType.Directory) throw new FsError(Errno.ENOTDIR, `inode ${ino}`);
  return a;
}

export class BaseMeta implements Meta {
  readonly #engine: MetaEngine;
  readonly #readOnly: boolean;
  readonly #log: Logger;
  readonly #skipDirMtimeMs: number;
  readonly #inodes: IdPool;
  readonly #sliceIds: IdPool;
  #setting: Format | null = null;
  #sid = 0;
  #sessionInfo: SessionInfo | null = null;
  #heartbeatSec = DEFAULT_HEARTBEAT_SEC;
  #timer: NodeJS.Timeout | null = null;
  #beating: Promise<void> | null = null;
  /** Open references of this process per inode (open()/release()). */
  readonly #openCount = new Map<Ino, number>();
  /** Inodes unlinked while open here; deleted on their last release(). */
  readonly #sustained = new Set<Ino>();
  /** Fire-and-forget work (data release), awaited by flushBackground(). */
  readonly #background = new Set<Promise<void>>();
  #deleter: SliceDeleter | null = null;
  #compactionDue: CompactionDue | null = null;

  constructor(engine: MetaEngine, opts: BaseMetaOptions = {}) {
    this.#engine = engine;
    this.#readOnly = opts.readOnly ?? false;
    this.#log = (opts.logger ?? rootLogger).child({ module: 'meta', engine: engine.kind });
    this.#skipDirMtimeMs = opts.skipDirMtimeMs ?? 100;
    this.#inodes = new IdPool((n) => engine.allocateIds('inode', n), opts.inodeBatch ?? 1024, 2n);
    this.#sliceIds = new IdPool((n) => engine.allocateIds('slice', n), opts.sliceBatch ?? 4096, 1n);
  }

  get setting(): Format {
    if (this.#setting === null) throw new FsError(Errno.EINVAL, 'volume setting not loaded (call load or format)');
    return this.#setting;
  }

  get sid(): number {
    return this.#sid;
  }

  /** True when every change is refused with EROFS. */
  get readOnly(): boolean {
    return this.#readOnly;
  }

  // ---------------------------------------------------------------- plumbing

  /** The access log: one debug line per operation with its errno and duration. */
  async #op<T>(op: string, args: Record<string, unknown>, fn: () => Promise<T>): Promise<T> {
    if (!this.#log.isLevelEnabled('debug')) return fn();
    const start = process.hrtime.bigint();
    const fields = (): Record<string, unknown> => {
      const out: Record<string, unknown> = { op };
      for (const [k, v] of Object.entries(args)) out[k] = Buffer.isBuffer(v) ? printableName(v) : typeof v === 'bigint' ? String(v) : v;
      out['ms'] = Number(process.hrtime.bigint() - start) / 1e6;
      return out;
    };
    try {
      const r = await fn();
      this.#log.debug(fields(), op);
      return r;
    } catch (err) {
      this.#log.debug({ ...fields(), errno: isFsError(err) ? err.code : 'EIO' }, op);
      throw err;
    }
  }

  /** Re-runs `fn` (checks + transaction) while the engine says a precondition changed. */
  async #retry<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!isFsError(err, Errno.EAGAIN) || attempt >= MAX_TRIES) throw err;
        this.#log.debug({ what, attempt }, 'precondition changed, retrying');
        await sleep(Math.floor(Math.random() * attempt * attempt));
      }
    }
  }

  #checkWritable(): void {
    if (this.#readOnly) throw new FsError(Errno.EROFS, 'read-only');
  }

  /** ENOSPC when a change would exceed the volume's Capacity or Inodes (spec §A); free when unlimited. */
  async #checkQuota(space: number, inodes: number): Promise<void> {
    const capacity = this.#setting?.Capacity ?? 0;
    const maxInodes = this.#setting?.Inodes ?? 0;
    const checkSpace = capacity > 0 && space > 0;
    const checkInodes = maxInodes > 0 && inodes > 0;
    if (!checkSpace && !checkInodes) return;
    const c = await this.#engine.getCounters();
    if (checkSpace && c.usedSpace + space > capacity) throw new FsError(Errno.ENOSPC, `volume capacity ${capacity} bytes`);
    if (checkInodes && c.usedInodes + inodes > maxInodes) throw new FsError(Errno.ENOSPC, `volume limit of ${maxInodes} inodes`);
  }

  #trashDays(): number {
    return this.#setting?.TrashDays ?? 0;
  }

  #spawn(what: string, fn: () => Promise<void>): void {
    const p: Promise<void> = fn()
      .catch((err: unknown) => { this.#log.error({ err, what }, 'background job failed'); })
      .finally(() => { this.#background.delete(p); });
    this.#background.add(p);
  }

  /** Waits until every background job started so far (and those they start) has finished. */
  async flushBackground(): Promise<void> {
    while (this.#background.size > 0) await Promise.all([...this.#background]);
  }

  async #dirAttr(ino: Ino): Promise<Attr> {
    return dirAttrOf(ino, await this.#engine.doGetAttr(ino));
  }

  /** Attr of a new inode under `parent` (mode & ~umask, setgid inheritance, skip-trash, tier). */
  #newAttr(ctx: Credentials, parent: Ino, pattr: Attr, type: FileType, mode: number, umask: number, t: Timespec): Attr {
    let m = mode & ~umask & 0o7777;
    let gid = ctx.gid;
    if ((pattr.mode & S_ISGID) !== 0) {
      gid = pattr.gid;
      if (type === FileType.Directory) m |= S_ISGID;
      else if ((m & S_ISGID) !== 0 && (m & 0o010) !== 0 && ctx.uid !== 0 && !inGroup(ctx, gid)) m &= ~S_ISGID;
    }
    return {
      flags: pattr.flags & FLAG_SKIP_TRASH,
      type,
      mode: m,
      uid: ctx.uid,
      gid,
      atime: t.sec, atimeNs: t.nsec, mtime: t.sec, mtimeNs: t.nsec, ctime: t.sec, ctimeNs: t.nsec,
      nlink: type === FileType.Directory ? 2 : 1,
      length: type === FileType.Directory ? DIR_LENGTH : 0,
      rdev: 0,
      parent,
      accessAclId: 0,
      defaultAclId: 0,
      tier: pattr.tier,
    };
  }

  // ---------------------------------------------------------------- volume

  async format(setting: Format, opts: FormatOptions = {}): Promise<Format> {
    return this.#op('format', { name: setting.Name }, async () => {
      this.#checkWritable();
      if ((setting.MetaVersion ?? MAX_META_VERSION) > MAX_META_VERSION) {
        throw new FsError(Errno.EINVAL, `MetaVersion ${setting.MetaVersion} > ${MAX_META_VERSION}`);
      }
      if (!VOLUME_NAME.test(setting.Name)) throw new FsError(Errno.EINVAL, `volume name ${JSON.stringify(setting.Name)}`);
      if (!Number.isInteger(setting.BlockSize) || setting.BlockSize < 64 || setting.BlockSize > 16384) {
        throw new FsError(Errno.EINVAL, `BlockSize ${setting.BlockSize} KiB`);
      }
      if (!Number.isInteger(setting.TrashDays) || setting.TrashDays < 0) throw new FsError(Errno.EINVAL, 'TrashDays');
      const t = now();
      const existing = await this.#engine.getSetting();
      if (existing !== null) {
        const old = decodeSetting(existing);
        const changed = immutableChanges(old, setting);
        if (changed.length > 0) throw new FsError(Errno.EEXIST, `cannot change ${changed.join(', ')} of volume ${old.Name}`);
        if (opts.force !== true) {
          this.#setting = old;
          return old;
        }
        const merged: Format = { ...setting, UUID: old.UUID };
        await this.#engine.doFormat(encodeSetting(merged), null, merged.TrashDays > 0 ? trashRootAttr(t) : null);
        this.#setting = merged;
        return merged;
      }
      const fresh: Format = {
        ...setting,
        UUID: setting.UUID === '' ? randomUUID() : setting.UUID,
        Tiers: setting.Tiers ?? { 0: { ID: 0, StorageClass: setting.StorageClass ?? '', Tag: '' } },
        MetaVersion: setting.MetaVersion ?? MAX_META_VERSION,
      };
      const root: Attr = { ...trashRootAttr(t), mode: 0o777 };
      await this.#engine.doFormat(encodeSetting(fresh), root, fresh.TrashDays > 0 ? trashRootAttr(t) : null);
      this.#setting = fresh;
      return fresh;
    });
  }

  async load(): Promise<Format> {
    return this.#op('load', {}, async () => {
      const json = await this.#engine.getSetting();
      if (json === null) throw new FsError(Errno.ENOENT, 'volume is not formatted');
      const f = decodeSetting(json);
      if ((f.MetaVersion ?? 0) > MAX_META_VERSION) {
        throw new FsError(Errno.EINVAL, `volume MetaVersion ${f.MetaVersion} is newer than ${MAX_META_VERSION}`);
      }
      this.#setting = f;
      return f;
    });
  }

  async statfs(_ctx: Credentials, _ino: Ino): Promise<StatFs> {
    return this.#op('statfs', {}, async () => {
      const c = await this.#engine.getCounters();
      const capacity = this.#setting?.Capacity ?? 0;
      const inodes = this.#setting?.Inodes ?? 0;
      const totalBytes = capacity > 0 ? capacity : UNLIMITED_BYTES;
      const usedBytes = Math.max(0, c.usedSpace);
      const usedInodes = Math.max(0, c.usedInodes);
      const availInodes = inodes > 0 ? Math.max(0, inodes - usedInodes) : UNLIMITED_INODES;
      return {
        totalBytes,
        usedBytes,
        availBytes: Math.max(0, totalBytes - usedBytes),
        totalInodes: inodes > 0 ? inodes : usedInodes + availInodes,
        usedInodes,
        availInodes,
      };
    });
  }

  // ---------------------------------------------------------------- sessions

  async newSession(info: Partial<SessionInfo>, heartbeatSec = DEFAULT_HEARTBEAT_SEC): Promise<number> {
    return this.#op('newSession', {}, async () => {
      if (this.#readOnly) return 0;
      if (this.#sid !== 0) return this.#sid;
      this.#heartbeatSec = Math.min(600, Math.max(1, heartbeatSec));
      const full: SessionInfo = {
        Version: '1.3.0-ferry',
        HostName: hostname(),
        MountPoint: 'ferry',
        MountTime: new Date().toISOString(),
        ProcessID: process.pid,
        ...info,
      };
      this.#sessionInfo = full;
      this.#sid = await this.#engine.doNewSession(full, now().sec + 5 * this.#heartbeatSec);
      this.#timer = setInterval(() => { void this.heartbeat(); }, this.#heartbeatSec * 1000);
      this.#timer.unref();
      return this.#sid;
    });
  }

  /**
   * One heartbeat (also run by the timer): refresh the session, reload the setting, and run the
   * cluster-wide jobs whose lease this node wins (spec §B.7, §B.11). Overlapping calls share one run.
   */
  heartbeat(): Promise<void> {
    this.#beating ??= this.#beat().finally(() => { this.#beating = null; });
    return this.#beating;
  }

  async #beat(): Promise<void> {
    try {
      const t = now().sec;
      if (this.#sid !== 0 && this.#sessionInfo !== null) {
        await this.#engine.doRefreshSession(this.#sid, this.#sessionInfo, t + 5 * this.#heartbeatSec);
      }
      const json = await this.#engine.getSetting();
      const fresh = json === null ? null : decodeSetting(json);
      if (fresh === null || (this.#setting !== null && fresh.UUID !== this.#setting.UUID)) {
        // spec §A: a client must stop serving when the volume it loaded is gone or replaced
        this.#log.error({ uuid: this.#setting?.UUID, now: fresh?.UUID ?? null }, 'volume setting disappeared or changed UUID');
      } else {
        this.#setting = fresh;
      }
      if (this.#readOnly) return;
      if (await this.#engine.doSetIfSmall('lastCleanupSessions', t, Math.floor(0.9 * this.#heartbeatSec))) {
        await this.cleanupStaleSessions();
      }
      if (this.#deleter !== null && await this.#engine.doSetIfSmall('lastCleanupFiles', t, HOURLY_LEASE_SEC)) {
        const old = (await this.#engine.doListDelFiles(10_000)).filter((f) => f.expire < t - DELFILE_GRACE_SEC);
        for (const f of old) await this.#releaseFile(f.ino, f.length);
      }
      if (this.#deleter !== null && await this.#engine.doSetIfSmall('nextCleanupSlices', t, HOURLY_LEASE_SEC)) {
        await this.releaseUnreferencedSlices(CLEANUP_SLICES_BATCH);
      }
      if (this.#deleter !== null && await this.#engine.doSetIfSmall('lastCleanupTrash', t, HOURLY_LEASE_SEC)) {
        await this.expireTrash(t);
      }
    } catch (err) {
      this.#log.warn({ err, sid: this.#sid }, 'heartbeat failed');
    }
  }

  /** Deletes the sustained inodes and records of every expired session but ours; returns how many. */
  async cleanupStaleSessions(): Promise<number> {
    this.#checkWritable();
    const stale = (await this.#engine.doFindStaleSessions(now().sec, 1000)).filter((s) => s !== this.#sid);
    if (stale.length === 0) return 0;
    const all = await this.#engine.doListSessions();
    for (const sid of stale) {
      const sustained = all.find((s) => s.sid === sid)?.sustained ?? [];
      for (const ino of sustained) await this.#deleteSustained(sid, ino);
      await this.#engine.doRemoveSession(sid);
      this.#log.info({ sid, sustained: sustained.length }, 'cleaned up stale session');
    }
    return stale.length;
  }

  async #deleteSustained(sid: number, ino: Ino): Promise<void> {
    const df = await this.#engine.doDeleteSustained(sid, ino);
    if (df !== null && this.#deleter !== null) this.#spawn(`release ${ino}`, () => this.#releaseFile(ino, df.length));
  }

  async closeSession(): Promise<void> {
    return this.#op('closeSession', { sid: this.#sid }, async () => {
      if (this.#timer !== null) clearInterval(this.#timer);
      this.#timer = null;
      if (this.#beating !== null) await this.#beating;
      const sid = this.#sid;
      for (const ino of this.#sustained) await this.#deleteSustained(sid, ino);
      this.#sustained.clear();
      if (sid === 0) return;
      const mine = (await this.#engine.doListSessions()).find((s) => s.sid === sid);
      for (const ino of mine?.sustained ?? []) await this.#deleteSustained(sid, ino);
      await this.#engine.doRemoveSession(sid);
      this.#sid = 0;
      this.#sessionInfo = null;
    });
  }

  async close(): Promise<void> {
    await this.closeSession();
    await this.flushBackground();
    await this.#engine.close();
  }

  // ---------------------------------------------------------------- lookups

  async lookup(ctx: Credentials, parent: Ino, name: Buffer): Promise<{ ino: Ino; attr: Attr }> {
    return this.#op('lookup', { parent, name }, async () => {
      checkName(name);
      const needParent = ctx.uid !== 0 || isDotOrDotDot(name);
      // the entry is read alongside the parent (one round trip); it is answered only after the search permission check
      const entry = needParent && !isDotOrDotDot(name) && !(parent === ROOT_INODE && name.equals(TRASH_NAME))
        ? early(this.#engine.doLookup(parent, name)) : null;
      const pattr = needParent ? await this.#dirAttr(parent) : null;
      if (pattr !== null) checkAccess(ctx, pattr, MODE_EXEC);
      if (pattr !== null && isDot(name)) return { ino: parent, attr: pattr };
      if (pattr !== null && isDotDot(name)) {
        const up = parentOf(parent, pattr);
        return { ino: up, attr: up === parent ? pattr : await this.#engine.doGetAttr(up) };
      }
      if (parent === ROOT_INODE && name.equals(TRASH_NAME)) {
        try {
          return { ino: TRASH_INODE, attr: await this.#engine.doGetAttr(TRASH_INODE) };
        } catch (err) {
          if (!isFsError(err, Errno.ENOENT)) throw err;
        }
      }
      const e = await (entry ?? this.#engine.doLookup(parent, name));
      return { ino: e.ino, attr: e.attr };
    });
  }

  async getattr(ino: Ino): Promise<Attr> {
    return this.#op('getattr', { ino }, () => this.#engine.doGetAttr(ino));
  }

  async access(ctx: Credentials, ino: Ino, mask: number, attr?: Attr): Promise<void> {
    return this.#op('access', { ino, mask }, async () => {
      const a = attr ?? await this.#engine.doGetAttr(ino);
      if (this.#readOnly && (mask & MODE_WRITE) !== 0 && a.type !== FileType.Fifo && a.type !== FileType.Socket
        && a.type !== FileType.CharDev && a.type !== FileType.BlockDev) {
        throw new FsError(Errno.EROFS, 'read-only');
      }
      checkAccess(ctx, a, mask);
    });
  }

  async readlink(ino: Ino): Promise<Buffer> {
    return this.#op('readlink', { ino }, () => this.#engine.doReadlink(ino));
  }

  // ---------------------------------------------------------------- creation

  async #create(
    ctx: Credentials, parent: Ino, name: Buffer, type: FileType, mode: number, umask: number,
    extra: { rdev?: number; target?: Buffer; onExist: 'fail' | 'return'; parentAttr?: Attr; deferDurability?: boolean },
  ): Promise<NewEntry & { existing: boolean }> {
    this.#checkWritable();
    checkName(name);
    if (isDotOrDotDot(name)) throw new FsError(Errno.EEXIST, printableName(name));
    if (parent === ROOT_INODE && name.equals(TRASH_NAME)) throw new FsError(Errno.EPERM, '.trash is reserved');
    if (isTrashIno(parent)) throw new FsError(Errno.EPERM, 'trash is read-only');
    let known = extra.parentAttr; // read by the caller just now: the first attempt uses it
    return this.#retry('create', async () => {
      const pattr = known ?? await this.#dirAttr(parent);
      known = undefined;
      checkAccess(ctx, pattr, MODE_WRITE | MODE_EXEC);
      if ((pattr.flags & OWNER_ONLY_CHANGE) !== 0) throw new FsError(Errno.EPERM, 'parent is immutable or append-only');
      const t = now();
      const attr = this.#newAttr(ctx, parent, pattr, type, type === FileType.Symlink ? 0o777 : mode, type === FileType.Symlink ? 0 : umask, t);
      if (extra.rdev !== undefined) attr.rdev = extra.rdev;
      if (extra.target !== undefined) attr.length = extra.target.length;
      await this.#checkQuota(align4K(attr.length), 1);
      const ino = toIno(await this.#inodes.take());
      const r = await this.#engine.doMknod({
        parent, name, ino, attr, onExist: extra.onExist, now: t, skipDirMtimeMs: this.#skipDirMtimeMs,
        ...(extra.deferDurability === true ? { deferDurability: true } : {}),
        ...(extra.target !== undefined ? { symlinkTarget: extra.target } : {}),
      });
      return { ino: r.ino, attr: r.attr, existing: r.existing, ...withParent(r.parentAttr) };
    });
  }

  async mknod(ctx: Credentials, parent: Ino, name: Buffer, type: FileType, mode: number, umask: number, rdev = 0): Promise<NewEntry> {
    return this.#op('mknod', { parent, name, type, mode }, async () => {
      if (type === FileType.Directory || type === FileType.Symlink || !(type in FileType)) {
        throw new FsError(Errno.EINVAL, `mknod of type ${type}`);
      }
      if ((type === FileType.CharDev || type === FileType.BlockDev) && ctx.uid !== 0) {
        throw new FsError(Errno.EPERM, 'only root creates devices');
      }
      const r = await this.#create(ctx, parent, name, type, mode, umask, { rdev, onExist: 'fail' });
      return { ino: r.ino, attr: r.attr, ...withParent(r.parentAttr) };
    });
  }

  async durable(): Promise<void> {
    return this.#engine.durable();
  }

  async create(ctx: Credentials, parent: Ino, name: Buffer, mode: number, umask: number, exclusive: boolean, opts?: CreateOptions): Promise<NewEntry & { created: boolean }> {
    return this.#op('create', { parent, name, mode, exclusive }, async () => {
      this.#checkWritable();
      checkName(name);
      if (isTrashIno(parent)) throw new FsError(Errno.EPERM, 'trash is read-only');
      const given = opts?.parentAttr === undefined ? undefined : dirAttrOf(parent, opts.parentAttr);
      let parentAttr: Attr | undefined;
      if (!exclusive && !isDotOrDotDot(name)) {
        const pattr = given ?? await this.#dirAttr(parent);
        checkAccess(ctx, pattr, MODE_EXEC);
        if ((grantedMask(ctx, pattr) & MODE_WRITE) !== 0 && (pattr.flags & OWNER_ONLY_CHANGE) === 0) {
          // a parent we may add to: one transaction creates the file or answers the existing one
          parentAttr = pattr;
        } else {
          const found = await this.#lookupOrNull(parent, name);
          if (found !== null) return this.#openExisting(ctx, found);
        }
      }
      let r: NewEntry & { existing: boolean };
      try {
        const known = parentAttr ?? given;
        r = await this.#create(ctx, parent, name, FileType.File, mode, umask, {
          onExist: exclusive ? 'fail' : 'return', ...(known !== undefined ? { parentAttr: known } : {}),
          ...(opts?.deferDurability === true ? { deferDurability: true } : {}),
        });
      } catch (err) {
        // no room for a new inode, yet opening an existing file needs none
        if (parentAttr === undefined || !(isFsError(err, Errno.EDQUOT) || isFsError(err, Errno.ENOSPC))) throw err;
        const found = await this.#lookupOrNull(parent, name);
        if (found === null) throw err;
        return this.#openExisting(ctx, found);
      }
      if (r.existing) return this.#openExisting(ctx, r);
      return { ino: r.ino, attr: r.attr, created: true, ...withParent(r.parentAttr) };
    });
  }

  async #lookupOrNull(parent: Ino, name: Buffer): Promise<{ ino: Ino; attr: Attr } | null> {
    try {
      const e = await this.#engine.doLookup(parent, name);
      return { ino: e.ino, attr: e.attr };
    } catch (err) {
      if (isFsError(err, Errno.ENOENT)) return null;
      throw err;
    }
  }

  #openExisting(ctx: Credentials, e: { ino: Ino; attr: Attr }): { ino: Ino; attr: Attr; created: boolean } {
    if (e.attr.type === FileType.Directory) throw new FsError(Errno.EISDIR, `inode ${e.ino}`);
    checkAccess(ctx, e.attr, MODE_WRITE);
    return { ino: e.ino, attr: e.attr, created: false };
  }

  async mkdir(ctx: Credentials, parent: Ino, name: Buffer, mode: number, umask: number): Promise<NewEntry> {
    return this.#op('mkdir', { parent, name, mode }, async () => {
      const r = await this.#create(ctx, parent, name, FileType.Directory, mode, umask, { onExist: 'fail' });
      return { ino: r.ino, attr: r.attr, ...withParent(r.parentAttr) };
    });
  }

  async symlink(ctx: Credentials, parent: Ino, name: Buffer, target: Buffer): Promise<NewEntry> {
    return this.#op('symlink', { parent, name, target }, async () => {
      if (target.length === 0) throw new FsError(Errno.ENOENT, 'empty symlink target');
      if (target.length > MAX_SYMLINK_LENGTH) throw new FsError(Errno.ENAMETOOLONG, `target of ${target.length} bytes`);
      if (target.includes(0)) throw new FsError(Errno.EINVAL, 'NUL in symlink target');
      const r = await this.#create(ctx, parent, name, FileType.Symlink, 0o777, 0, { target, onExist: 'fail' });
      return { ino: r.ino, attr: r.attr, ...withParent(r.parentAttr) };
    });
  }

  async link(ctx: Credentials, ino: Ino, parent: Ino, name: Buffer): Promise<Attr> {
    return this.#op('link', { ino, parent, name }, async () => {
      this.#checkWritable();
      checkName(name);
      if (isDotOrDotDot(name)) throw new FsError(Errno.EEXIST, printableName(name));
      if (parent === ROOT_INODE && name.equals(TRASH_NAME)) throw new FsError(Errno.EPERM, '.trash is reserved');
      if (isTrashIno(parent)) throw new FsError(Errno.EPERM, 'trash is read-only');
      return this.#retry('link', async () => {
        const attr = await this.#engine.doGetAttr(ino);
        if (attr.type === FileType.Directory) throw new FsError(Errno.EPERM, 'hard link to a directory');
        if ((attr.flags & OWNER_ONLY_CHANGE) !== 0) throw new FsError(Errno.EPERM, 'immutable or append-only');
        const pattr = await this.#dirAttr(parent);
        checkAccess(ctx, pattr, MODE_WRITE | MODE_EXEC);
        return this.#engine.doLink({ ino, parent, name, now: now(), skipDirMtimeMs: this.#skipDirMtimeMs });
      });
    });
  }

  // ---------------------------------------------------------------- removal

  async unlink(ctx: Credentials, parent: Ino, name: Buffer): Promise<Removed> {
    return this.#op('unlink', { parent, name }, async () => {
      this.#checkWritable();
      checkName(name);
      if (isDotOrDotDot(name)) throw new FsError(Errno.EISDIR, printableName(name));
      if (parent === ROOT_INODE && name.equals(TRASH_NAME)) throw new FsError(Errno.EPERM, '.trash is reserved');
      return this.#remove(ctx, parent, name, false);
    });
  }

  async rmdir(ctx: Credentials, parent: Ino, name: Buffer): Promise<Removed> {
    return this.#op('rmdir', { parent, name }, async () => {
      this.#checkWritable();
      checkName(name);
      if (isDot(name)) throw new FsError(Errno.EINVAL, 'rmdir .');
      if (isDotDot(name)) throw new FsError(Errno.ENOTEMPTY, 'rmdir ..');
      if (parent === ROOT_INODE && name.equals(TRASH_NAME)) throw new FsError(Errno.EPERM, '.trash is reserved');
      return this.#remove(ctx, parent, name, true);
    });
  }

  /**
   * The parent's attributes, the entry and (trash on) the current hour's trash directory are read
   * together, in one engine round trip; they are checked in that order.
   */
  async #remove(ctx: Credentials, parent: Ino, name: Buffer, rmdir: boolean): Promise<Removed> {
    const r = await this.#retry(rmdir ? 'rmdir' : 'unlink', async () => {
      const t = now();
      const dir = this.#dirAttr(parent);
      const entry = early(this.#engine.doLookup(parent, name));
      const trashDir = this.#trashOn(parent) ? early(this.#lookupOrNull(TRASH_INODE, trashHourName(t.sec))) : null;
      const pattr = await dir;
      checkAccess(ctx, pattr, MODE_WRITE | MODE_EXEC);
      const child = await entry;
      if (rmdir && child.type !== FileType.Directory) throw new FsError(Errno.ENOTDIR, printableName(name));
      if (!rmdir && child.type === FileType.Directory) throw new FsError(Errno.EISDIR, printableName(name));
      checkSticky(ctx, pattr, child.attr);
      if ((child.attr.flags & OWNER_ONLY_CHANGE) !== 0 || (pattr.flags & OWNER_ONLY_CHANGE) !== 0) {
        throw new FsError(Errno.EPERM, 'immutable or append-only');
      }
      return this.#engine.doUnlink({
        parent, name, expectIno: child.ino, rmdir, now: t, sid: this.#sid,
        keepOpen: child.type === FileType.File && this.isOpen(child.ino),
        trash: await this.#trashTarget(parent, child.ino, name, child.attr, t, trashDir),
        skipDirMtimeMs: this.#skipDirMtimeMs,
      });
    });
    this.#afterRemoval(r);
    return withParent(r.parentAttr);
  }

  #afterRemoval(r: UnlinkResult): void {
    if (r.sustained) {
      this.#sustained.add(r.ino);
    } else if (r.deleted && r.type === FileType.File && this.#deleter !== null) {
      this.#spawn(`release ${r.ino}`, () => this.#releaseFile(r.ino, r.length));
    }
  }

  /** Entries removed from `parent` go to trash (unless they are marked skip-trash). */
  #trashOn(parent: Ino): boolean {
    return this.#trashDays() > 0 && !isTrashIno(parent);
  }

  /**
   * Where a removed entry goes: null for a real delete (trash off, inside trash, skip-trash).
   * `looked`: the lookup of the hour's trash directory, when the caller issued it already.
   */
  async #trashTarget(
    parent: Ino, ino: Ino, name: Buffer, attr: Attr, t: Timespec, looked: Promise<{ ino: Ino } | null> | null = null,
  ): Promise<TrashTarget | null> {
    if (!this.#trashOn(parent) || (attr.flags & FLAG_SKIP_TRASH) !== 0) return null;
    return { dir: await this.#trashDir(t, looked), name: trashEntryName(parent, ino, name) };
  }

  /** The current hour's trash sub-directory, created on demand (spec §E.6). */
  async #trashDir(t: Timespec, looked: Promise<{ ino: Ino } | null> | null = null): Promise<Ino> {
    const name = trashHourName(t.sec);
    const found = await (looked ?? this.#lookupOrNull(TRASH_INODE, name));
    if (found !== null) return found.ino;
    const ino = toIno(TRASH_INODE + BigInt(await this.#engine.nextTrashId()));
    const r = await this.#engine.doMknod({
      parent: TRASH_INODE, name, ino, attr: { ...trashRootAttr(t), parent: TRASH_INODE }, onExist: 'return', now: t,
      skipDirMtimeMs: this.#skipDirMtimeMs,
    });
    return r.ino;
  }

  // ---------------------------------------------------------------- rename

  async rename(ctx: Credentials, srcParent: Ino, srcName: Buffer, dstParent: Ino, dstName: Buffer, flags = 0): Promise<{ ino: Ino; attr: Attr }> {
    return this.#op('rename', { srcParent, srcName, dstParent, dstName, flags }, async () => {
      this.#checkWritable();
      if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) !== 0 || flags === (RENAME_NOREPLACE | RENAME_EXCHANGE)) {
        throw new FsError(Errno.EINVAL, `rename flags ${flags}`);
      }
      checkName(srcName);
      checkName(dstName);
      if (isDotOrDotDot(srcName) || isDotOrDotDot(dstName)) throw new FsError(Errno.EINVAL, 'rename of . or ..');
      if ((srcParent === ROOT_INODE && srcName.equals(TRASH_NAME)) || (dstParent === ROOT_INODE && dstName.equals(TRASH_NAME))) {
        throw new FsError(Errno.EPERM, '.trash is reserved');
      }
      if (isTrashIno(dstParent)) throw new FsError(Errno.EPERM, 'trash is read-only');
      const r = await this.#retry('rename', () => this.#renameOnce(ctx, srcParent, srcName, dstParent, dstName, flags));
      if (r.replaced !== null) this.#afterRemoval(r.replaced);
      return { ino: r.ino, attr: r.attr };
    });
  }

  async #renameOnce(ctx: Credentials, srcParent: Ino, srcName: Buffer, dstParent: Ino, dstName: Buffer, flags: number):
  Promise<{ ino: Ino; attr: Attr; replaced: UnlinkResult | null }> {
    const spattr = await this.#dirAttr(srcParent);
    const dpattr = srcParent === dstParent ? spattr : await this.#dirAttr(dstParent);
    checkAccess(ctx, spattr, MODE_WRITE | MODE_EXEC);
    if (dstParent !== srcParent) checkAccess(ctx, dpattr, MODE_WRITE | MODE_EXEC);
    const src = await this.#engine.doLookup(srcParent, srcName);
    checkSticky(ctx, spattr, src.attr);
    if (srcParent === dstParent && srcName.equals(dstName)) return { ino: src.ino, attr: src.attr, replaced: null };
    const dst = await this.#lookupOrNull(dstParent, dstName);
    if (dst !== null && dst.ino === src.ino) return { ino: src.ino, attr: src.attr, replaced: null };
    const exchange = (flags & RENAME_EXCHANGE) !== 0;
    if (dst !== null && (flags & RENAME_NOREPLACE) !== 0) throw new FsError(Errno.EEXIST, printableName(dstName));
    if (dst === null && exchange) throw new FsError(Errno.ENOENT, printableName(dstName));
    if (dst !== null) {
      checkSticky(ctx, dpattr, dst.attr);
      if (!exchange && src.type === FileType.Directory && dst.attr.type !== FileType.Directory) throw new FsError(Errno.ENOTDIR, printableName(dstName));
      if (!exchange && src.type !== FileType.Directory && dst.attr.type === FileType.Directory) throw new FsError(Errno.EISDIR, printableName(dstName));
    }
    if ((src.attr.flags & OWNER_ONLY_CHANGE) !== 0 || (dst !== null && (dst.attr.flags & OWNER_ONLY_CHANGE) !== 0)) {
      throw new FsError(Errno.EPERM, 'immutable or append-only');
    }
    if (srcParent !== dstParent) {
      if (src.type === FileType.Directory) {
        await this.#checkNotAncestor(src.ino, dstParent);
        checkAccess(ctx, src.attr, MODE_WRITE);
      }
      if (exchange && dst !== null && dst.attr.type === FileType.Directory) {
        await this.#checkNotAncestor(dst.ino, srcParent);
        checkAccess(ctx, dst.attr, MODE_WRITE);
      }
    }
    const t = now();
    const trash = dst !== null && !exchange ? await this.#trashTarget(dstParent, dst.ino, dstName, dst.attr, t) : null;
    return this.#engine.doRename({
      srcParent, srcName, dstParent, dstName, flags, expectSrcIno: src.ino, expectDstIno: dst?.ino ?? null,
      dstKeepOpen: dst !== null && !exchange && dst.attr.type === FileType.File && this.isOpen(dst.ino),
      sid: this.#sid, trash, now: t, skipDirMtimeMs: this.#skipDirMtimeMs,
    });
  }

  /** EINVAL when `dir` is `ino` or one of its ancestors (moving a directory into its own subtree). */
  async #checkNotAncestor(dir: Ino, ino: Ino): Promise<void> {
    let cur = ino;
    for (let depth = 0; depth < MAX_DEPTH; depth++) {
      if (cur === dir) throw new FsError(Errno.EINVAL, `inode ${dir} is an ancestor of ${ino}`);
      if (cur === ROOT_INODE || isTrashIno(cur)) return;
      const a = await this.#engine.doGetAttr(cur);
      if (a.parent === 0n || a.parent === cur) return;
      cur = a.parent;
    }
    throw new FsError(Errno.ELOOP, `ancestors of ${ino}`);
  }

  // ---------------------------------------------------------------- readdir

  readdir(ctx: Credentials, ino: Ino, opts: ReaddirOptions = {}): AsyncIterable<DirEntry> {
    const pages = this.#pages(ctx, ino, opts, false);
    return {
      async *[Symbol.asyncIterator]() {
        for await (const page of pages) yield* page;
      },
    };
  }

  readdirPages(ctx: Credentials, ino: Ino, opts: ReaddirOptions = {}): AsyncIterable<readonly DirEntry[]> {
    return this.#pages(ctx, ino, opts, true);
  }

  #pages(ctx: Credentials, ino: Ino, opts: ReaddirOptions, prefetch: boolean): AsyncIterable<DirEntry[]> {
    const batch = Math.max(1, opts.batchSize ?? READDIR_BATCH);
    return { [Symbol.asyncIterator]: () => this.#listDir(ctx, ino, opts.after ?? 0n, opts.plus ?? false, batch, prefetch) };
  }

  /**
   * Pages of entries, none empty: `.` (cookie 1) and `..` (cookie 2) lead the first engine page,
   * then engine pages with cookie = engine position + 2, fetched on demand; with `prefetch`, the
   * next page is requested before the current one is handed out. The root's `.trash` is not an
   * entry (spec §E.6): lookup finds it, readdir does not list it.
   */
  async *#listDir(ctx: Credentials, ino: Ino, after: bigint, plus: boolean, batch: number, prefetch: boolean): AsyncGenerator<DirEntry[]> {
    const attr = await this.#op('readdir', { ino, after, plus }, async () => {
      const a = await this.#dirAttr(ino);
      checkAccess(ctx, a, MODE_READ);
      return a;
    });
    const dots: DirEntry[] = [];
    if (after < 1n) dots.push(withAttr({ name: Buffer.from('.'), ino, type: FileType.Directory, cookie: 1n }, plus ? attr : undefined));
    if (after < 2n) {
      const up = parentOf(ino, attr);
      const upAttr = plus ? (up === ino ? attr : await this.#engine.doGetAttr(up)) : undefined;
      dots.push(withAttr({ name: Buffer.from('..'), ino: up, type: FileType.Directory, cookie: 2n }, upAttr));
    }
    const fetch = (pos: bigint): Promise<ReaddirPage> => this.#engine.doReaddir(ino, pos, batch, plus);
    let next: Promise<ReaddirPage> | undefined = fetch(after > 2n ? after - 2n : 0n);
    while (next !== undefined) {
      const page: ReaddirPage = await next;
      next = undefined;
      const last = page.entries[page.entries.length - 1];
      if (page.more && last !== undefined && prefetch) {
        next = fetch(last.cookie);
        // handled when awaited; until then a failure must not count as an unhandled rejection
        next.catch(() => undefined);
      }
      for (const e of page.entries) e.cookie += 2n; // engines answer fresh entry objects: no copy per entry
      const out = dots.length > 0 ? [...dots.splice(0), ...page.entries] : page.entries;
      if (out.length > 0) yield out;
      if (page.more && last !== undefined && !prefetch) next = fetch(last.cookie - 2n);
    }
  }

  // ---------------------------------------------------------------- attributes

  async setattr(ctx: Credentials, ino: Ino, req: SetAttrRequest): Promise<Attr> {
    return this.#op('setattr', { ino, ...req }, async () => {
      this.#checkWritable();
      const attr = await this.#engine.doGetAttr(ino);
      if (isTrashIno(ino) || isTrashIno(attr.parent)) throw new FsError(Errno.EPERM, 'trash is read-only');
      const root = ctx.uid === 0;
      const owner = root || ctx.uid === attr.uid;
      const t = now();
      const txn: { mode?: number; uid?: number; gid?: number; atime?: Timespec; mtime?: Timespec; flags?: number } = {};
      if ((attr.flags & FLAG_IMMUTABLE) !== 0 && (req.flags === undefined || !root)) throw new FsError(Errno.EPERM, 'immutable');
      if (req.flags !== undefined && req.flags !== attr.flags) {
        if (!owner) throw new FsError(Errno.EPERM, 'flags: not owner');
        if (!root && ((req.flags ^ attr.flags) & OWNER_ONLY_CHANGE) !== 0) throw new FsError(Errno.EPERM, 'immutable/append needs root');
        txn.flags = req.flags;
      }
      if (req.uid !== undefined && !root && (req.uid !== attr.uid || ctx.uid !== attr.uid)) throw new FsError(Errno.EPERM, 'chown: not root');
      if (req.gid !== undefined && !root && (ctx.uid !== attr.uid || (req.gid !== attr.gid && !inGroup(ctx, req.gid)))) {
        throw new FsError(Errno.EPERM, 'chgrp: not owner or not a member');
      }
      if (req.uid !== undefined && req.uid !== attr.uid) txn.uid = req.uid;
      if (req.gid !== undefined && req.gid !== attr.gid) txn.gid = req.gid;
      let mode = attr.mode;
      if (req.mode !== undefined) {
        if (!owner) throw new FsError(Errno.EPERM, 'chmod: not owner');
        mode = req.mode & 0o7777;
        if (!root && (mode & S_ISGID) !== 0 && !inGroup(ctx, req.gid ?? attr.gid)) mode &= ~S_ISGID;
        txn.mode = mode;
      }
      if ((txn.uid !== undefined || txn.gid !== undefined) && !root && attr.type !== FileType.Directory && (mode & (S_ISUID | S_ISGID)) !== 0) {
        txn.mode = mode & ~(S_ISUID | S_ISGID);
      }
      for (const which of ['atime', 'mtime'] as const) {
        const v = req[which];
        if (v === undefined) continue;
        if (v === 'now') {
          if (!owner) checkAccess(ctx, attr, MODE_WRITE);
          txn[which] = t;
        } else {
          if (!owner) throw new FsError(Errno.EPERM, `${which}: not owner`);
          txn[which] = v;
        }
      }
      if (req.size !== undefined) {
        this.#checkTruncate(ctx, attr, req.size);
        await this.#checkQuota(align4K(req.size) - align4K(attr.length), 0);
      }
      let out = attr;
      if (Object.keys(txn).length > 0) out = await this.#engine.doSetAttr({ ino, ...txn, now: t });
      if (req.size !== undefined) out = await this.#engine.doTruncate({ ino, length: req.size, now: now() });
      return out;
    });
  }

  #checkTruncate(ctx: Credentials, attr: Attr, size: number): void {
    if (attr.type === FileType.Directory) throw new FsError(Errno.EISDIR, 'truncate of a directory');
    if (attr.type !== FileType.File) throw new FsError(Errno.EINVAL, 'truncate of a non-file');
    if (!Number.isSafeInteger(size) || size < 0) throw new FsError(size < 0 ? Errno.EINVAL : Errno.EFBIG, `size ${size}`);
    if ((attr.flags & OWNER_ONLY_CHANGE) !== 0) throw new FsError(Errno.EPERM, 'immutable or append-only');
    checkAccess(ctx, attr, MODE_WRITE);
  }

  // ---------------------------------------------------------------- open files

  async open(ctx: Credentials, ino: Ino, mask: number, known?: Attr): Promise<OpenResult> {
    return this.#op('open', { ino, mask }, async () => {
      const attr = known ?? await this.#engine.doGetAttr(ino);
      if ((mask & MODE_WRITE) !== 0) {
        if (attr.type === FileType.Directory) throw new FsError(Errno.EISDIR, `inode ${ino}`);
        this.#checkWritable();
        if (isTrashIno(ino) || isTrashIno(attr.parent)) throw new FsError(Errno.EPERM, 'trash is read-only');
        if ((attr.flags & FLAG_IMMUTABLE) !== 0) throw new FsError(Errno.EPERM, 'immutable');
      }
      checkAccess(ctx, attr, mask);
      this.#openCount.set(ino, (this.#openCount.get(ino) ?? 0) + 1);
      return { attr };
    });
  }

  async release(ino: Ino): Promise<void> {
    return this.#op('release', { ino }, async () => {
      const n = this.#openCount.get(ino) ?? 0;
      if (n > 1) {
        this.#openCount.set(ino, n - 1);
        return;
      }
      this.#openCount.delete(ino);
      if (this.#sustained.delete(ino)) await this.#deleteSustained(this.#sid, ino);
    });
  }

  isOpen(ino: Ino): boolean {
    return (this.#openCount.get(ino) ?? 0) > 0;
  }

  // ---------------------------------------------------------------- xattrs

  async getxattr(ctx: Credentials, ino: Ino, name: Buffer): Promise<Buffer> {
    return this.#op('getxattr', { ino, name }, async () => {
      checkXattrName(name);
      checkAccess(ctx, await this.#engine.doGetAttr(ino), MODE_READ);
      return this.#engine.doGetXattr(ino, name);
    });
  }
  async getxattrs(ctx: Credentials, inos: readonly Ino[], name: Buffer): Promise<(Buffer | null)[]> {
    return this.#op('getxattrs', { count: inos.length, name }, async () => {
      checkXattrName(name);
      if (inos.length === 0) return [];
      // root may read every inode: no attribute round-trip (a PROPFIND page already holds them)
      const attrs = ctx.uid === 0 ? null : await this.#engine.doGetAttrs(inos);
      for (const a of attrs ?? []) if (a !== null) checkAccess(ctx, a, MODE_READ);
      const engine = this.#engine;
      const values = engine.doGetXattrs !== undefined
        ? await engine.doGetXattrs(inos, name)
        : await Promise.all(inos.map((ino) => engine.doGetXattr(ino, name).catch((err: unknown) => {
          if (isFsError(err, Errno.ENODATA) || isFsError(err, Errno.ENOENT)) return null;
          throw err;
        })));
      return attrs === null ? values : values.map((v, k) => (attrs[k] === null ? null : v));
    });
  }


  async setxattr(ctx: Credentials, ino: Ino, name: Buffer, value: Buffer, flags: number): Promise<void> {
    return this.#op('setxattr', { ino, name, flags }, async () => {
      this.#checkWritable();
      checkXattrName(name);
      if (value.length > 65536) throw new FsError(Errno.ERANGE, `xattr value of ${value.length} bytes`);
      if (flags !== 0 && flags !== 1 && flags !== 2) throw new FsError(Errno.EINVAL, `xattr flags ${flags}`);
      const attr = await this.#engine.doGetAttr(ino);
      checkChangeable(ino, attr);
      checkAccess(ctx, attr, MODE_WRITE);
      await this.#engine.doSetXattr(ino, name, value, flags);
    });
  }

  async listxattr(_ctx: Credentials, ino: Ino): Promise<Buffer[]> {
    return this.#op('listxattr', { ino }, async () => {
      await this.#engine.doGetAttr(ino);
      return this.#engine.doListXattr(ino);
    });
  }

  async removexattr(ctx: Credentials, ino: Ino, name: Buffer): Promise<void> {
    return this.#op('removexattr', { ino, name }, async () => {
      this.#checkWritable();
      checkXattrName(name);
      const attr = await this.#engine.doGetAttr(ino);
      checkChangeable(ino, attr);
      checkAccess(ctx, attr, MODE_WRITE);
      await this.#engine.doRemoveXattr(ino, name);
    });
  }

  // ---------------------------------------------------------------- WebDAV locks

  async readDavLocks(): Promise<DavLockTable> {
    return this.#op('readDavLocks', {}, () => this.#engine.doReadDavLocks());
  }

  async readDavLocksVersion(): Promise<number> {
    return this.#op('readDavLocksVersion', {}, () => this.#engine.doReadDavLocksVersion());
  }

  async updateDavLocks(version: number, put: ReadonlyMap<string, Buffer>, remove: readonly string[]): Promise<boolean> {
    return this.#op('updateDavLocks', { version, put: put.size, remove: remove.length }, async () => {
      this.#checkWritable();
      return this.#engine.doUpdateDavLocks(version, put, remove);
    });
  }

  // ---------------------------------------------------------------- data

  async readSlices(ino: Ino, indx: ChunkIndex): Promise<SliceRecord[]> {
    return this.#op('readSlices', { ino, indx }, () => this.#engine.doReadSlices(ino, indx));
  }

  async newSliceId(): Promise<SliceId> {
    this.#checkWritable();
    return toSliceId(await this.#sliceIds.take());
  }

  async writeSlice(ino: Ino, indx: ChunkIndex, slice: SliceRecord, mtime: Timespec): Promise<Attr> {
    return this.#op('writeSlice', { ino, indx, id: slice.id, pos: slice.pos, len: slice.len }, async () => {
      this.#checkWritable();
      if (!Number.isInteger(indx) || indx < 0 || slice.len <= 0 || slice.pos < 0 || slice.pos + slice.len > CHUNK_SIZE
        || (slice.id !== 0n && slice.off + slice.len > slice.size)) {
        throw new FsError(Errno.EINVAL, `slice ${slice.id} pos ${slice.pos} len ${slice.len} size ${slice.size}`);
      }
      if ((this.#setting?.Capacity ?? 0) > 0) {
        const length = (await this.#engine.doGetAttr(ino)).length;
        const end = indx * CHUNK_SIZE + slice.pos + slice.len;
        await this.#checkQuota(end > length ? align4K(end) - align4K(length) : 0, 0);
      }
      const r = await this.#engine.doWriteSlice({ ino, indx, slice, mtime, now: now() });
      if (r.listLength % 100 === 99 || r.listLength > 350) {
        const compaction = this.#compactionDue?.(ino, indx, r.listLength);
        if (r.listLength >= SYNC_COMPACTION_RECORDS) await compaction;
      }
      return r.attr;
    });
  }

  async cloneRange(ctx: Credentials, src: Ino, srcOff: number, dst: Ino, dstOff: number, length: number): Promise<Attr> {
    return this.#op('cloneRange', { src, srcOff, dst, dstOff, length }, async () => {
      this.#checkWritable();
      if (![srcOff, dstOff, length].every((n) => Number.isSafeInteger(n) && n >= 0)) throw new FsError(Errno.EINVAL, 'clone range');
      if (src === dst && srcOff < dstOff + length && dstOff < srcOff + length) throw new FsError(Errno.EINVAL, 'overlapping clone');
      const sattr = await this.#engine.doGetAttr(src);
      const dattr = src === dst ? sattr : await this.#engine.doGetAttr(dst);
      for (const a of [sattr, dattr]) {
        if (a.type === FileType.Directory) throw new FsError(Errno.EISDIR, 'clone of a directory');
        if (a.type !== FileType.File) throw new FsError(Errno.EINVAL, 'clone of a non-file');
      }
      if (isTrashIno(dattr.parent)) throw new FsError(Errno.EPERM, 'trash is read-only');
      if ((dattr.flags & OWNER_ONLY_CHANGE) !== 0) throw new FsError(Errno.EPERM, 'immutable or append-only');
      checkAccess(ctx, sattr, MODE_READ);
      checkAccess(ctx, dattr, MODE_WRITE);
      const end = dstOff + Math.max(0, Math.min(length, sattr.length - srcOff));
      await this.#checkQuota(end > dattr.length ? align4K(end) - align4K(dattr.length) : 0, 0);
      return this.#engine.doCloneRange({ src, srcOff, dst, dstOff, length, now: now() });
    });
  }

  async compactChunk(ino: Ino, indx: ChunkIndex, old: readonly SliceRecord[], skipped: number, slice: SliceRecord): Promise<boolean> {
    return this.#op('compactChunk', { ino, indx, records: old.length, skipped, id: slice.id, pos: slice.pos, len: slice.len }, async () => {
      this.#checkWritable();
      const engine = this.#engine;
      if (engine.doCompactChunk === undefined) throw new FsError(Errno.ENOSYS, `the ${engine.kind} engine cannot compact chunks`);
      if (!Number.isInteger(indx) || indx < 0 || slice.id === 0n || slice.off !== 0 || slice.len !== slice.size || slice.len <= 0
        || slice.pos < 0 || slice.pos + slice.len > CHUNK_SIZE || !Number.isInteger(skipped) || skipped < 0 || skipped >= old.length) {
        throw new FsError(Errno.EINVAL, `compaction of ${old.length} records into slice ${slice.id} pos ${slice.pos} len ${slice.len}`);
      }
      const r = await engine.doCompactChunk({ ino, indx, old, skipped, slice, delayed: this.#trashDays() > 0, now: now() });
      // the new slice's entry said "refcount 1, tracked" only while the swap was unconfirmed (spec §B.9)
      if (r.applied) await engine.doCleanupZeroRef(slice.id, slice.size).catch((err: unknown) => this.#log.warn({ err, id: String(slice.id) }, 'cleanupZeroRef failed'));
      const deleter = this.#deleter;
      // the swap is done: a failed deletion leaves an unreferenced slice for gc, it does not undo it
      for (const s of r.freed) {
        if (deleter === null) break;
        try {
          await deleter(s.id, s.size);
          await engine.doForgetSlice(s.id, s.size);
        } catch (err) {
          this.#log.warn({ err, id: String(s.id), size: s.size }, 'could not delete a slice replaced by compaction');
        }
      }
      return r.applied;
    });
  }

  onDeleteSlice(deleter: SliceDeleter): void {
    this.#deleter = deleter;
  }

  onCompactionDue(handler: CompactionDue): void {
    this.#compactionDue = handler;
  }

  async releaseDeletedFiles(limit = 1000): Promise<number> {
    return this.#op('releaseDeletedFiles', { limit }, async () => {
      this.#checkWritable();
      if (this.#deleter === null) throw new FsError(Errno.EINVAL, 'no slice deleter registered (onDeleteSlice)');
      const files = await this.#engine.doListDelFiles(limit);
      for (const f of files) await this.#releaseFile(f.ino, f.length);
      return files.length;
    });
  }

  async releaseUnreferencedSlices(limit = CLEANUP_SLICES_BATCH): Promise<number> {
    return this.#op('releaseUnreferencedSlices', { limit }, async () => {
      this.#checkWritable();
      return this.#deleteSlices(await this.#engine.doCleanupSliceRefs(limit));
    });
  }

  async expireTrash(nowSec = now().sec): Promise<number> {
    return this.#op('expireTrash', { nowSec }, async () => {
      this.#checkWritable();
      const days = this.#trashDays();
      let removed = 0;
      const dirEdge = nowSec - (24 * days + 2) * 3600;
      const hours: { ino: Ino; name: Buffer; at: number }[] = [];
      try {
        for await (const e of this.readdir(ROOT_CREDENTIALS, TRASH_INODE)) {
          const at = trashHourTime(e.name);
          if (at !== undefined) hours.push({ ino: e.ino, name: e.name, at });
        }
      } catch (err) {
        // a volume formatted without trash has no trash directory: nothing in it to expire
        if (!isFsError(err, Errno.ENOENT)) throw err;
      }
      for (const h of hours.sort((a, b) => a.at - b.at)) {
        if (h.at >= dirEdge) break;
        removed += await this.#removeTree(TRASH_INODE, h.name, h.ino);
      }
      await this.#deleteSlices(await this.#engine.doReleaseDelayedSlices(nowSec - days * 24 * 3600));
      return removed;
    });
  }

  /**
   * Deletes directory `name` (inode `ino`) of `parent` with everything below it, for real; returns
   * inodes removed. An entry that cannot be removed is logged and kept, and so is its directory
   * (the next run tries again), as the JuiceFS trash cleaner does.
   */
  async #removeTree(parent: Ino, name: Buffer, ino: Ino, depth = 0): Promise<number> {
    if (depth > MAX_DEPTH) throw new FsError(Errno.ELOOP, `trash tree deeper than ${MAX_DEPTH}`);
    let removed = 0;
    let kept = false;
    // A trash hour directory may hold millions of entries: they are listed and deleted a batch at a
    // time, resuming after the last cookie seen (cookies stay valid while the directory changes).
    for (let after = 0n; ;) {
      const batch: DirEntry[] = [];
      for await (const e of this.readdir(ROOT_CREDENTIALS, ino, { after })) {
        after = e.cookie;
        if (!isDotOrDotDot(e.name)) batch.push(e);
        if (batch.length >= TRASH_BATCH) break;
      }
      if (batch.length === 0) break;
      for (const c of batch) {
        try {
          if (c.type === FileType.Directory) removed += await this.#removeTree(ino, c.name, c.ino, depth + 1);
          else {
            await this.unlink(ROOT_CREDENTIALS, ino, c.name);
            removed++;
          }
        } catch (err) {
          if (isFsError(err, Errno.ENOENT)) continue; // another node's cleaner got there first
          kept = true;
          this.#log.warn({ err, dir: String(ino), name: printableName(c.name) }, 'cannot delete an entry from the trash');
        }
      }
    }
    if (kept) return removed;
    try {
      await this.rmdir(ROOT_CREDENTIALS, parent, name);
    } catch (err) {
      if (isFsError(err, Errno.ENOENT)) return removed;
      if (!isFsError(err, Errno.ENOTEMPTY)) throw err;
      this.#log.warn({ dir: String(ino) }, 'trash directory kept: something in it could not be deleted');
      return removed;
    }
    return removed + 1;
  }

  /** Deletes the objects of unreferenced slices, then their refcount entries (spec §D.5); returns how many. */
  async #deleteSlices(slices: readonly { id: SliceId; size: number }[]): Promise<number> {
    const deleter = this.#deleter;
    if (deleter === null) throw new FsError(Errno.EINVAL, 'no slice deleter registered (onDeleteSlice)');
    for (const s of slices) {
      await deleter(s.id, s.size);
      await this.#engine.doForgetSlice(s.id, s.size);
    }
    return slices.length;
  }

  /** Drops every chunk of a deleted file, deletes unreferenced slices, then forgets the delfiles entry (spec §E.5). */
  async #releaseFile(ino: Ino, queuedLength?: number): Promise<void> {
    const deleter = this.#deleter;
    if (deleter === null) return;
    const engine = this.#engine;
    const freed: { id: SliceId; size: number }[] = [];
    if (queuedLength !== undefined && engine.doDropChunks !== undefined) {
      freed.push(...await engine.doDropChunks(ino, queuedLength));
    } else {
      for (const indx of await engine.doListChunks(ino, queuedLength)) freed.push(...await engine.doDropChunk(ino, indx));
    }
    for (const s of freed) {
      await deleter(s.id, s.size);
      await engine.doForgetSlice(s.id, s.size);
    }
    await engine.doRemoveDelFile(ino, queuedLength);
  }

  // ---------------------------------------------------------------- read-only views

  counters(): Promise<Counters> {
    return this.#engine.getCounters();
  }

  dirStats(ino: Ino): Promise<DirStats | null> {
    return this.#engine.doGetDirStats(ino);
  }

  dirQuotas(): Promise<Map<Ino, Quota>> {
    return this.#engine.doGetDirQuotas();
  }

  userGroupQuotas(kind: 'user' | 'group'): Promise<Map<number, Quota>> {
    return this.#engine.doGetUserGroupQuotas(kind);
  }

  acl(id: number): Promise<AclRule | null> {
    return this.#engine.doGetAcl(id);
  }

  listChunks(ino: Ino): Promise<ChunkIndex[]> {
    return this.#engine.doListChunks(ino);
  }

  sliceRefs(id: SliceId, size: number): Promise<number> {
    return this.#engine.doSliceRefs(id, size);
  }

  delFiles(limit = 1000): Promise<DelFile[]> {
    return this.#engine.doListDelFiles(limit);
  }

  sessions(): Promise<{ sid: number; expire: number; info: SessionInfo | null; sustained: Ino[] }[]> {
    return this.#engine.doListSessions();
  }

  scanSlices(): AsyncIterable<SliceScanItem> {
    const scan = this.#engine.doScanSlices?.bind(this.#engine);
    if (scan === undefined) throw new FsError(Errno.ENOSYS, `the ${this.#engine.kind} engine cannot scan slices`);
    return scan();
  }

  async parents(ino: Ino): Promise<Ino[]> {
    const attr = await this.#engine.doGetAttr(ino);
    if (ino === ROOT_INODE || ino === TRASH_INODE) return [];
    if (attr.parent !== 0n) return [attr.parent];
    const get = this.#engine.doGetParents?.bind(this.#engine);
    if (get === undefined) throw new FsError(Errno.ENOSYS, `the ${this.#engine.kind} engine cannot list parents`);
    return [...(await get(ino)).entries()].filter(([, n]) => n > 0).map(([p]) => p).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
}

/** Unix seconds of a trash sub-directory name `YYYY-MM-DD-HH` (UTC, spec §E.6); undefined for other names. */
function trashHourTime(name: Buffer): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})-(\d{2})$/.exec(name.toString('latin1'));
  if (m === null) return undefined;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]));
  return Number.isFinite(t) ? t / 1000 : undefined;
}

/** Attr of a root-owned directory with mode 0555 under the root: the trash root and its sub-directories. */
function trashRootAttr(t: Timespec): Attr {
  return {
    flags: 0, type: FileType.Directory, mode: 0o555, uid: 0, gid: 0,
    atime: t.sec, atimeNs: t.nsec, mtime: t.sec, mtimeNs: t.nsec, ctime: t.sec, ctimeNs: t.nsec,
    nlink: 2, length: DIR_LENGTH, rdev: 0, parent: ROOT_INODE, accessAclId: 0, defaultAclId: 0, tier: 0,
  };
}

/** `..` of a directory: its parent, the root for the root and the trash root. */
function parentOf(ino: Ino, attr: Attr): Ino {
  if (ino === ROOT_INODE || ino === TRASH_INODE || attr.parent === 0n) return ROOT_INODE;
  return attr.parent;
}

function withAttr(e: DirEntry, attr: Attr | undefined): DirEntry {
  return attr === undefined ? e : { ...e, attr };
}

/** EPERM for inodes in trash (read-only, spec §E.6) and immutable or append-only inodes. */
function checkChangeable(ino: Ino, attr: Attr): void {
  if (isTrashIno(ino) || isTrashIno(attr.parent)) throw new FsError(Errno.EPERM, 'trash is read-only');
  if ((attr.flags & OWNER_ONLY_CHANGE) !== 0) throw new FsError(Errno.EPERM, 'immutable or append-only');
}

function checkXattrName(name: Buffer): void {
  if (name.length === 0) throw new FsError(Errno.EINVAL, 'empty xattr name');
  if (name.length > 255) throw new FsError(Errno.ERANGE, `xattr name of ${name.length} bytes`);
}
