/**
 * NFS export policy (the knfsd exports(5) options Ferry supports): which directory of the volume
 * an export serves, which client addresses may use it (addresses and CIDR networks, matched with
 * net.BlockList), ro/rw, root_squash / all_squash / no_root_squash with anonuid/anongid, and
 * secure (source port < 1024) / insecure. Pure policy over config values: it resolves no paths
 * and touches no file system (the MOUNT backend and the NFS procedures do).
 */
import { BlockList, isIP, isIPv6 } from 'node:net';
import { z } from 'zod';
import type { Credentials } from '../../vfs/types.js';
import { AUTH_NONE } from './rpc/message.js';
import { exportIdOf } from './nfs3/filehandle.js';

/** The conventional nobody/nogroup ids squashed callers get by default. */
export const DEFAULT_ANON_ID = 65534;

export type SquashMode = 'root_squash' | 'all_squash' | 'no_root_squash';

/** One export as the configuration gives it. */
export interface ExportConfig {
  /** Directory inside the volume, '/'-separated from the volume root, e.g. '/' or '/projects'. */
  path: string;
  /** The path clients mount (MNT dirpath); defaults to `path`. */
  name?: string;
  /** Addresses and CIDR networks allowed to mount and use it; absent = every address. */
  clients?: string[];
  /** Read-only export: every change is NFS3ERR_ROFS. Default false. */
  ro?: boolean;
  /** Default root_squash. */
  squash?: SquashMode;
  /** uid squashed callers get; default 65534. */
  anonuid?: number;
  /** gid squashed callers get; default 65534. */
  anongid?: number;
  /** Require a privileged source port (< 1024). Default false (macOS and libnfs use high ports). */
  secure?: boolean;
}

const address = z.string().refine((s) => {
  const [net, bits, extra] = s.split('/');
  if (net === undefined || extra !== undefined || isIP(net) === 0) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d+$/.test(bits) && n >= 0 && n <= (isIPv6(net) ? 128 : 32);
}, { message: 'expected an IP address or a CIDR network (a.b.c.d/n, x::y/n)' });

const id = z.number().int().min(0).max(0xffffffff);

/** Validation of one export entry from a config file. */
export const exportConfigSchema = z.object({
  path: z.string().startsWith('/'),
  name: z.string().startsWith('/').optional(),
  clients: z.array(address).optional(),
  ro: z.boolean().optional(),
  squash: z.enum(['root_squash', 'all_squash', 'no_root_squash']).optional(),
  anonuid: id.optional(),
  anongid: id.optional(),
  secure: z.boolean().optional(),
}).strict();

/** Parses and validates export entries (e.g. the `nfs.exports` list of the config file). */
export function parseExports(value: unknown): ExportConfig[] {
  const parsed = z.array(exportConfigSchema).min(1).parse(value);
  return parsed.map((e) => {
    const out: ExportConfig = { path: e.path };
    if (e.name !== undefined) out.name = e.name;
    if (e.clients !== undefined) out.clients = e.clients;
    if (e.ro !== undefined) out.ro = e.ro;
    if (e.squash !== undefined) out.squash = e.squash;
    if (e.anonuid !== undefined) out.anonuid = e.anonuid;
    if (e.anongid !== undefined) out.anongid = e.anongid;
    if (e.secure !== undefined) out.secure = e.secure;
    return out;
  });
}

/** "/a//b/" -> "/a/b"; "" -> "/". Export paths and names are compared in this form. */
export function normalizeExportPath(p: string): string {
  const parts = p.split('/').filter((s) => s !== '' && s !== '.');
  return `/${parts.join('/')}`;
}

/** The client a policy decision is about. */
export interface ExportClient {
  /** IP address of the caller. */
  address: string;
  /** Its source port (privileged < 1024). */
  port: number;
}

/** One export with its policy compiled. */
export class Export {
  /** Carried in every file handle of this export (exportIdOf(name)). */
  readonly id: number;
  /** What clients mount. */
  readonly name: string;
  /** Directory inside the volume. */
  readonly path: string;
  readonly readOnly: boolean;
  readonly squash: SquashMode;
  readonly anonUid: number;
  readonly anonGid: number;
  readonly secure: boolean;
  /** Allowed addresses/networks as configured; empty = everyone. */
  readonly clients: readonly string[];
  readonly #allow: BlockList | null;

  constructor(c: ExportConfig) {
    this.path = normalizeExportPath(c.path);
    this.name = normalizeExportPath(c.name ?? c.path);
    this.id = exportIdOf(this.name);
    this.readOnly = c.ro ?? false;
    this.squash = c.squash ?? 'root_squash';
    this.anonUid = c.anonuid ?? DEFAULT_ANON_ID;
    this.anonGid = c.anongid ?? DEFAULT_ANON_ID;
    this.secure = c.secure ?? false;
    this.clients = c.clients ?? [];
    this.#allow = c.clients === undefined ? null : blockListOf(c.clients);
  }

  /** Whether `client` may use this export: its address is allowed and, if secure, its port is privileged. */
  allows(client: ExportClient): boolean {
    if (this.secure && client.port >= 1024) return false;
    return addressAllowed(this.#allow, client.address);
  }

  /** The credentials a call runs with after squashing (AUTH_NONE callers are always anonymous). */
  credentials(flavor: number, cred: Credentials): Credentials {
    const anon: Credentials = { uid: this.anonUid, gid: this.anonGid, gids: [] };
    if (flavor === AUTH_NONE || this.squash === 'all_squash') return anon;
    if (this.squash === 'no_root_squash') return cred;
    if (cred.uid !== 0 && cred.gid !== 0 && !cred.gids.includes(0)) return cred;
    return {
      uid: cred.uid === 0 ? this.anonUid : cred.uid,
      gid: cred.gid === 0 ? this.anonGid : cred.gid,
      gids: cred.gids.map((g) => (g === 0 ? this.anonGid : g)),
    };
  }
}

/** Whether `address` is on the allow-list (null = everyone); a non-IP address never is. */
export function addressAllowed(allow: BlockList | null, address: string): boolean {
  if (allow === null) return true;
  if (isIP(address) === 0) return false;
  return allow.check(address, isIPv6(address) ? 'ipv6' : 'ipv4');
}

/** An allow-list of addresses and CIDR networks; throws on an entry that is neither. */
export function blockListOf(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const a of entries) {
    const [net, bits] = a.split('/');
    if (net === undefined || isIP(net) === 0) throw new Error(`bad export client ${JSON.stringify(a)}`);
    const family = isIPv6(net) ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(net, family);
    else list.addSubnet(net, Number(bits), family);
  }
  return list;
}

/** Every configured export, by name and by id. */
export class ExportTable {
  readonly #byName = new Map<string, Export>();
  readonly #byId = new Map<number, Export>();

  constructor(configs: readonly ExportConfig[]) {
    for (const c of configs) {
      const e = new Export(c);
      if (this.#byName.has(e.name)) throw new Error(`export ${e.name} is configured twice`);
      if (this.#byId.has(e.id)) throw new Error(`exports ${e.name} and ${this.#byId.get(e.id)?.name} have the same id; rename one`);
      this.#byName.set(e.name, e);
      this.#byId.set(e.id, e);
    }
  }

  /** The export clients mount as `name` (normalised first). */
  byName(name: string): Export | undefined {
    return this.#byName.get(normalizeExportPath(name));
  }

  /**
   * The export a MNT path falls in: the export of that name, or else the one whose name is the
   * longest directory prefix of the path (mounting a subdirectory, as knfsd allows); `rest` is
   * the remaining path components.
   */
  forMountPath(path: string): { export: Export; rest: string[] } | undefined {
    const parts = normalizeExportPath(path).split('/').filter((x) => x !== '');
    for (let n = parts.length; n >= 0; n--) {
      const e = this.#byName.get(`/${parts.slice(0, n).join('/')}`);
      if (e !== undefined) return { export: e, rest: parts.slice(n) };
    }
    return undefined;
  }

  /** The export a file handle was issued for. */
  byId(id: number): Export | undefined {
    return this.#byId.get(id);
  }

  list(): Export[] {
    return [...this.#byName.values()];
  }
}
