/**
 * Small helpers of the meta conformance suite: credentials, errno assertions, listing and
 * writing through the Meta API only (never through an engine's internals).
 */
import assert from 'node:assert/strict';
import { Errno, isFsError } from '../../../src/util/errno.js';
import type { BaseMeta } from '../../../src/meta/base.js';
import {
  type Attr, CHUNK_SIZE, type Credentials, type DirEntry, type Format, type Ino, type SliceId, type Timespec,
  toChunkIndex,
} from '../../../src/meta/types.js';

export const ROOT: Credentials = { uid: 0, gid: 0, gids: [] };
export const ALICE: Credentials = { uid: 1000, gid: 1000, gids: [] };
export const BOB: Credentials = { uid: 1001, gid: 1001, gids: [] };

export const n = (s: string): Buffer => Buffer.from(s);

export function volume(over: Partial<Format> = {}): Format {
  return {
    Name: 'conformance',
    UUID: '',
    Storage: 'file',
    Bucket: '/var/jfs/',
    BlockSize: 4096,
    Compression: 'none',
    TrashDays: 0,
    EnableACL: false,
    ...over,
  };
}

/** Asserts that `p` rejects with an FsError carrying `errno`. */
export async function rejects(p: Promise<unknown>, errno: Errno): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isFsError(err), `expected FsError ${Errno[errno]}, got ${String(err)}`);
    assert.equal(Errno[err.errno], Errno[errno], String(err));
    return true;
  });
}

/** Consumes an async iterable fully. */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Names of a directory without `.` and `..`, sorted. */
export async function names(meta: BaseMeta, dir: Ino, ctx: Credentials = ROOT): Promise<string[]> {
  const all = await collect(meta.readdir(ctx, dir));
  return all.map((e: DirEntry) => e.name.toString()).filter((s) => s !== '.' && s !== '..').sort();
}

export const ts = (a: Attr, which: 'atime' | 'mtime' | 'ctime'): Timespec => ({ sec: a[which], nsec: a[`${which}Ns`] });

/** -1, 0, 1 for a before, equal to, after b. */
export function cmpTime(a: Timespec, b: Timespec): number {
  return a.sec !== b.sec ? Math.sign(a.sec - b.sec) : Math.sign(a.nsec - b.nsec);
}

/** Commits one slice of `len` bytes at file offset `off` (inside one chunk); returns its id. */
export async function write(meta: BaseMeta, ino: Ino, off: number, len: number, mtime?: Timespec): Promise<SliceId> {
  const id = await meta.newSliceId();
  const indx = Math.floor(off / CHUNK_SIZE);
  const pos = off % CHUNK_SIZE;
  assert.ok(pos + len <= CHUNK_SIZE, 'test write must stay inside one chunk');
  await meta.writeSlice(ino, toChunkIndex(indx), { pos, id, size: len, off: 0, len }, mtime ?? { sec: 1_700_000_000, nsec: 5 });
  return id;
}
