/**
 * VolumeLoader for `ferry load` into an empty Redis volume (spec §H, §B.3): buffered, pipelined
 * writes in batches of plain commands (no transactions: the volume is empty and not yet formatted).
 * The `setting` key is written last, so a half-loaded volume never looks formatted. Stores Redis
 * meanings: counters as "last used id", sliceRef as refs−1 only when refs > 1.
 */
import type { Cluster, Redis } from 'ioredis';
import type { AclRule, Counters, DelFile, DirStats, Quota, VolumeLoader } from '../engine.js';
import { encodeAttr, encodeEntry, encodeQuota, encodeSlices } from '../encoding.js';
import type { Attr, ChunkIndex, FileType, Ino, SliceId, SliceRecord } from '../types.js';
import { encodeAclRule } from './acl-codec.js';
import { RedisKeys } from './keys.js';

type Arg = string | Buffer | number;
/** [lower-case ioredis command, ...args], as Redis#pipeline() takes them. */
type Command = [string, ...Arg[]];

const BATCH = 1000;

export class RedisLoader implements VolumeLoader {
  readonly #client: Redis | Cluster;
  readonly #keys: RedisKeys;
  readonly #mapError: (err: unknown, op: string) => Error;
  #batch: Command[] = [];
  #tail: Promise<void> = Promise.resolve();
  #failure: unknown = null;
  #setting: string | null = null;
  #counters: Counters | null = null;
  #aclMaxId = 0;
  #committed = false;

  constructor(client: Redis | Cluster, keys: RedisKeys, mapError: (err: unknown, op: string) => Error) {
    this.#client = client;
    this.#keys = keys;
    this.#mapError = mapError;
  }

  #push(cmd: Command): void {
    if (this.#committed) throw this.#mapError(new Error('loader already committed'), 'load');
    this.#batch.push(cmd);
    if (this.#batch.length >= BATCH) this.#flush();
  }

  #flush(): void {
    if (this.#batch.length === 0) return;
    const cmds = this.#batch;
    this.#batch = [];
    this.#tail = this.#tail.then(async () => {
      if (this.#failure !== null) return;
      const results = await this.#client.pipeline(cmds).exec();
      for (const [err] of results ?? []) {
        if (err !== null) throw err;
      }
    }).catch((err: unknown) => {
      this.#failure ??= err;
    });
  }

  setting(json: string): void {
    this.#setting = json;
  }

  node(ino: Ino, attr: Attr): void {
    this.#push(['set', this.#keys.inode(ino), encodeAttr(attr)]);
  }

  entry(parent: Ino, name: Buffer, type: FileType, ino: Ino): void {
    this.#push(['hset', this.#keys.entries(parent), name, encodeEntry(type, ino)]);
  }

  parents(ino: Ino, counts: ReadonlyMap<Ino, number>): void {
    if (counts.size === 0) return;
    const args: Arg[] = [];
    for (const [p, n] of counts) args.push(p.toString(), n);
    this.#push(['hset', this.#keys.parents(ino), ...args]);
  }

  symlink(ino: Ino, target: Buffer): void {
    this.#push(['set', this.#keys.symlink(ino), target]);
  }

  xattr(ino: Ino, name: Buffer, value: Buffer): void {
    this.#push(['hset', this.#keys.xattr(ino), name, value]);
  }

  chunk(ino: Ino, indx: ChunkIndex, slices: readonly SliceRecord[]): void {
    if (slices.length === 0) return;
    const key = this.#keys.chunk(ino, indx);
    const blob = encodeSlices(slices);
    for (let i = 0; i < slices.length; i += 512) {
      const recs: Buffer[] = [];
      for (let j = i; j < Math.min(i + 512, slices.length); j++) recs.push(blob.subarray(j * 24, j * 24 + 24));
      this.#push(['rpush', key, ...recs]);
    }
  }

  sliceRef(id: SliceId, size: number, refs: number): void {
    if (refs > 1) this.#push(['hset', this.#keys.sliceRef, RedisKeys.sliceRefField(id, size), refs - 1]);
  }

  dirStats(ino: Ino, stats: DirStats): void {
    const f = ino.toString();
    this.#push(['hset', this.#keys.dirDataLength, f, stats.dataLength]);
    this.#push(['hset', this.#keys.dirUsedSpace, f, stats.usedSpace]);
    this.#push(['hset', this.#keys.dirUsedInodes, f, stats.usedInodes]);
  }

  dirQuota(ino: Ino, q: Quota): void {
    const f = ino.toString();
    this.#push(['hset', this.#keys.dirQuota, f, encodeQuota(BigInt(q.maxSpace), BigInt(q.maxInodes))]);
    this.#push(['hset', this.#keys.dirQuotaUsedSpace, f, q.usedSpace]);
    this.#push(['hset', this.#keys.dirQuotaUsedInodes, f, q.usedInodes]);
  }

  userGroupQuota(kind: 'user' | 'group', id: number, q: Quota): void {
    const k = this.#keys.userGroupQuota(kind);
    const f = String(id);
    this.#push(['hset', k.quota, f, encodeQuota(BigInt(q.maxSpace), BigInt(q.maxInodes))]);
    this.#push(['hset', k.usedSpace, f, q.usedSpace]);
    this.#push(['hset', k.usedInodes, f, q.usedInodes]);
  }

  acl(id: number, rule: AclRule): void {
    this.#push(['hset', this.#keys.acl, String(id), encodeAclRule(rule)]);
    this.#aclMaxId = Math.max(this.#aclMaxId, id);
  }

  delFile(file: DelFile): void {
    this.#push(['zadd', this.#keys.delfiles, file.expire, RedisKeys.delFileMember(file.ino, file.length)]);
  }

  sustained(sid: number, ino: Ino): void {
    this.#push(['sadd', this.#keys.sustained(sid), ino.toString()]);
  }

  counters(c: Counters): void {
    this.#counters = c;
  }

  async commit(): Promise<void> {
    const c = this.#counters;
    if (c !== null) {
      // dumps carry SQL meaning for inode/slice ids (next unused); Redis stores the last used one
      // (spec §B.4). nextsession/nextTrash are the last used number in both and load as they are.
      this.#push(['set', this.#keys.usedSpace, c.usedSpace]);
      this.#push(['set', this.#keys.totalInodes, c.usedInodes]);
      this.#push(['set', this.#keys.nextInode, (c.nextInode - 1n).toString()]);
      this.#push(['set', this.#keys.nextChunk, (c.nextChunk - 1n).toString()]);
      this.#push(['set', this.#keys.nextSession, c.nextSession]);
      this.#push(['set', this.#keys.nextTrash, c.nextTrash]);
    }
    if (this.#aclMaxId > 0) this.#push(['set', this.#keys.aclMaxId, this.#aclMaxId]);
    this.#flush();
    await this.#tail;
    if (this.#failure === null && this.#setting !== null) {
      this.#batch.push(['set', this.#keys.setting, this.#setting]);
      this.#flush();
      await this.#tail;
    }
    this.#committed = true;
    if (this.#failure !== null) throw this.#mapError(this.#failure, 'load');
  }
}
