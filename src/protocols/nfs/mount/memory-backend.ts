/**
 * An in-memory MountBackend over a fixed export list with per-export allow-lists (addresses and
 * CIDR networks, matched as the configured exports match them). It hands out the handles it was
 * given and keeps the mount list in a MountTable; for tests. No file system.
 */
import type { BlockList } from 'node:net';
import { addressAllowed, blockListOf } from '../exports.js';
import { AUTH_NONE, AUTH_SYS } from '../rpc/message.js';
import type { MntResult, MountBackend, MountClient } from './backend.js';
import { MountTable } from './mount-table.js';
import { MNT3_OK, MNT3ERR_ACCES, MNT3ERR_NOENT, type ExportEntry, type MountEntry } from './types.js';

export interface MemoryExport {
  path: string;
  /** The root handle MNT returns. */
  fh: Buffer;
  /** Addresses or CIDR networks allowed to mount; absent = everyone. */
  allow?: string[];
  authFlavors?: number[];
}

export class MemoryMountBackend implements MountBackend {
  readonly #exports: { e: MemoryExport; allow: BlockList | null }[];
  /** key "address\0path" -> entry */
  readonly #mounts = new MountTable();

  constructor(exports: readonly MemoryExport[]) {
    this.#exports = exports.map((e) => ({ e, allow: e.allow === undefined ? null : blockListOf(e.allow) }));
  }


  async mnt(path: Buffer, client: MountClient): Promise<MntResult> {
    const found = this.#exports.find((x) => Buffer.from(x.e.path).equals(path));
    if (found === undefined) return { status: MNT3ERR_NOENT };
    if (!addressAllowed(found.allow, client.address)) return { status: MNT3ERR_ACCES };
    this.#mounts.add(client.address, path);
    return { status: MNT3_OK, fh: found.e.fh, authFlavors: found.e.authFlavors ?? [AUTH_SYS, AUTH_NONE] };
  }

  async umnt(path: Buffer, client: MountClient): Promise<void> {
    this.#mounts.remove(client.address, path);
  }

  async umntAll(client: MountClient): Promise<void> {
    this.#mounts.removeAll(client.address);
  }

  async mounts(): Promise<MountEntry[]> {
    return this.#mounts.list();
  }

  async exports(): Promise<ExportEntry[]> {
    return this.#exports.map(({ e }) => ({ dir: Buffer.from(e.path), groups: e.allow ?? [] }));
  }
}
