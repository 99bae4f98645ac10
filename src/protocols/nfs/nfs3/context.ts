/**
 * What the NFSv3 procedures share, owned by one server instance: the file system, the export
 * table, the handle codec, fsid, write verifier and limits (Nfs3Context); and the per-call view
 * (Nfs3Call) that turns a file handle into an inode after every check RFC 1813 and the export
 * policy ask for, on every call: MAC (BADHANDLE), export still configured (STALE), client still
 * allowed (ACCES), inode still there (STALE); then the squashed credentials. Procedures never
 * decode handles or squash ids themselves.
 */
import type { Logger } from '../../../observability/logger.js';
import { Errno, FsError, isFsError } from '../../../util/errno.js';
import { ROOT_CREDENTIALS, ROOT_INODE, FileType, type Attr, type Credentials, type Ino } from '../../../vfs/types.js';
import type { Export, ExportTable } from '../exports.js';
import type { RpcCallContext } from '../rpc/dispatcher.js';
import { fattr3Of, wccAttrOfAttr } from './attr.js';
import type { FileHandleCodec } from './filehandle.js';
import type { NfsFileSystem } from './fs.js';
import { Nfs3Error } from './status.js';
import {
  NFS3ERR_ACCES, NFS3ERR_ROFS, NFS3ERR_STALE, NFS3ERR_XDEV, NO_WCC,
  type Fattr3, type PostOpAttr, type PreOpAttr, type WccData,
} from './types.js';
import type { WriteVerifier } from './write-verifier.js';
import { BufferPool } from '../../../util/buffer-pool.js';

/** Sizes the server advertises in FSINFO and enforces. */
export interface Nfs3Limits {
  /** rtmax = rtpref: largest READ answered in full. */
  maxReadBytes: number;
  /** wtmax = wtpref: largest WRITE accepted. */
  maxWriteBytes: number;
  /** dtpref: preferred READDIR reply size. */
  preferredReaddirBytes: number;
  /** maxfilesize. */
  maxFileBytes: bigint;
}

export const DEFAULT_NFS3_LIMITS: Nfs3Limits = {
  maxReadBytes: 1024 * 1024,
  maxWriteBytes: 1024 * 1024,
  preferredReaddirBytes: 64 * 1024,
  // Offsets stay exact JS numbers in vfs; 2^53 - 1 is far beyond any real file.
  maxFileBytes: BigInt(Number.MAX_SAFE_INTEGER),
};

/** READs above this size get a pooled reply buffer; smaller ones a fresh buffer (cheap at that size). */
export const POOLED_READ_BYTES = 64 * 1024;
/** Idle READ reply buffers kept (of maxReadBytes each): about the READs a busy server has in flight. */
const READ_BUFFERS_KEPT = 32;

/** How long a resolved export root inode is trusted. */
const ROOT_TTL_MS = 10_000;

export interface Nfs3ContextOptions {
  /** The file system the exports serve directories of. */
  fs: NfsFileSystem;
  /** The configured exports. */
  exports: ExportTable;
  /** Makes and checks file handles (volume UUID + secret). */
  handles: FileHandleCodec;
  /** The WRITE/COMMIT verifier of this server. */
  verifier: WriteVerifier;
  /** Overrides of DEFAULT_NFS3_LIMITS. */
  limits?: Partial<Nfs3Limits>;
  log: Logger;
}

export class Nfs3Context {
  readonly fs: NfsFileSystem;
  /** Replaced as a whole on reload (NfsServer.setExports); read it per call, never keep it. */
  exports: ExportTable;
  readonly handles: FileHandleCodec;
  readonly verifier: WriteVerifier;
  readonly limits: Nfs3Limits;
  readonly log: Logger;
  /** Reply buffers of READs larger than POOLED_READ_BYTES, reused once their reply is written. */
  readonly readBuffers: BufferPool;
  /** Export root inodes, resolved on first use and again after ROOT_TTL_MS; failures are not kept. */
  readonly #roots = new Map<number, { ino: Promise<Ino>; at: number }>();

  constructor(o: Nfs3ContextOptions) {
    this.fs = o.fs;
    this.exports = o.exports;
    this.handles = o.handles;
    this.verifier = o.verifier;
    this.limits = { ...DEFAULT_NFS3_LIMITS, ...o.limits };
    this.log = o.log;
    this.readBuffers = new BufferPool(this.limits.maxReadBytes, READ_BUFFERS_KEPT);
  }

  /**
   * The inode of an export's directory (walked from the volume root as root); ENOENT/ENOTDIR.
   * Cached for a while: the directory may be replaced (by another appliance, a JuiceFS client).
   */
  exportRoot(exp: Export): Promise<Ino> {
    const cached = this.#roots.get(exp.id);
    if (cached !== undefined && Date.now() - cached.at < ROOT_TTL_MS) return cached.ino;
    const entry = { ino: this.#resolvePath(exp.path), at: Date.now() };
    this.#roots.set(exp.id, entry);
    entry.ino.catch(() => {
      if (this.#roots.get(exp.id) === entry) this.#roots.delete(exp.id);
    });
    return entry.ino;
  }

  async #resolvePath(path: string): Promise<Ino> {
    let ino = ROOT_INODE;
    for (const part of path.split('/').filter((s) => s !== '')) {
      ino = (await this.fs.lookup(ROOT_CREDENTIALS, ino, Buffer.from(part))).ino;
    }
    const attr = await this.fs.getattr(ino);
    if (attr.type !== FileType.Directory) throw new FsError(Errno.ENOTDIR, `export ${path}`);
    return ino;
  }

  /**
   * fattr3.fsid of every object seen through `exp`: the volume id mixed with the export id, so it
   * is the same on every appliance, and two exports of one volume are two file systems to a client
   * (a Linux client would otherwise share one superblock between them, with different handles
   * for the same fileid).
   */
  fsidOf(exp: Export): bigint {
    return this.handles.volumeId ^ BigInt(exp.id);
  }
}

/** An object a handle names, with its attributes at resolution time. */
export interface Resolved {
  /** The inode the handle names. */
  ino: Ino;
  /** Its attributes when the handle was checked (the pre-operation attributes). */
  attr: Attr;
}

/** What a failure body slot refers to (see FailureSlot in procedure.ts). */
interface Slot {
  ino: Ino;
  before: PreOpAttr;
  /** The attributes resolve() read, when the slot's object came from it. */
  resolved: Attr | null;
}

export class Nfs3Call {
  readonly ctx: Nfs3Context;
  readonly rpc: RpcCallContext;
  #export: Export | null = null;
  #cred: Credentials | null = null;
  readonly #slots: (Slot | undefined)[] = [];

  constructor(ctx: Nfs3Context, rpc: RpcCallContext) {
    this.ctx = ctx;
    this.rpc = rpc;
  }

  get fs(): NfsFileSystem {
    return this.ctx.fs;
  }

  /** The export of the first resolved handle. */
  get export(): Export {
    if (this.#export === null) throw new Error('no handle resolved yet');
    return this.#export;
  }

  /** The caller's credentials after the export's squashing. */
  get cred(): Credentials {
    if (this.#cred === null) throw new Error('no handle resolved yet');
    return this.#cred;
  }

  /**
   * Checks a handle and returns its inode and attributes. With `slot`, the object becomes that
   * failure-body slot and its attributes the pre-operation attributes of the slot's wcc_data.
   * A second handle of another export is NFS3ERR_XDEV (RENAME, LINK).
   */
  async resolve(fh: Buffer, slot?: number): Promise<Resolved> {
    return this.#attrsOf(this.#check(fh), slot);
  }

  /**
   * resolve() of `fh` and `op` on its inode at the same time, so the attribute read travels to the
   * metadata engine with op's first reads (one round trip instead of two). `op` starts only once
   * the handle passed every check that needs no I/O, and it makes its own checks (permissions, the
   * export being writable: call checkWritable() first in `op`). The attribute read is issued
   * before op's requests, so it is the pre-operation state for the slot's wcc_data. When both
   * fail, resolve's failure (STALE) is the answer; the reply waits until both have settled.
   */
  async resolveAlong<T>(fh: Buffer, slot: number, op: (ino: Ino) => Promise<T>): Promise<[Resolved, T]> {
    return this.#along(this.#check(fh), slot, op);
  }

  /**
   * resolveAlong for the data path (READ, WRITE: one call per MiB or less of a file in use). A file
   * the server has in use answers the attributes it knew of it within the last moment, without a
   * metadata round trip (fs.recentAttr), and `op` runs. Once those are too old, the attributes are
   * read first and `op` runs after: the read drops what the server cached of the file if another
   * appliance changed it, so `op` reads what the attributes describe. A file not in use here goes
   * as resolveAlong (op opens it, and reads its state fresh).
   */
  async resolveForData<T>(fh: Buffer, slot: number, op: (ino: Ino) => Promise<T>): Promise<[Resolved, T]> {
    const ino = this.#check(fh);
    const known = this.fs.recentAttr(ino);
    if (known !== undefined && known.nlink > 0) return [this.#resolved(ino, slot, known), await op(ino)];
    if (!this.fs.inUse(ino)) return this.#along(ino, slot, op);
    const resolved = await this.#attrsOf(ino, slot);
    return [resolved, await op(ino)];
  }

  async #along<T>(ino: Ino, slot: number, op: (ino: Ino) => Promise<T>): Promise<[Resolved, T]> {
    const resolved = this.#attrsOf(ino, slot);
    let done: Promise<T>;
    try {
      done = op(ino);
    } catch (err) {
      done = Promise.reject(err);
    }
    const [obj, result] = await Promise.allSettled([resolved, done]);
    if (obj.status === 'rejected') throw obj.reason;
    if (result.status === 'rejected') throw result.reason;
    return [obj.value, result.value];
  }

  /** The checks of resolve() that need no I/O; sets the call's export and credentials. */
  #check(fh: Buffer): Ino {
    const { exportId, ino } = this.ctx.handles.decode(fh);
    const exp = this.ctx.exports.byId(exportId);
    if (exp === undefined) throw new Nfs3Error(NFS3ERR_STALE, `export ${exportId} is not configured`);
    if (this.#export !== null && this.#export !== exp) throw new Nfs3Error(NFS3ERR_XDEV, 'handles of two exports');
    if (!exp.allows(this.rpc.peer)) throw new Nfs3Error(NFS3ERR_ACCES, `client ${this.rpc.peer.address}:${this.rpc.peer.port} not allowed on ${exp.name}`);
    this.#export = exp;
    this.#cred = exp.credentials(this.rpc.auth.flavor, this.rpc.cred);
    return ino;
  }

  async #attrsOf(ino: Ino, slot: number | undefined): Promise<Resolved> {
    let attr: Attr;
    try {
      attr = await this.fs.getattr(ino);
    } catch (err) {
      if (isFsError(err, Errno.ENOENT)) throw new Nfs3Error(NFS3ERR_STALE, `inode ${ino} is gone`);
      throw err;
    }
    // unlinked, kept only while this server holds it open (its cached handles): gone for NFS
    if (attr.nlink === 0) throw new Nfs3Error(NFS3ERR_STALE, `inode ${ino} is unlinked`);
    return this.#resolved(ino, slot, attr);
  }

  /** `attr` as the resolved state of `ino`: with `slot`, also that slot's pre-operation attributes. */
  #resolved(ino: Ino, slot: number | undefined, attr: Attr): Resolved {
    if (slot !== undefined) this.#slots[slot] = { ino, before: wccAttrOfAttr(attr), resolved: attr };
    return { ino, attr };
  }

  /** Sets a failure-body slot by hand (an object known only after a lookup). */
  track(slot: number, ino: Ino, before: Attr | null): void {
    this.#slots[slot] = { ino, before: before === null ? null : wccAttrOfAttr(before), resolved: null };
  }

  /** NFS3ERR_ROFS on a read-only export. Call after resolve(). */
  checkWritable(): void {
    if (this.export.readOnly) throw new Nfs3Error(NFS3ERR_ROFS, `export ${this.export.name} is read-only`);
  }

  /**
   * Permission for READ/WRITE data access. The owner always passes (knfsd's owner override): a
   * file created 0444 and then written through the open descriptor is normal (git, tar, cp -p).
   */
  async checkDataAccess(obj: Resolved, mask: number): Promise<void> {
    if (this.cred.uid === obj.attr.uid) return;
    await this.fs.access(this.cred, obj.ino, mask, obj.attr);
  }

  /** The root inode of the call's export (LOOKUP of `..` stops there). */
  exportRoot(): Promise<Ino> {
    return this.ctx.exportRoot(this.export);
  }

  handleOf(ino: Ino): Buffer {
    return this.ctx.handles.encode(this.export.id, ino);
  }

  fattr(attr: Attr, ino: Ino): Fattr3 {
    return fattr3Of(attr, ino, this.ctx.fsidOf(this.export));
  }

  /** Current attributes as post_op_attr; null when they cannot be read (never throws). */
  async postOp(ino: Ino): Promise<PostOpAttr> {
    try {
      return this.fattr(await this.fs.getattr(ino), ino);
    } catch {
      return null;
    }
  }

  /** wcc_data of a slot: its pre-operation attributes and the current ones. */
  async wcc(slot: number): Promise<WccData> {
    const s = this.#slots[slot];
    if (s === undefined) return NO_WCC;
    return { before: s.before, after: await this.postOp(s.ino) };
  }

  /**
   * wcc_data of a slot whose post-operation attributes the operation reported (the transaction
   * that changed the object answered them), else read now.
   */
  async wccAfter(slot: number, after: Attr | undefined): Promise<WccData> {
    return after !== undefined ? this.wccWith(slot, after) : this.wcc(slot);
  }

  /** wcc_data for a slot with known post-operation attributes. */
  wccWith(slot: number, after: Attr): WccData {
    const s = this.#slots[slot];
    if (s === undefined) return NO_WCC;
    return { before: s.before, after: this.fattr(after, s.ino) };
  }

  /**
   * post_op_attr of a slot's object in the failure body of a procedure that changes nothing
   * (LOOKUP, ACCESS, READ...): the attributes resolve() read moments ago, without another read
   * (a failed LOOKUP, before every create, would otherwise cost one).
   */
  async slotAttr(slot: number): Promise<PostOpAttr> {
    const s = this.#slots[slot];
    if (s === undefined) return null;
    return s.resolved !== null ? this.fattr(s.resolved, s.ino) : this.postOp(s.ino);
  }
}
