/**
 * Stateless NFSv3 file handles (RFC 1813 §2.3.3 nfs_fh3; research/nfs.md §4 "File handle"):
 * 32 bytes = version, three zero bytes, volume id, export id, inode, and a truncated
 * HMAC-SHA256 over the first 24 bytes. The key comes from the volume UUID and the configured
 * secret only, so every appliance serving the volume, before and after a restart, makes and
 * accepts the same handles, and a rename never changes one. No handle table: decoding is pure
 * computation (recently verified handles skip the HMAC); whether the inode still exists is the
 * caller's getattr (ESTALE).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { toIno, type Ino } from '../../../vfs/types.js';
import { Nfs3Error } from './status.js';
import { NFS3ERR_BADHANDLE, NFS3ERR_STALE } from './types.js';

export const FH_VERSION = 1;
export const FH_BYTES = 32;
const MAC_BYTES = 8;
const SIGNED_BYTES = FH_BYTES - MAC_BYTES;
const VOLUME_AT = 4;
const EXPORT_AT = 12;
const INODE_AT = 16;
/** Verified handles remembered; past it the memory starts over (one HMAC per handle again). */
const VERIFIED_MAX = 4096;

/** What a valid handle names: an inode as seen through one export. */
export interface DecodedHandle {
  /** Export the handle was issued for (exportIdOf(path)). */
  exportId: number;
  ino: Ino;
}

/** The 8-byte volume id inside handles, also the fsid of every fattr3: a hash of the volume UUID. */
export function volumeIdOf(volumeUuid: string): bigint {
  return createHash('sha256').update(`ferry volume\0${volumeUuid}`).digest().readBigUInt64BE(0);
}

/** A 32-bit id for an export path; stable across restarts and appliances with the same config. */
export function exportIdOf(exportPath: string): number {
  return createHash('sha256').update(`ferry export\0${exportPath}`).digest().readUInt32BE(0);
}

export class FileHandleCodec {
  readonly volumeId: bigint;
  readonly #key: Buffer;
  /** Handles whose MAC checked out, by their bytes (latin1): every READ/WRITE of a file brings the same one. */
  readonly #verified = new Map<string, DecodedHandle>();

  /**
   * `secret` is the server-wide handle secret from the configuration (may be empty: then the
   * MAC only stops handles made up without knowing the volume UUID).
   */
  constructor(volumeUuid: string, secret: string | Buffer) {
    this.volumeId = volumeIdOf(volumeUuid);
    this.#key = createHmac('sha256', secret).update(`ferry nfs3 filehandle v${FH_VERSION}\0${volumeUuid}`).digest();
  }

  #mac(signed: Buffer): Buffer {
    return createHmac('sha256', this.#key).update(signed).digest().subarray(0, MAC_BYTES);
  }

  encode(exportId: number, ino: Ino): Buffer {
    const fh = Buffer.alloc(FH_BYTES);
    fh.writeUInt8(FH_VERSION, 0);
    fh.writeBigUInt64BE(this.volumeId, VOLUME_AT);
    fh.writeUInt32BE(exportId, EXPORT_AT);
    fh.writeBigUInt64BE(ino, INODE_AT);
    this.#mac(fh.subarray(0, SIGNED_BYTES)).copy(fh, SIGNED_BYTES);
    return fh;
  }

  /**
   * Checks and decodes a handle. NFS3ERR_BADHANDLE for a wrong length, version or MAC;
   * NFS3ERR_STALE for a handle of another volume (its MAC cannot be checked with our key).
   */
  decode(fh: Buffer): DecodedHandle {
    if (fh.length !== FH_BYTES) throw new Nfs3Error(NFS3ERR_BADHANDLE, `handle of ${fh.length} bytes`);
    const text = fh.toString('latin1');
    const known = this.#verified.get(text);
    if (known !== undefined) return known;
    const decoded = this.#check(fh);
    if (this.#verified.size >= VERIFIED_MAX) this.#verified.clear();
    this.#verified.set(text, decoded);
    return decoded;
  }

  #check(fh: Buffer): DecodedHandle {
    if (fh.readUInt32BE(0) !== FH_VERSION << 24) throw new Nfs3Error(NFS3ERR_BADHANDLE, 'unknown handle version');
    if (fh.readBigUInt64BE(VOLUME_AT) !== this.volumeId) throw new Nfs3Error(NFS3ERR_STALE, 'handle of another volume');
    if (!timingSafeEqual(this.#mac(fh.subarray(0, SIGNED_BYTES)), fh.subarray(SIGNED_BYTES))) {
      throw new Nfs3Error(NFS3ERR_BADHANDLE, 'handle MAC mismatch');
    }
    const ino = fh.readBigUInt64BE(INODE_AT);
    if (ino === 0n) throw new Nfs3Error(NFS3ERR_BADHANDLE, 'inode 0');
    return { exportId: fh.readUInt32BE(EXPORT_AT), ino: toIno(ino) };
  }
}
