/**
 * The seam between the MOUNT v3 procedures and whatever knows the exports: resolve a path to a
 * root handle with access checks, keep the advisory mount list, list the exports. The procedures
 * only translate wire <-> these calls; the vfs-backed implementation with allow-lists comes with
 * the export configuration, and memory-backend.ts serves tests.
 */
import type { CallerAuth } from '../rpc/auth-unix.js';
import type { ExportEntry, MountEntry, MountRes3 } from './types.js';

/** Who is asking. */
export interface MountClient {
  /** Client IP address; what allow-lists and the mount list use. */
  address: string;
  /** Source port, for `secure` (privileged port) checks. */
  port: number;
  /** Credential flavor and ids of the MNT call. */
  auth: CallerAuth;
}

/**
 * Result of MNT: a mountstat3, and on MNT3_OK the root handle and the acceptable auth flavors
 * (absent = [AUTH_SYS, AUTH_NONE]; BSD clients refuse a list with AUTH_NONE only).
 */
export type MntResult = MountRes3;

export interface MountBackend {
  /**
   * MNT: the root handle of the export at `path` (raw bytes, no normalisation promised) and
   * records the mount for DUMP. MNT3ERR_NOENT for no such export, MNT3ERR_ACCES when the client
   * may not mount it; never throws for a client mistake.
   */
  mnt(path: Buffer, client: MountClient, signal: AbortSignal): Promise<MntResult>;
  /** UMNT: forgets this client's mount of `path`; unknown mounts are ignored. Idempotent. */
  umnt(path: Buffer, client: MountClient): Promise<void>;
  /** UMNTALL: forgets every mount of this client's address. Idempotent. */
  umntAll(client: MountClient): Promise<void>;
  /** DUMP: the advisory mount list (may be empty). */
  mounts(): Promise<MountEntry[]>;
  /** EXPORT: every export with the groups allowed to mount it (empty = everyone). */
  exports(client: MountClient): Promise<ExportEntry[]>;
}
