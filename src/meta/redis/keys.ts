/**
 * Redis key names of a JuiceFS volume (spec §B.3), all built here from one prefix: empty on
 * standalone/Sentinel, `{<db>}` on Redis Cluster (spec §B.1), so cluster mode is only a prefix.
 * Hash fields and set members (`sliceRef` fields, `p<ino>` fields...) are never prefixed.
 * Nothing else in the engine spells a key name; Lua scripts receive every key from here.
 */
import type { ChunkIndex, Ino } from '../types.js';

export class RedisKeys {
  readonly setting: string;
  readonly nextInode: string;
  readonly nextChunk: string;
  readonly nextSession: string;
  readonly nextTrash: string;
  readonly usedSpace: string;
  readonly totalInodes: string;
  readonly delfiles: string;
  readonly sliceRef: string;
  readonly delSlices: string;
  readonly allSessions: string;
  readonly sessionInfos: string;
  readonly legacySessions: string;
  readonly dirUsedInodes: string;
  readonly dirUsedSpace: string;
  readonly dirDataLength: string;
  readonly dirQuota: string;
  readonly dirQuotaUsedSpace: string;
  readonly dirQuotaUsedInodes: string;
  readonly aclMaxId: string;
  readonly acl: string;
  /** Ferry's WebDAV lock table (a hash: token -> record) and its version; JuiceFS ignores both. */
  readonly davLocks: string;
  readonly davLocksVersion: string;

  constructor(readonly prefix: string) {
    this.setting = prefix + 'setting';
    this.nextInode = prefix + 'nextinode';
    this.nextChunk = prefix + 'nextchunk';
    this.nextSession = prefix + 'nextsession';
    this.nextTrash = prefix + 'nextTrash';
    this.usedSpace = prefix + 'usedSpace';
    this.totalInodes = prefix + 'totalInodes';
    this.delfiles = prefix + 'delfiles';
    this.sliceRef = prefix + 'sliceRef';
    this.delSlices = prefix + 'delSlices';
    this.allSessions = prefix + 'allSessions';
    this.sessionInfos = prefix + 'sessionInfos';
    this.legacySessions = prefix + 'sessions';
    this.dirUsedInodes = prefix + 'dirUsedInodes';
    this.dirUsedSpace = prefix + 'dirUsedSpace';
    this.dirDataLength = prefix + 'dirDataLength';
    this.dirQuota = prefix + 'dirQuota';
    this.dirQuotaUsedSpace = prefix + 'dirQuotaUsedSpace';
    this.dirQuotaUsedInodes = prefix + 'dirQuotaUsedInodes';
    this.aclMaxId = prefix + 'aclMaxId';
    this.acl = prefix + 'acl';
    // not i/d/c/s/x/p: a JuiceFS dump sorts keys by that first letter
    this.davLocks = prefix + 'ferryDavLocks';
    this.davLocksVersion = prefix + 'ferryDavLocksVersion';
  }

  /** `i<ino>`: binary attr. */
  inode(ino: Ino | bigint): string { return `${this.prefix}i${ino}`; }
  /** Prefix of every `i<ino>` key; Lua scripts that follow entries append the decimal inode. */
  get inodePrefix(): string { return `${this.prefix}i`; }
  /** `d<ino>`: directory entries. */
  entries(ino: Ino | bigint): string { return `${this.prefix}d${ino}`; }
  /** `p<ino>`: parent counts of a hard-linked inode. */
  parents(ino: Ino | bigint): string { return `${this.prefix}p${ino}`; }
  /** `c<ino>_<indx>`: slice list of one chunk. */
  chunk(ino: Ino | bigint, indx: ChunkIndex | number): string { return `${this.prefix}c${ino}_${indx}`; }
  /** Prefix of every chunk key of one inode (`c<ino>_`); truncate appends chunk indexes to it. */
  chunkPrefix(ino: Ino | bigint): string { return `${this.prefix}c${ino}_`; }
  /** `s<ino>`: symlink target. */
  symlink(ino: Ino | bigint): string { return `${this.prefix}s${ino}`; }
  /** `x<ino>`: xattrs. */
  xattr(ino: Ino | bigint): string { return `${this.prefix}x${ino}`; }
  /** `session<sid>`: sustained inodes of a session (a set). */
  sustained(sid: number): string { return `${this.prefix}session${sid}`; }
  /** `locked<sid>`: full key names of the lock hashes a session holds fields in. */
  locked(sid: number): string { return `${this.prefix}locked${sid}`; }
  /** `lockf<ino>` / `lockp<ino>`. */
  flock(ino: Ino | bigint): string { return `${this.prefix}lockf${ino}`; }
  plock(ino: Ino | bigint): string { return `${this.prefix}lockp${ino}`; }
  /** Per-user / per-group quota hashes. */
  userGroupQuota(kind: 'user' | 'group'): { quota: string; usedSpace: string; usedInodes: string } {
    return { quota: this.k(`${kind}Quota`), usedSpace: this.k(`${kind}QuotaUsedSpace`), usedInodes: this.k(`${kind}QuotaUsedInodes`) };
  }
  /** Background job lease keys (`lastCleanupSessions`, ...; spec §B.11). */
  lease(name: string): string { return this.k(name); }
  /** Glob matching every key of the volume (SCAN on a prefixed volume). */
  get all(): string { return `${this.prefix}*`; }

  /** Field of `sliceRef` for a slice (never prefixed). */
  static sliceRefField(id: bigint, size: number): string { return `k${id}_${size}`; }
  /** Member of `delfiles` (never prefixed). */
  static delFileMember(ino: Ino | bigint, length: number): string { return `${ino}:${length}`; }

  private k(name: string): string { return this.prefix + name; }
}
