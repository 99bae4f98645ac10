/**
 * MemoryEngine: a complete MetaEngine held in process memory; the fake unit tests use and the
 * reference semantics the Redis and SQLite engines must match (conformance suite). Every do* runs
 * synchronously between awaits, so each is atomic, and re-checks its preconditions like a real
 * engine (ENOENT/ENOTDIR/EEXIST/ENOTEMPTY, EAGAIN when the entry differs from what the caller saw).
 *
 * State (the shape of the Redis key schema of spec §B.3, without the bytes):
 *   nodes        ino -> Attr                     (`i<ino>`)
 *   dirs         ino -> entries by name and by readdir position   (`d<ino>`)
 *   parents      ino -> parent -> count, only for Attr.parent == 0 (`p<ino>`)
 *   chunks       ino -> indx -> SliceRecord[]    (`c<ino>_<indx>`)
 *   symlinks, xattrs, sliceRefs (real count; absent = 1), delfiles, sustained sid -> inos,
 *   sessions, leases, dirStats, quotas, acls, counters (nextInode/nextChunk as next unused id).
 * It must not be used across processes: nothing here is persisted.
 */
import { Errno, expectedFsError, FsError } from '../../util/errno.js';
import type {
  AclRule, CloneRangeTxn, CompactChunkResult, CompactChunkTxn, Counters, DelFile, DirStats, IdKind, LinkTxn, MetaEngine, MknodResult, MknodTxn,
  Quota, ReaddirPage, RenameResult, RenameTxn, SetAttrTxn, SliceScanItem, TruncateTxn, UnlinkResult, UnlinkTxn, VolumeLoader,
  WriteResult, WriteTxn,
} from '../engine.js';
import { RENAME_EXCHANGE, RENAME_NOREPLACE } from '../engine.js';
import { planClone, truncateHoles } from '../slices.js';
import { diffMs, now } from '../time.js';
import {
  type Attr, type ChunkIndex, type DavLockTable, type DirEntry, FileType, type Ino, type SessionInfo, type SliceId, type SliceRecord,
  type Timespec, CHUNK_SIZE, ROOT_INODE, TRASH_INODE, align4K, isTrashIno, toChunkIndex, toIno, toSliceId,
} from '../types.js';

interface Entry {
  name: Buffer;
  ino: Ino;
  type: FileType;
  pos: bigint;
}

interface Dir {
  byName: Map<string, Entry>;
  /** Insertion order is ascending position: positions only grow. */
  byPos: Map<bigint, Entry>;
}

const key = (name: Buffer): string => name.toString('latin1');
const refKey = (id: SliceId, size: number): string => `${id}_${size}`;
const copy = (a: Attr): Attr => ({ ...a });

export class MemoryEngine implements MetaEngine {
  readonly kind = 'memory';
  #setting: string | null = null;
  #nodes = new Map<Ino, Attr>();
  #dirs = new Map<Ino, Dir>();
  #parents = new Map<Ino, Map<Ino, number>>();
  #symlinks = new Map<Ino, Buffer>();
  #xattrs = new Map<Ino, Map<string, { name: Buffer; value: Buffer }>>();
  #chunks = new Map<Ino, Map<number, SliceRecord[]>>();
  #sliceRefs = new Map<string, number>();
  /** Slices replaced by a compaction while trash is on: `<newId>_<unixSec>` -> slices (`delSlices`). */
  #delSlices = new Map<string, { id: SliceId; size: number }[]>();
  #delfiles = new Map<Ino, DelFile>();
  #sustained = new Map<number, Set<Ino>>();
  #sessions = new Map<number, { expire: number; info: SessionInfo | null }>();
  #leases = new Map<string, number>();
  #dirStats = new Map<Ino, DirStats>();
  #dirQuotas = new Map<Ino, Quota>();
  #ugQuotas = { user: new Map<number, Quota>(), group: new Map<number, Quota>() };
  #acls = new Map<number, AclRule>();
  #davLocks = new Map<string, Buffer>();
  #davLocksVersion = 0;
  #counters: Counters = { usedSpace: 0, usedInodes: 0, nextInode: 1n, nextChunk: 1n, nextSession: 0, nextTrash: 0 };
  #nextPos = 1n;

  async close(): Promise<void> {}

  async getSetting(): Promise<string | null> {
    return this.#setting;
  }

  async doFormat(settingJson: string, root: Attr | null, trashRoot: Attr | null): Promise<void> {
    this.#setting = settingJson;
    if (root !== null && !this.#nodes.has(ROOT_INODE)) this.#newDir(ROOT_INODE, root);
    if (trashRoot !== null && !this.#nodes.has(TRASH_INODE)) this.#newDir(TRASH_INODE, trashRoot);
  }

  #newDir(ino: Ino, attr: Attr): void {
    this.#nodes.set(ino, copy(attr));
    this.#dirs.set(ino, { byName: new Map(), byPos: new Map() });
    this.#dirStats.set(ino, { dataLength: 0, usedSpace: 0, usedInodes: 0 });
  }

  async doReset(): Promise<void> {
    this.#setting = null;
    for (const m of [this.#nodes, this.#dirs, this.#parents, this.#symlinks, this.#xattrs, this.#chunks, this.#sliceRefs,
      this.#delSlices, this.#delfiles, this.#sustained, this.#sessions, this.#leases, this.#dirStats, this.#dirQuotas, this.#acls,
      this.#ugQuotas.user, this.#ugQuotas.group, this.#davLocks]) m.clear();
    this.#davLocksVersion = 0;
    this.#counters = { usedSpace: 0, usedInodes: 0, nextInode: 1n, nextChunk: 1n, nextSession: 0, nextTrash: 0 };
    this.#nextPos = 1n;
  }

  async isEmpty(): Promise<boolean> {
    for (const ino of this.#nodes.keys()) if (ino !== ROOT_INODE && ino !== TRASH_INODE) return false;
    return true;
  }

  async allocateIds(kind: IdKind, count: number): Promise<bigint> {
    if (!Number.isInteger(count) || count <= 0) throw new FsError(Errno.EINVAL, `allocate ${count} ids`);
    const field = kind === 'inode' ? 'nextInode' : 'nextChunk';
    const first = this.#counters[field];
    this.#counters[field] = first + BigInt(count);
    return first;
  }

  async nextTrashId(): Promise<number> {
    return ++this.#counters.nextTrash;
  }

  async getCounters(): Promise<Counters> {
    return { ...this.#counters };
  }

  // ---------------------------------------------------------------- helpers

  #attr(ino: Ino): Attr {
    const a = this.#nodes.get(ino);
    if (a === undefined) throw new FsError(Errno.ENOENT, `inode ${ino}`);
    return a;
  }

  #dir(ino: Ino): { attr: Attr; dir: Dir } {
    const attr = this.#attr(ino);
    const dir = this.#dirs.get(ino);
    if (attr.type !== FileType.Directory || dir === undefined) throw new FsError(Errno.ENOTDIR, `inode ${ino}`);
    return { attr, dir };
  }

  #addEntry(dir: Dir, name: Buffer, ino: Ino, type: FileType): void {
    const e: Entry = { name: Buffer.from(name), ino, type, pos: this.#nextPos++ };
    dir.byName.set(key(name), e);
    dir.byPos.set(e.pos, e);
  }

  #removeEntry(dir: Dir, e: Entry): void {
    dir.byName.delete(key(e.name));
    dir.byPos.delete(e.pos);
  }

  /** usedSpace/totalInodes of spec §B.10: every inode but the root and the trash root. */
  #count(ino: Ino, length: number, sign: 1 | -1): void {
    if (ino === ROOT_INODE || ino === TRASH_INODE) return;
    this.#counters.usedSpace += sign * align4K(length);
    this.#counters.usedInodes += sign;
  }

  #dirStat(parent: Ino, dataLength: number, usedSpace: number, usedInodes: number): void {
    const s = this.#dirStats.get(parent);
    if (s === undefined) return;
    s.dataLength += dataLength;
    s.usedSpace += usedSpace;
    s.usedInodes += usedInodes;
  }

  /** Dir stats contribution of one child (data length counts regular files only). */
  #statOf(a: Attr): [number, number] {
    return [a.type === FileType.File ? a.length : 0, align4K(a.length)];
  }

  #touchParent(parent: Attr, parentIno: Ino, nlinkDelta: number, now: Timespec, skipMs: number | undefined): void {
    const changesNlink = nlinkDelta !== 0 && !isTrashIno(parentIno);
    if (changesNlink) parent.nlink += nlinkDelta;
    if (changesNlink || skipMs === undefined || diffMs({ sec: parent.mtime, nsec: parent.mtimeNs }, now) >= skipMs) {
      setTimes(parent, now, true);
    }
  }

  #addParent(ino: Ino, parent: Ino, delta: number): void {
    let m = this.#parents.get(ino);
    if (m === undefined) this.#parents.set(ino, (m = new Map()));
    const n = (m.get(parent) ?? 0) + delta;
    if (n > 0) m.set(parent, n);
    else m.delete(parent);
  }

  /** Moves one link of `attr` from `from` to `to` (Attr.parent or the parents map). */
  #moveLink(ino: Ino, attr: Attr, from: Ino, to: Ino): void {
    if (attr.parent !== 0n) {
      attr.parent = to;
      return;
    }
    this.#addParent(ino, from, -1);
    this.#addParent(ino, to, 1);
  }

  /** Forgets an inode entirely (its last link is gone and nobody keeps it). */
  #dropInode(ino: Ino, attr: Attr, now: Timespec): void {
    this.#nodes.delete(ino);
    this.#parents.delete(ino);
    this.#symlinks.delete(ino);
    this.#xattrs.delete(ino);
    this.#dirs.delete(ino);
    this.#dirStats.delete(ino);
    this.#count(ino, attr.length, -1);
    if (attr.type === FileType.File) this.#delfiles.set(ino, { ino, length: attr.length, expire: now.sec });
  }

  /**
   * Removes entry `e` of `parent` for unlink/rmdir/rename-over: to trash when a target is given,
   * else drops a link (sustaining an open file's inode). The entry must already be validated.
   */
  #removeLink(parentIno: Ino, pattr: Attr, dir: Dir, e: Entry, opts: {
    trash: UnlinkTxn['trash']; keepOpen: boolean; sid: number; now: Timespec; skipMs: number | undefined;
  }): UnlinkResult {
    const attr = this.#attr(e.ino);
    const isDir = attr.type === FileType.Directory;
    const [dLen, dSpace] = this.#statOf(attr);
    const base = { ino: e.ino, length: attr.length, type: attr.type };
    if (opts.trash !== null) {
      const t = this.#dir(opts.trash.dir);
      if (!t.dir.byName.has(key(opts.trash.name))) {
        this.#removeEntry(dir, e);
        this.#addEntry(t.dir, opts.trash.name, e.ino, e.type);
        this.#moveLink(e.ino, attr, parentIno, opts.trash.dir);
        setTimes(attr, opts.now, false);
        this.#touchParent(pattr, parentIno, isDir ? -1 : 0, opts.now, opts.skipMs);
        this.#touchParent(t.attr, opts.trash.dir, 0, opts.now, opts.skipMs);
        this.#dirStat(parentIno, -dLen, -dSpace, -1);
        this.#dirStat(opts.trash.dir, dLen, dSpace, 1);
        return { ...base, attr: copy(attr), deleted: false, sustained: false };
      }
      // a hard link of this inode is already in this hour's trash under that name: delete for real
    }
    this.#removeEntry(dir, e);
    this.#touchParent(pattr, parentIno, isDir ? -1 : 0, opts.now, opts.skipMs);
    this.#dirStat(parentIno, -dLen, -dSpace, -1);
    if (attr.parent === 0n) this.#addParent(e.ino, parentIno, -1);
    attr.nlink = isDir ? 0 : attr.nlink - 1;
    setTimes(attr, opts.now, false);
    if (attr.nlink > 0) return { ...base, attr: copy(attr), deleted: false, sustained: false };
    if (attr.type === FileType.File && opts.keepOpen) {
      let s = this.#sustained.get(opts.sid);
      if (s === undefined) this.#sustained.set(opts.sid, (s = new Set()));
      s.add(e.ino);
      return { ...base, attr: copy(attr), deleted: false, sustained: true };
    }
    this.#dropInode(e.ino, attr, opts.now);
    return { ...base, attr: null, deleted: true, sustained: false };
  }

  // ---------------------------------------------------------------- namespace

  async doGetAttr(ino: Ino): Promise<Attr> {
    return copy(this.#attr(ino));
  }

  async doGetAttrs(inos: readonly Ino[]): Promise<(Attr | null)[]> {
    return inos.map((i) => {
      const a = this.#nodes.get(i);
      return a === undefined ? null : copy(a);
    });
  }

  async doLookup(parent: Ino, name: Buffer): Promise<{ ino: Ino; type: FileType; attr: Attr }> {
    const { dir } = this.#dir(parent);
    const e = dir.byName.get(key(name));
    if (e === undefined) throw expectedFsError(Errno.ENOENT, `${parent}/${name.toString()}`);
    return { ino: e.ino, type: e.type, attr: copy(this.#attr(e.ino)) };
  }

  /** Nothing outlives the process: there is nothing to make durable. */
  async durable(): Promise<void> {
    // nothing to wait for
  }

  async doMknod(t: MknodTxn): Promise<MknodResult> {
    const { attr: pattr, dir } = this.#dir(t.parent);
    const existing = dir.byName.get(key(t.name));
    if (existing !== undefined) {
      if (t.onExist === 'fail') throw new FsError(Errno.EEXIST, `${t.parent}/${t.name.toString()}`);
      return { ino: existing.ino, attr: copy(this.#attr(existing.ino)), existing: true };
    }
    if (this.#nodes.has(t.ino)) throw new FsError(Errno.EIO, `inode ${t.ino} already exists`);
    if (t.attr.type === FileType.Symlink && t.symlinkTarget === undefined) throw new FsError(Errno.EINVAL, 'symlink without target');
    const attr = copy(t.attr);
    attr.parent = t.parent;
    if (attr.type === FileType.Directory) this.#newDir(t.ino, attr);
    else this.#nodes.set(t.ino, attr);
    if (t.symlinkTarget !== undefined) this.#symlinks.set(t.ino, Buffer.from(t.symlinkTarget));
    this.#addEntry(dir, t.name, t.ino, attr.type);
    this.#touchParent(pattr, t.parent, attr.type === FileType.Directory ? 1 : 0, t.now, t.skipDirMtimeMs);
    this.#count(t.ino, attr.length, 1);
    const [dLen, dSpace] = this.#statOf(attr);
    this.#dirStat(t.parent, dLen, dSpace, 1);
    return { ino: t.ino, attr: copy(attr), existing: false, parentAttr: copy(pattr) };
  }

  async doUnlink(t: UnlinkTxn): Promise<UnlinkResult> {
    const { attr: pattr, dir } = this.#dir(t.parent);
    const e = dir.byName.get(key(t.name));
    if (e === undefined) throw new FsError(Errno.ENOENT, `${t.parent}/${t.name.toString()}`);
    if (e.ino !== t.expectIno) throw new FsError(Errno.EAGAIN, `${t.parent}/${t.name.toString()} changed`);
    if (t.rmdir) {
      if (e.type !== FileType.Directory) throw new FsError(Errno.ENOTDIR, t.name.toString());
      if ((this.#dirs.get(e.ino)?.byName.size ?? 0) > 0) throw new FsError(Errno.ENOTEMPTY, t.name.toString());
    } else if (e.type === FileType.Directory) {
      throw new FsError(Errno.EISDIR, t.name.toString());
    }
    const r = this.#removeLink(t.parent, pattr, dir, e, { trash: t.trash, keepOpen: t.keepOpen, sid: t.sid, now: t.now, skipMs: t.skipDirMtimeMs });
    return { ...r, parentAttr: copy(pattr) };
  }

  async doRename(t: RenameTxn): Promise<RenameResult> {
    const sp = this.#dir(t.srcParent);
    const dp = this.#dir(t.dstParent);
    const se = sp.dir.byName.get(key(t.srcName));
    if (se === undefined) throw new FsError(Errno.ENOENT, t.srcName.toString());
    if (se.ino !== t.expectSrcIno) throw new FsError(Errno.EAGAIN, `${t.srcName.toString()} changed`);
    const de = dp.dir.byName.get(key(t.dstName)) ?? null;
    if ((de?.ino ?? null) !== t.expectDstIno) throw new FsError(Errno.EAGAIN, `${t.dstName.toString()} changed`);
    const sattr = this.#attr(se.ino);
    if (t.srcParent === t.dstParent && t.srcName.equals(t.dstName)) return { ino: se.ino, attr: copy(sattr), replaced: null };
    if (de !== null && de.ino === se.ino) return { ino: se.ino, attr: copy(sattr), replaced: null };
    if (de !== null && (t.flags & RENAME_NOREPLACE) !== 0) throw new FsError(Errno.EEXIST, t.dstName.toString());
    const srcIsDir = se.type === FileType.Directory;
    const skipMs = t.skipDirMtimeMs;
    if ((t.flags & RENAME_EXCHANGE) !== 0) {
      if (de === null) throw new FsError(Errno.ENOENT, t.dstName.toString());
      const dattr = this.#attr(de.ino);
      const dstIsDir = de.type === FileType.Directory;
      this.#removeEntry(sp.dir, se);
      this.#removeEntry(dp.dir, de);
      this.#addEntry(sp.dir, t.srcName, de.ino, de.type);
      this.#addEntry(dp.dir, t.dstName, se.ino, se.type);
      if (t.srcParent !== t.dstParent) {
        this.#moveLink(se.ino, sattr, t.srcParent, t.dstParent);
        this.#moveLink(de.ino, dattr, t.dstParent, t.srcParent);
        const delta = (srcIsDir ? 1 : 0) - (dstIsDir ? 1 : 0);
        this.#touchParent(sp.attr, t.srcParent, -delta, t.now, skipMs);
        this.#touchParent(dp.attr, t.dstParent, delta, t.now, skipMs);
        const [sLen, sSpace] = this.#statOf(sattr);
        const [dLen, dSpace] = this.#statOf(dattr);
        this.#dirStat(t.srcParent, dLen - sLen, dSpace - sSpace, 0);
        this.#dirStat(t.dstParent, sLen - dLen, sSpace - dSpace, 0);
      } else {
        this.#touchParent(sp.attr, t.srcParent, 0, t.now, skipMs);
      }
      setTimes(sattr, t.now, false);
      setTimes(dattr, t.now, false);
      return { ino: se.ino, attr: copy(sattr), replaced: null };
    }
    let replaced: UnlinkResult | null = null;
    if (de !== null) {
      const dstIsDir = de.type === FileType.Directory;
      if (srcIsDir && !dstIsDir) throw new FsError(Errno.ENOTDIR, t.dstName.toString());
      if (!srcIsDir && dstIsDir) throw new FsError(Errno.EISDIR, t.dstName.toString());
      if (dstIsDir && (this.#dirs.get(de.ino)?.byName.size ?? 0) > 0) throw new FsError(Errno.ENOTEMPTY, t.dstName.toString());
      replaced = this.#removeLink(t.dstParent, dp.attr, dp.dir, de, { trash: t.trash, keepOpen: t.dstKeepOpen, sid: t.sid, now: t.now, skipMs });
    }
    this.#removeEntry(sp.dir, se);
    this.#addEntry(dp.dir, t.dstName, se.ino, se.type);
    if (t.srcParent !== t.dstParent) {
      this.#moveLink(se.ino, sattr, t.srcParent, t.dstParent);
      this.#touchParent(sp.attr, t.srcParent, srcIsDir ? -1 : 0, t.now, skipMs);
      this.#touchParent(dp.attr, t.dstParent, srcIsDir ? 1 : 0, t.now, skipMs);
      const [sLen, sSpace] = this.#statOf(sattr);
      this.#dirStat(t.srcParent, -sLen, -sSpace, -1);
      this.#dirStat(t.dstParent, sLen, sSpace, 1);
    } else {
      this.#touchParent(sp.attr, t.srcParent, 0, t.now, skipMs);
    }
    setTimes(sattr, t.now, false);
    return { ino: se.ino, attr: copy(sattr), replaced };
  }

  async doLink(t: LinkTxn): Promise<Attr> {
    const attr = this.#attr(t.ino);
    if (attr.type === FileType.Directory) throw new FsError(Errno.EPERM, 'hard link to a directory');
    const { attr: pattr, dir } = this.#dir(t.parent);
    if (dir.byName.has(key(t.name))) throw new FsError(Errno.EEXIST, t.name.toString());
    if (attr.nlink === 0) throw new FsError(Errno.ENOENT, `inode ${t.ino} was unlinked`);
    if (attr.parent !== 0n) {
      this.#addParent(t.ino, attr.parent, 1);
      attr.parent = toIno(0);
    }
    this.#addParent(t.ino, t.parent, 1);
    attr.nlink += 1;
    setTimes(attr, t.now, false);
    this.#addEntry(dir, t.name, t.ino, attr.type);
    this.#touchParent(pattr, t.parent, 0, t.now, t.skipDirMtimeMs);
    const [dLen, dSpace] = this.#statOf(attr);
    this.#dirStat(t.parent, dLen, dSpace, 1);
    return copy(attr);
  }

  async doSetAttr(t: SetAttrTxn): Promise<Attr> {
    const a = this.#attr(t.ino);
    if (t.mode !== undefined) a.mode = t.mode & 0o7777;
    if (t.uid !== undefined) a.uid = t.uid;
    if (t.gid !== undefined) a.gid = t.gid;
    if (t.flags !== undefined) a.flags = t.flags & 0xff;
    if (t.atime !== undefined) [a.atime, a.atimeNs] = [t.atime.sec, t.atime.nsec];
    if (t.mtime !== undefined) [a.mtime, a.mtimeNs] = [t.mtime.sec, t.mtime.nsec];
    [a.ctime, a.ctimeNs] = [t.now.sec, t.now.nsec];
    return copy(a);
  }

  /** New length of a file: usedSpace and the parent's dir stats follow (none for hard-linked files). */
  #resize(a: Attr, length: number): void {
    const delta = align4K(length) - align4K(a.length);
    this.#counters.usedSpace += delta;
    if (a.parent !== 0n && a.nlink > 0) this.#dirStat(a.parent, length - a.length, delta, 0);
    a.length = length;
  }

  async doTruncate(t: TruncateTxn): Promise<Attr> {
    const a = this.#attr(t.ino);
    if (a.type === FileType.Directory) throw new FsError(Errno.EISDIR, `inode ${t.ino}`);
    if (a.type !== FileType.File) throw new FsError(Errno.EPERM, `inode ${t.ino} is not a file`);
    for (const h of truncateHoles(a.length, t.length)) {
      const list = this.#chunkList(t.ino, h.indx, !h.onlyIfExists);
      list?.push(h.record);
    }
    this.#resize(a, t.length);
    setTimes(a, t.now, true);
    return copy(a);
  }

  #chunkList(ino: Ino, indx: number, create: boolean): SliceRecord[] | null {
    let m = this.#chunks.get(ino);
    if (m === undefined) {
      if (!create) return null;
      this.#chunks.set(ino, (m = new Map()));
    }
    let list = m.get(indx);
    if (list === undefined) {
      if (!create) return null;
      m.set(indx, (list = []));
    }
    return list;
  }

  async doReadlink(ino: Ino): Promise<Buffer> {
    const a = this.#attr(ino);
    const target = this.#symlinks.get(ino);
    if (a.type !== FileType.Symlink || target === undefined) throw new FsError(Errno.EINVAL, `inode ${ino} is not a symlink`);
    return Buffer.from(target);
  }

  async doReaddir(ino: Ino, after: bigint, limit: number, plus: boolean): Promise<ReaddirPage> {
    const { dir } = this.#dir(ino);
    const entries: DirEntry[] = [];
    let more = false;
    for (const e of dir.byPos.values()) {
      if (e.pos <= after) continue;
      if (entries.length >= limit) {
        more = true;
        break;
      }
      const d: DirEntry = { name: Buffer.from(e.name), ino: e.ino, type: e.type, cookie: e.pos };
      const a = plus ? this.#nodes.get(e.ino) : undefined;
      entries.push(a === undefined ? d : { ...d, attr: copy(a) });
    }
    return { entries, more };
  }

  // ---------------------------------------------------------------- xattrs

  async doGetXattr(ino: Ino, name: Buffer): Promise<Buffer> {
    this.#attr(ino);
    const v = this.#xattrs.get(ino)?.get(key(name));
    if (v === undefined) throw new FsError(Errno.ENODATA, name.toString());
    return Buffer.from(v.value);
  }

  async doSetXattr(ino: Ino, name: Buffer, value: Buffer, flags: number): Promise<void> {
    this.#attr(ino);
    let m = this.#xattrs.get(ino);
    const exists = m?.has(key(name)) ?? false;
    if (flags === 1 && exists) throw new FsError(Errno.EEXIST, name.toString());
    if (flags === 2 && !exists) throw new FsError(Errno.ENODATA, name.toString());
    if (m === undefined) this.#xattrs.set(ino, (m = new Map()));
    m.set(key(name), { name: Buffer.from(name), value: Buffer.from(value) });
  }

  async doListXattr(ino: Ino): Promise<Buffer[]> {
    this.#attr(ino);
    return [...(this.#xattrs.get(ino)?.values() ?? [])].map((x) => Buffer.from(x.name));
  }

  async doRemoveXattr(ino: Ino, name: Buffer): Promise<void> {
    this.#attr(ino);
    if (this.#xattrs.get(ino)?.delete(key(name)) !== true) throw new FsError(Errno.ENODATA, name.toString());
  }

  // ---------------------------------------------------------------- data

  async doReadSlices(ino: Ino, indx: ChunkIndex): Promise<SliceRecord[]> {
    return (this.#chunks.get(ino)?.get(indx) ?? []).map((s) => ({ ...s }));
  }

  async doWriteSlice(t: WriteTxn): Promise<WriteResult> {
    const a = this.#attr(t.ino);
    if (a.type !== FileType.File) throw new FsError(Errno.EPERM, `inode ${t.ino} is not a file`);
    const list = this.#chunkList(t.ino, t.indx, true) ?? [];
    list.push({ ...t.slice });
    const end = t.indx * CHUNK_SIZE + t.slice.pos + t.slice.len;
    if (end > a.length) this.#resize(a, end);
    [a.mtime, a.mtimeNs] = [t.mtime.sec, t.mtime.nsec];
    [a.ctime, a.ctimeNs] = [t.now.sec, t.now.nsec];
    return { attr: copy(a), listLength: list.length };
  }

  async doCloneRange(t: CloneRangeTxn): Promise<Attr> {
    const src = this.#attr(t.src);
    const dst = this.#attr(t.dst);
    for (const a of [src, dst]) {
      if (a.type === FileType.Directory) throw new FsError(Errno.EISDIR, 'clone of a directory');
      if (a.type !== FileType.File) throw new FsError(Errno.EINVAL, 'clone of a non-file');
    }
    const length = Math.max(0, Math.min(t.length, src.length - t.srcOff));
    if (length > 0) {
      const srcChunks = this.#chunks.get(t.src);
      const plan = planClone((i) => srcChunks?.get(i) ?? [], t.srcOff, t.dstOff, length);
      for (const { indx, record } of plan) {
        this.#chunkList(t.dst, indx, true)?.push(record);
        if (record.id !== 0n) {
          const k = refKey(record.id, record.size);
          this.#sliceRefs.set(k, (this.#sliceRefs.get(k) ?? 1) + 1);
        }
      }
      if (t.dstOff + length > dst.length) this.#resize(dst, t.dstOff + length);
    }
    setTimes(dst, t.now, true);
    return copy(dst);
  }

  async doCompactChunk(t: CompactChunkTxn): Promise<CompactChunkResult> {
    const list = this.#chunks.get(t.ino)?.get(t.indx);
    if (list === undefined || list.length < t.old.length || !t.old.every((r, i) => sameRecord(r, list[i]))) {
      return { applied: false, freed: [] };
    }
    if (t.skipped < 0 || t.skipped > t.old.length) throw new FsError(Errno.EINVAL, `compaction skips ${t.skipped} of ${t.old.length} records`);
    const replaced = list.slice(t.skipped, t.old.length);
    list.splice(t.skipped, t.old.length - t.skipped, { ...t.slice });
    const freed: { id: SliceId; size: number }[] = [];
    const released = replaced.filter((r) => r.id !== 0n).map((r) => ({ id: r.id, size: r.size }));
    if (t.delayed) {
      if (released.length > 0) this.#delSlices.set(`${t.slice.id}_${t.now.sec}`, released);
      return { applied: true, freed };
    }
    for (const s of released) {
      const k = refKey(s.id, s.size);
      const n = (this.#sliceRefs.get(k) ?? 1) - 1;
      this.#sliceRefs.set(k, n);
      if (n === 0) freed.push(s);
    }
    return { applied: true, freed };
  }

  async doListChunks(ino: Ino): Promise<ChunkIndex[]> {
    const m = this.#chunks.get(ino);
    if (m === undefined) return [];
    return [...m.entries()].filter(([, l]) => l.length > 0).map(([i]) => toChunkIndex(i)).sort((a, b) => a - b);
  }

  async doDropChunk(ino: Ino, indx: ChunkIndex): Promise<{ id: SliceId; size: number }[]> {
    const m = this.#chunks.get(ino);
    const list = m?.get(indx);
    if (m === undefined || list === undefined) return [];
    m.delete(indx);
    if (m.size === 0) this.#chunks.delete(ino);
    const freed: { id: SliceId; size: number }[] = [];
    for (const s of list) {
      if (s.id === 0n) continue;
      const k = refKey(s.id, s.size);
      const n = (this.#sliceRefs.get(k) ?? 1) - 1;
      this.#sliceRefs.set(k, n);
      if (n === 0) freed.push({ id: s.id, size: s.size });
    }
    return freed;
  }

  async doForgetSlice(id: SliceId, size: number): Promise<void> {
    this.#sliceRefs.delete(refKey(id, size));
  }

  async doCleanupZeroRef(_id: SliceId, _size: number): Promise<void> {
    // real counts here: a tracked slice is just refcount 1
  }

  async doCleanupSliceRefs(limit: number): Promise<{ id: SliceId; size: number }[]> {
    const out: { id: SliceId; size: number }[] = [];
    for (const [k, n] of this.#sliceRefs) {
      if (n > 0 || out.length >= limit) continue;
      const [id, size] = k.split('_');
      out.push({ id: toSliceId(BigInt(id ?? '0')), size: Number(size) });
    }
    return out;
  }

  async doReleaseDelayedSlices(edgeSec: number): Promise<{ id: SliceId; size: number }[]> {
    const freed = new Map<string, { id: SliceId; size: number }>();
    for (const [field, list] of this.#delSlices) {
      if (Number(field.slice(field.indexOf('_') + 1)) >= edgeSec) continue;
      this.#delSlices.delete(field);
      for (const s of list) {
        const k = refKey(s.id, s.size);
        const n = (this.#sliceRefs.get(k) ?? 1) - 1;
        this.#sliceRefs.set(k, n);
        if (n <= 0) freed.set(k, s);
      }
    }
    return [...freed.values()];
  }

  async doSliceRefs(id: SliceId, size: number): Promise<number> {
    return this.#sliceRefs.get(refKey(id, size)) ?? 1;
  }

  async *doScanSlices(): AsyncIterable<SliceScanItem> {
    const chunks = [...this.#chunks.entries()].flatMap(([ino, m]) => [...m.entries()].map(([indx, l]) => ({ ino, indx, slices: l.map((r) => ({ ...r })) })));
    for (const c of chunks) if (c.slices.length > 0) yield { kind: 'chunk', ino: c.ino, indx: toChunkIndex(c.indx), slices: c.slices };
    for (const l of [...this.#delSlices.values()]) yield { kind: 'delayed', slices: l.map((x) => ({ ...x })) };
    for (const [k, n] of [...this.#sliceRefs.entries()]) {
      const [id, size] = k.split('_');
      if (n <= 0 && id !== undefined && size !== undefined) yield { kind: 'unreferenced', id: toSliceId(BigInt(id)), size: Number(size) };
    }
  }

  async doGetParents(ino: Ino): Promise<Map<Ino, number>> {
    const a = this.#nodes.get(ino);
    if (a === undefined) throw new FsError(Errno.ENOENT, `parents ${ino}`);
    if (a.parent !== 0n) return new Map([[a.parent, 1]]);
    return new Map(this.#parents.get(ino) ?? []);
  }

  async doListDelFiles(limit: number): Promise<DelFile[]> {
    return [...this.#delfiles.values()]
      .sort((a, b) => a.expire - b.expire || (a.ino < b.ino ? -1 : a.ino > b.ino ? 1 : 0))
      .slice(0, limit)
      .map((f) => ({ ...f }));
  }

  async doRemoveDelFile(ino: Ino): Promise<void> {
    this.#delfiles.delete(ino);
  }

  async doDeleteSustained(sid: number, ino: Ino): Promise<DelFile | null> {
    const set = this.#sustained.get(sid);
    if (set?.delete(ino) !== true) return null;
    if (set.size === 0) this.#sustained.delete(sid);
    const a = this.#nodes.get(ino);
    if (a === undefined || a.nlink > 0) return null;
    const t = now();
    this.#dropInode(ino, a, t);
    return { ino, length: a.length, expire: t.sec };
  }

  // ---------------------------------------------------------------- sessions and leases

  async doNewSession(info: SessionInfo, expire: number): Promise<number> {
    const sid = ++this.#counters.nextSession;
    this.#sessions.set(sid, { expire, info: { ...info } });
    return sid;
  }

  async doRefreshSession(sid: number, info: SessionInfo, expire: number): Promise<void> {
    this.#sessions.set(sid, { expire, info: { ...info } });
  }

  async doListSessions(): Promise<{ sid: number; expire: number; info: SessionInfo | null; sustained: Ino[] }[]> {
    return [...this.#sessions.entries()].sort(([a], [b]) => a - b).map(([sid, s]) => ({
      sid, expire: s.expire, info: s.info === null ? null : { ...s.info }, sustained: [...(this.#sustained.get(sid) ?? [])],
    }));
  }

  async doFindStaleSessions(now: number, limit: number): Promise<number[]> {
    return [...this.#sessions.entries()].filter(([, s]) => s.expire <= now).map(([sid]) => sid).sort((a, b) => a - b).slice(0, limit);
  }

  async doRemoveSession(sid: number): Promise<void> {
    this.#sessions.delete(sid);
    this.#sustained.delete(sid);
  }

  async doSetIfSmall(name: string, now: number, diff: number): Promise<boolean> {
    if ((this.#leases.get(name) ?? 0) > now - diff) return false;
    this.#leases.set(name, now);
    return true;
  }

  // ---------------------------------------------------------------- stats, quotas, acl

  async doGetDirStats(ino: Ino): Promise<DirStats | null> {
    const s = this.#dirStats.get(ino);
    return s === undefined ? null : { ...s };
  }

  async doGetDirQuotas(): Promise<Map<Ino, Quota>> {
    return new Map([...this.#dirQuotas].map(([k, v]) => [k, { ...v }]));
  }

  async doGetUserGroupQuotas(kind: 'user' | 'group'): Promise<Map<number, Quota>> {
    return new Map([...this.#ugQuotas[kind]].map(([k, v]) => [k, { ...v }]));
  }

  async doGetAcl(id: number): Promise<AclRule | null> {
    const r = this.#acls.get(id);
    return r === undefined ? null : structuredClone(r);
  }

  // ---------------------------------------------------------------- WebDAV locks

  async doReadDavLocks(): Promise<DavLockTable> {
    return { version: this.#davLocksVersion, locks: new Map([...this.#davLocks].map(([k, v]) => [k, Buffer.from(v)])) };
  }

  async doReadDavLocksVersion(): Promise<number> {
    return this.#davLocksVersion;
  }

  async doUpdateDavLocks(version: number, put: ReadonlyMap<string, Buffer>, remove: readonly string[]): Promise<boolean> {
    if (version !== this.#davLocksVersion) return false;
    for (const [token, value] of put) this.#davLocks.set(token, Buffer.from(value));
    for (const token of remove) this.#davLocks.delete(token);
    this.#davLocksVersion++;
    return true;
  }

  // ---------------------------------------------------------------- loader

  async newLoader(): Promise<VolumeLoader> {
    if (!(await this.isEmpty())) throw new FsError(Errno.ENOTEMPTY, 'volume is not empty');
    const ops: (() => void)[] = [];
    const put = (fn: () => void): void => { ops.push(fn); };
    const ensureDir = (ino: Ino): Dir => {
      let d = this.#dirs.get(ino);
      if (d === undefined) this.#dirs.set(ino, (d = { byName: new Map(), byPos: new Map() }));
      return d;
    };
    return {
      setting: (json) => put(() => { this.#setting = json; }),
      node: (ino, attr) => put(() => {
        this.#nodes.set(ino, copy(attr));
        if (attr.type === FileType.Directory) ensureDir(ino);
      }),
      entry: (parent, name, type, ino) => put(() => this.#addEntry(ensureDir(parent), name, ino, type)),
      parents: (ino, counts) => put(() => { this.#parents.set(ino, new Map(counts)); }),
      symlink: (ino, target) => put(() => { this.#symlinks.set(ino, Buffer.from(target)); }),
      xattr: (ino, name, value) => put(() => {
        let m = this.#xattrs.get(ino);
        if (m === undefined) this.#xattrs.set(ino, (m = new Map()));
        m.set(key(name), { name: Buffer.from(name), value: Buffer.from(value) });
      }),
      chunk: (ino, indx, slices) => put(() => {
        const list = this.#chunkList(ino, indx, true);
        list?.push(...slices.map((s) => ({ ...s })));
      }),
      sliceRef: (id, size, refs) => put(() => {
        if (refs !== 1) this.#sliceRefs.set(refKey(id, size), refs);
      }),
      dirStats: (ino, stats) => put(() => { this.#dirStats.set(ino, { ...stats }); }),
      dirQuota: (ino, quota) => put(() => { this.#dirQuotas.set(ino, { ...quota }); }),
      userGroupQuota: (kind, id, quota) => put(() => { this.#ugQuotas[kind].set(id, { ...quota }); }),
      acl: (id, rule) => put(() => { this.#acls.set(id, structuredClone(rule)); }),
      delFile: (f) => put(() => { this.#delfiles.set(f.ino, { ...f }); }),
      sustained: (sid, ino) => put(() => {
        let s = this.#sustained.get(sid);
        if (s === undefined) this.#sustained.set(sid, (s = new Set()));
        s.add(ino);
      }),
      counters: (c) => put(() => { this.#counters = { ...c }; }),
      commit: async () => {
        for (const op of ops.splice(0)) op();
      },
    };
  }
}

function setTimes(a: Attr, t: Timespec, mtime: boolean): void {
  if (mtime) [a.mtime, a.mtimeNs] = [t.sec, t.nsec];
  [a.ctime, a.ctimeNs] = [t.sec, t.nsec];
}

function sameRecord(a: SliceRecord, b: SliceRecord | undefined): boolean {
  return b !== undefined && a.pos === b.pos && a.id === b.id && a.size === b.size && a.off === b.off && a.len === b.len;
}
