/**
 * A typed NFSv3 test client over RpcTestClient: encodes the arguments and decodes the results of
 * the 22 procedures (RFC 1813 §3.3) with the codecs of src/protocols/nfs/nfs3/types.ts, so tests
 * read as `await c.lookup(dir, 'a')`. Every result carries the raw status; failure bodies are
 * decoded too, so tests can check the wcc_data and post_op_attr of errors. Also MNT.
 */
import { MNT3_OK, MOUNT_PROG, MOUNT_V3, MOUNTPROC3_MNT, decodeMountRes3 } from '../../src/protocols/nfs/mount/types.js';
import type { OpaqueAuth } from '../../src/protocols/nfs/rpc/message.js';
import {
  NFS3_OK, NFS_PROGRAM, NFS_V3, NFSPROC3_ACCESS, NFSPROC3_COMMIT, NFSPROC3_CREATE, NFSPROC3_FSINFO, NFSPROC3_FSSTAT,
  NFSPROC3_GETATTR, NFSPROC3_LINK, NFSPROC3_LOOKUP, NFSPROC3_MKDIR, NFSPROC3_MKNOD, NFSPROC3_PATHCONF, NFSPROC3_READ,
  NFSPROC3_READDIR, NFSPROC3_READDIRPLUS, NFSPROC3_READLINK, NFSPROC3_REMOVE, NFSPROC3_RENAME, NFSPROC3_RMDIR, NFSPROC3_SETATTR,
  NFSPROC3_SYMLINK, NFSPROC3_WRITE, UNCHECKED, EXCLUSIVE, UNSTABLE, NF3CHR, NF3BLK, NF3SOCK, NF3FIFO,
  decodeFattr3, decodeNfsFh3, decodeNfstime3, decodePostOpAttr, decodePostOpFh3, decodeWccData, encodeDiropargs3,
  encodeNfsFh3, encodeSattr3, encodeSattrguard3, encodeSpecdata3,
  type Fattr3, type Nfstime3, type PostOpAttr, type Sattr3, type Specdata3, type WccData,
} from '../../src/protocols/nfs/nfs3/types.js';
import type { XdrReader } from '../../src/protocols/nfs/xdr/reader.js';
import { XdrWriter } from '../../src/protocols/nfs/xdr/writer.js';
import { RpcTestClient, successBody, sysCred } from './rpc-client.js';

const name = (n: string | Buffer): Buffer => (typeof n === 'string' ? Buffer.from(n) : n);

export interface DirEntry3 {
  fileid: bigint;
  name: string;
  cookie: bigint;
  attr?: PostOpAttr;
  fh?: Buffer | null;
}

export class Nfs3TestClient {
  readonly rpc: RpcTestClient;
  cred: OpaqueAuth;

  constructor(rpc: RpcTestClient, cred: OpaqueAuth = sysCred(1000, 1000)) {
    this.rpc = rpc;
    this.cred = cred;
  }

  static async connect(port: number, cred?: OpaqueAuth, opts: { localPort?: number } = {}): Promise<Nfs3TestClient> {
    return new Nfs3TestClient(await RpcTestClient.connect(port, opts), cred);
  }

  close(): Promise<void> {
    return this.rpc.close();
  }

  /** One NFS call; returns the result body reader positioned after the status, and the status. */
  async call(proc: number, args: XdrWriter, opts: { xid?: number; cred?: OpaqueAuth } = {}): Promise<{ status: number; r: XdrReader }> {
    const reply = await this.rpc.call({ prog: NFS_PROGRAM, vers: NFS_V3, proc, args, cred: opts.cred ?? this.cred, ...(opts.xid === undefined ? {} : { xid: opts.xid }) });
    const r = successBody(reply);
    return { status: r.u32(), r };
  }

  async mount(port: number, path: string, cred: OpaqueAuth = this.cred): Promise<{ status: number; fh?: Buffer }> {
    const c = await RpcTestClient.connect(port);
    try {
      const res = decodeMountRes3(successBody(await c.call({ prog: MOUNT_PROG, vers: MOUNT_V3, proc: MOUNTPROC3_MNT, cred, args: new XdrWriter().string(path) })));
      return res.status === MNT3_OK && res.fh !== undefined ? { status: res.status, fh: Buffer.from(res.fh) } : { status: res.status };
    } finally {
      await c.close();
    }
  }

  async getattr(fh: Buffer): Promise<{ status: number; attr?: Fattr3 }> {
    const { status, r } = await this.call(NFSPROC3_GETATTR, new XdrWriter().opaque(fh));
    return status === NFS3_OK ? { status, attr: decodeFattr3(r) } : { status };
  }

  async setattr(fh: Buffer, attrs: Sattr3, guard: Nfstime3 | null = null, opts: { xid?: number } = {}): Promise<{ status: number; wcc: WccData }> {
    const w = new XdrWriter();
    encodeNfsFh3(w, fh);
    encodeSattr3(w, attrs);
    encodeSattrguard3(w, guard);
    const { status, r } = await this.call(NFSPROC3_SETATTR, w, opts);
    return { status, wcc: decodeWccData(r) };
  }

  async lookup(dir: Buffer, n: string | Buffer): Promise<{ status: number; fh?: Buffer; attr?: PostOpAttr; dirAttr: PostOpAttr }> {
    const w = new XdrWriter();
    encodeDiropargs3(w, { dir, name: name(n) });
    const { status, r } = await this.call(NFSPROC3_LOOKUP, w);
    if (status !== NFS3_OK) return { status, dirAttr: decodePostOpAttr(r) };
    const fh = Buffer.from(decodeNfsFh3(r));
    return { status, fh, attr: decodePostOpAttr(r), dirAttr: decodePostOpAttr(r) };
  }

  /** LOOKUP that must succeed. */
  async fh(dir: Buffer, n: string): Promise<Buffer> {
    const res = await this.lookup(dir, n);
    if (res.fh === undefined) throw new Error(`lookup ${n}: status ${res.status}`);
    return res.fh;
  }

  async access(fh: Buffer, mask: number): Promise<{ status: number; attr: PostOpAttr; access?: number }> {
    const { status, r } = await this.call(NFSPROC3_ACCESS, new XdrWriter().opaque(fh).u32(mask));
    const attr = decodePostOpAttr(r);
    return status === NFS3_OK ? { status, attr, access: r.u32() } : { status, attr };
  }

  async readlink(fh: Buffer): Promise<{ status: number; attr: PostOpAttr; target?: string }> {
    const { status, r } = await this.call(NFSPROC3_READLINK, new XdrWriter().opaque(fh));
    const attr = decodePostOpAttr(r);
    return status === NFS3_OK ? { status, attr, target: r.string(4096).toString() } : { status, attr };
  }

  async read(fh: Buffer, offset: number | bigint, count: number): Promise<{ status: number; attr: PostOpAttr; eof?: boolean; data?: Buffer }> {
    const { status, r } = await this.call(NFSPROC3_READ, new XdrWriter().opaque(fh).u64(offset).u32(count));
    const attr = decodePostOpAttr(r);
    if (status !== NFS3_OK) return { status, attr };
    const n = r.u32();
    const eof = r.bool();
    const data = Buffer.from(r.opaque(64 * 1024 * 1024));
    if (data.length !== n) throw new Error(`READ count ${n} but ${data.length} data bytes`);
    return { status, attr, eof, data };
  }

  async write(fh: Buffer, offset: number | bigint, data: Buffer, stable = UNSTABLE, opts: { count?: number } = {}): Promise<{ status: number; wcc: WccData; count?: number; committed?: number; verf?: Buffer }> {
    const w = new XdrWriter().opaque(fh).u64(offset).u32(opts.count ?? data.length).enum(stable).opaque(data);
    const { status, r } = await this.call(NFSPROC3_WRITE, w);
    const wcc = decodeWccData(r);
    if (status !== NFS3_OK) return { status, wcc };
    return { status, wcc, count: r.u32(), committed: r.u32(), verf: Buffer.from(r.opaqueFixed(8)) };
  }

  #diropres(status: number, r: XdrReader): { status: number; fh?: Buffer | null; attr?: PostOpAttr; dirWcc: WccData } {
    if (status !== NFS3_OK) return { status, dirWcc: decodeWccData(r) };
    const fh = decodePostOpFh3(r);
    return { status, fh: fh === null ? null : Buffer.from(fh), attr: decodePostOpAttr(r), dirWcc: decodeWccData(r) };
  }

  async create(dir: Buffer, n: string | Buffer, how: { mode?: number; attrs?: Sattr3; verf?: Buffer } = {}, opts: { xid?: number } = {}) {
    const w = new XdrWriter();
    encodeDiropargs3(w, { dir, name: name(n) });
    const mode = how.mode ?? (how.verf === undefined ? UNCHECKED : EXCLUSIVE);
    w.enum(mode);
    if (mode === EXCLUSIVE) w.opaqueFixed(how.verf ?? Buffer.alloc(8), 8);
    else encodeSattr3(w, how.attrs ?? { mode: 0o644 });
    const { status, r } = await this.call(NFSPROC3_CREATE, w, opts);
    return this.#diropres(status, r);
  }

  async mkdir(dir: Buffer, n: string | Buffer, attrs: Sattr3 = { mode: 0o755 }, opts: { xid?: number } = {}) {
    const w = new XdrWriter();
    encodeDiropargs3(w, { dir, name: name(n) });
    encodeSattr3(w, attrs);
    const { status, r } = await this.call(NFSPROC3_MKDIR, w, opts);
    return this.#diropres(status, r);
  }

  async symlink(dir: Buffer, n: string, target: string, attrs: Sattr3 = {}) {
    const w = new XdrWriter();
    encodeDiropargs3(w, { dir, name: name(n) });
    encodeSattr3(w, attrs);
    w.string(target);
    const { status, r } = await this.call(NFSPROC3_SYMLINK, w);
    return this.#diropres(status, r);
  }

  async mknod(dir: Buffer, n: string, type: number, attrs: Sattr3 = { mode: 0o644 }, spec: Specdata3 = { specdata1: 0, specdata2: 0 }) {
    const w = new XdrWriter();
    encodeDiropargs3(w, { dir, name: name(n) });
    w.enum(type);
    if (type === NF3CHR || type === NF3BLK) {
      encodeSattr3(w, attrs);
      encodeSpecdata3(w, spec);
    } else if (type === NF3SOCK || type === NF3FIFO) encodeSattr3(w, attrs);
    const { status, r } = await this.call(NFSPROC3_MKNOD, w);
    return this.#diropres(status, r);
  }

  async remove(dir: Buffer, n: string | Buffer, opts: { xid?: number } = {}): Promise<{ status: number; wcc: WccData }> {
    const w = new XdrWriter();
    encodeDiropargs3(w, { dir, name: name(n) });
    const { status, r } = await this.call(NFSPROC3_REMOVE, w, opts);
    return { status, wcc: decodeWccData(r) };
  }

  async rmdir(dir: Buffer, n: string): Promise<{ status: number; wcc: WccData }> {
    const w = new XdrWriter();
    encodeDiropargs3(w, { dir, name: name(n) });
    const { status, r } = await this.call(NFSPROC3_RMDIR, w);
    return { status, wcc: decodeWccData(r) };
  }

  async rename(fromDir: Buffer, from: string, toDir: Buffer, to: string, opts: { xid?: number } = {}): Promise<{ status: number; fromWcc: WccData; toWcc: WccData }> {
    const w = new XdrWriter();
    encodeDiropargs3(w, { dir: fromDir, name: name(from) });
    encodeDiropargs3(w, { dir: toDir, name: name(to) });
    const { status, r } = await this.call(NFSPROC3_RENAME, w, opts);
    return { status, fromWcc: decodeWccData(r), toWcc: decodeWccData(r) };
  }

  async link(file: Buffer, dir: Buffer, n: string): Promise<{ status: number; attr: PostOpAttr; dirWcc: WccData }> {
    const w = new XdrWriter().opaque(file);
    encodeDiropargs3(w, { dir, name: name(n) });
    const { status, r } = await this.call(NFSPROC3_LINK, w);
    return { status, attr: decodePostOpAttr(r), dirWcc: decodeWccData(r) };
  }

  async readdir(dir: Buffer, cookie: bigint, count: number, verf: Buffer = Buffer.alloc(8)) {
    const { status, r } = await this.call(NFSPROC3_READDIR, new XdrWriter().opaque(dir).u64(cookie).opaqueFixed(verf, 8).u32(count));
    const dirAttr = decodePostOpAttr(r);
    if (status !== NFS3_OK) return { status, dirAttr, entries: [] as DirEntry3[], eof: false, bytes: 0 };
    const start = r.offset;
    const verifier = Buffer.from(r.opaqueFixed(8));
    const entries = r.list(1 << 20, (x) => ({ fileid: x.u64(), name: x.string(4096).toString(), cookie: x.u64() }));
    const eof = r.bool();
    return { status, dirAttr, verifier, entries: entries as DirEntry3[], eof, bytes: r.offset - start + (dirAttr === null ? 4 : 88) };
  }

  async readdirplus(dir: Buffer, cookie: bigint, dircount: number, maxcount: number, verf: Buffer = Buffer.alloc(8)) {
    const { status, r } = await this.call(NFSPROC3_READDIRPLUS, new XdrWriter().opaque(dir).u64(cookie).opaqueFixed(verf, 8).u32(dircount).u32(maxcount));
    const dirAttr = decodePostOpAttr(r);
    if (status !== NFS3_OK) return { status, dirAttr, entries: [] as DirEntry3[], eof: false, bytes: 0 };
    const start = r.offset;
    const verifier = Buffer.from(r.opaqueFixed(8));
    const entries = r.list(1 << 20, (x): DirEntry3 => {
      const fileid = x.u64();
      const n = x.string(4096).toString();
      const c = x.u64();
      const attr = decodePostOpAttr(x);
      const fh = decodePostOpFh3(x);
      return { fileid, name: n, cookie: c, attr, fh: fh === null ? null : Buffer.from(fh) };
    });
    const eof = r.bool();
    return { status, dirAttr, verifier, entries, eof, bytes: r.offset - start + (dirAttr === null ? 4 : 88) };
  }

  async fsstat(fh: Buffer) {
    const { status, r } = await this.call(NFSPROC3_FSSTAT, new XdrWriter().opaque(fh));
    const attr = decodePostOpAttr(r);
    if (status !== NFS3_OK) return { status, attr };
    return { status, attr, tbytes: r.u64(), fbytes: r.u64(), abytes: r.u64(), tfiles: r.u64(), ffiles: r.u64(), afiles: r.u64(), invarsec: r.u32() };
  }

  async fsinfo(fh: Buffer) {
    const { status, r } = await this.call(NFSPROC3_FSINFO, new XdrWriter().opaque(fh));
    const attr = decodePostOpAttr(r);
    if (status !== NFS3_OK) return { status, attr };
    return {
      status, attr, rtmax: r.u32(), rtpref: r.u32(), rtmult: r.u32(), wtmax: r.u32(), wtpref: r.u32(), wtmult: r.u32(), dtpref: r.u32(),
      maxfilesize: r.u64(), timeDelta: decodeNfstime3(r), properties: r.u32(),
    };
  }

  async pathconf(fh: Buffer) {
    const { status, r } = await this.call(NFSPROC3_PATHCONF, new XdrWriter().opaque(fh));
    const attr = decodePostOpAttr(r);
    if (status !== NFS3_OK) return { status, attr };
    return { status, attr, linkmax: r.u32(), nameMax: r.u32(), noTrunc: r.bool(), chownRestricted: r.bool(), caseInsensitive: r.bool(), casePreserving: r.bool() };
  }

  async commit(fh: Buffer, offset = 0, count = 0): Promise<{ status: number; wcc: WccData; verf?: Buffer }> {
    const { status, r } = await this.call(NFSPROC3_COMMIT, new XdrWriter().opaque(fh).u64(offset).u32(count));
    const wcc = decodeWccData(r);
    return status === NFS3_OK ? { status, wcc, verf: Buffer.from(r.opaqueFixed(8)) } : { status, wcc };
  }
}
