/**
 * Read-only walks over a volume shared by the admin commands: path resolution, a depth-first
 * namespace walk with paths (including `/.trash`, spec §E.6), the objects of a file's slices
 * (spec §B.5.3, §D.1, §D.2), the set of slices the engine still holds (spec §D.6) and the
 * classification of listed block objects into valid / pending / young / leaked, as `juicefs gc`
 * does. Nothing here writes to the volume.
 */
import type { Meta } from '../meta/meta.js';
import {
  type Attr, CHUNK_SIZE, type ChunkIndex, FileType, type Ino, ROOT_CREDENTIALS, ROOT_INODE, type SliceRecord, TRASH_INODE,
} from '../meta/types.js';
import { blockKey, parseBlockKey } from '../storage/keys.js';
import type { ObjectInfo } from '../storage/object-store.js';
import { Errno, FsError, isFsError } from '../util/errno.js';

/** Runs `fn` over `items` with at most `limit` calls in flight; rejects with the first failure after the running ones end. */
export async function forEachLimit<T>(items: AsyncIterable<T> | Iterable<T>, limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const running = new Set<Promise<void>>();
  let failed: { err: unknown } | undefined;
  for await (const item of items) {
    if (failed !== undefined) break;
    const p: Promise<void> = fn(item).catch((err: unknown) => {
      failed ??= { err };
    }).finally(() => running.delete(p));
    running.add(p);
    if (running.size >= limit) await Promise.race(running);
  }
  await Promise.all(running);
  if (failed !== undefined) throw failed.err;
}

/** The inode at an absolute path inside the volume (`/` is the root; `/.trash` the trash root). */
export async function resolvePath(meta: Meta, path: string): Promise<{ ino: Ino; attr: Attr }> {
  if (!path.startsWith('/')) throw new FsError(Errno.EINVAL, `${path}: paths are absolute inside the volume (start with /)`);
  let ino = ROOT_INODE;
  let attr = await meta.getattr(ino);
  for (const part of path.split('/').filter((p) => p !== '' && p !== '.')) {
    ({ ino, attr } = await meta.lookup(ROOT_CREDENTIALS, ino, Buffer.from(part)));
  }
  return { ino, attr };
}

/**
 * Every path of `ino` (several for hard links), found by walking parents up and searching each
 * parent directory for the entries that point at the inode; at most `limit` paths.
 */
export async function pathsOf(meta: Meta, ino: Ino, limit = 16, depth = 0): Promise<string[]> {
  if (ino === ROOT_INODE) return ['/'];
  if (ino === TRASH_INODE) return ['/.trash'];
  if (depth > 1000) throw new FsError(Errno.ELOOP, `inode ${ino}: parent chain too deep`);
  const out: string[] = [];
  for (const parent of await meta.parents(ino)) {
    const names: string[] = [];
    for await (const e of meta.readdir(ROOT_CREDENTIALS, parent, { after: 2n })) if (e.ino === ino) names.push(e.name.toString('utf8'));
    if (names.length === 0) continue;
    for (const up of await pathsOf(meta, parent, limit, depth + 1)) {
      for (const name of names) if (out.length < limit) out.push(`${up === '/' ? '' : up}/${name}`);
    }
  }
  return out.sort();
}

export interface WalkedNode {
  ino: Ino;
  /** Path inside the volume, `/`-separated (names decoded as UTF-8 for display). */
  path: string;
  attr: Attr;
}

/** Depth-first walk below `ino` (itself first), each inode once (hard links: first path wins). */
export async function* walkTree(meta: Meta, ino: Ino, path: string, seen = new Set<Ino>()): AsyncGenerator<WalkedNode> {
  const stack: WalkedNode[] = [{ ino, path, attr: await meta.getattr(ino) }];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (seen.has(node.ino)) continue;
    seen.add(node.ino);
    yield node;
    if (node.attr.type !== FileType.Directory) continue;
    const children: WalkedNode[] = [];
    for await (const e of meta.readdir(ROOT_CREDENTIALS, node.ino, { after: 2n, plus: true })) {
      if (e.attr === undefined || seen.has(e.ino)) continue;
      children.push({ ino: e.ino, path: `${node.path === '/' ? '' : node.path}/${e.name.toString('utf8')}`, attr: e.attr });
    }
    children.sort((a, b) => (a.path < b.path ? 1 : -1)); // popped in name order
    stack.push(...children);
  }
}

/** The whole namespace: the root tree, then the trash tree (`/.trash`) when the volume has one. */
export async function* walkVolume(meta: Meta): AsyncGenerator<WalkedNode> {
  const seen = new Set<Ino>();
  yield* walkTree(meta, ROOT_INODE, '/', seen);
  try {
    await meta.getattr(TRASH_INODE);
  } catch (err) {
    if (isFsError(err, Errno.ENOENT)) return; // no trash root (trash never enabled)
    throw err;
  }
  yield* walkTree(meta, TRASH_INODE, '/.trash', seen);
}

/** One block object of a slice: its key relative to `<Name>/` and its length (spec §D.2). */
export interface BlockObject {
  key: string;
  size: number;
}

/** Every block object of a slice record's slice (all of `size`, not only the visible part); none for holes. */
export function sliceObjects(s: SliceRecord, blockSizeBytes: number, hashPrefix: boolean): BlockObject[] {
  if (s.id === 0n) return [];
  const out: BlockObject[] = [];
  for (let i = 0; i * blockSizeBytes < s.size; i++) {
    const size = Math.min(blockSizeBytes, s.size - i * blockSizeBytes);
    out.push({ key: blockKey(s.id, i, size, hashPrefix), size });
  }
  return out;
}

/** A chunk of a file: index, stored slice list (oldest first). */
export interface FileChunk {
  indx: ChunkIndex;
  slices: SliceRecord[];
}

/** The stored slice lists of a file's chunks, ascending. */
export async function fileChunks(meta: Meta, ino: Ino): Promise<FileChunk[]> {
  const out: FileChunk[] = [];
  for (const indx of await meta.listChunks(ino)) out.push({ indx, slices: await meta.readSlices(ino, indx) });
  return out;
}

/** Number of chunks a file of `length` bytes spans. */
export const chunkCount = (length: number): number => Math.ceil(length / CHUNK_SIZE);

/** Slice ids and sizes the engine still holds: referenced (chunk lists, delayed) and pending deletion. */
export interface HeldSlices {
  /** id -> sizes of referenced slices (an id has one size in practice). */
  referenced: Map<bigint, Set<number>>;
  /** id -> sizes of slices whose refcount is zero and whose objects are still to be deleted. */
  pending: Map<bigint, Set<number>>;
  /** Slice records seen in chunk lists (with repeats). */
  records: number;
}

function addTo(m: Map<bigint, Set<number>>, id: bigint, size: number): void {
  const s = m.get(id);
  if (s === undefined) m.set(id, new Set([size]));
  else s.add(size);
}

/** Collects every slice the engine holds (Meta.scanSlices); `onItem` counts progress. */
export async function heldSlices(meta: Meta, onItem: () => void = () => undefined): Promise<HeldSlices> {
  const held: HeldSlices = { referenced: new Map(), pending: new Map(), records: 0 };
  for await (const item of meta.scanSlices()) {
    onItem();
    if (item.kind === 'chunk') {
      for (const s of item.slices) {
        held.records++;
        if (s.id !== 0n && s.size > 0) addTo(held.referenced, s.id, s.size);
      }
    } else if (item.kind === 'delayed') {
      for (const s of item.slices) if (s.id !== 0n && s.size > 0) addTo(held.referenced, s.id, s.size);
    } else {
      addTo(held.pending, item.id, item.size);
    }
  }
  return held;
}

export type ObjectClass = 'valid' | 'pending' | 'young' | 'leaked' | 'other';

/** True when `blockIndex`/`blockLen` is a block of a slice of `size` bytes (spec §D.1). */
function fitsSlice(blockIndex: number, blockLen: number, size: number, blockSizeBytes: number): boolean {
  const start = blockIndex * blockSizeBytes;
  return start < size && blockLen === Math.min(blockSizeBytes, size - start);
}

/**
 * What a listed object under `chunks/` is: `valid` (a block of a held slice), `pending` (of a slice
 * waiting for deletion), `young` (modified after `youngAfter`: maybe a write in flight, never
 * judged), `leaked` (no slice holds it, or its name does not fit the slice's size) or `other` (not
 * a block key).
 */
export function classifyObject(obj: ObjectInfo, held: HeldSlices, blockSizeBytes: number, youngAfter: Date): ObjectClass {
  const parts = parseBlockKey(obj.key);
  if (parts === undefined) return 'other';
  if (obj.mtime > youngAfter || obj.mtime.getTime() === 0) return 'young';
  const fits = (sizes: Set<number> | undefined): boolean =>
    sizes !== undefined && [...sizes].some((size) => fitsSlice(parts.blockIndex, parts.blockLen, size, blockSizeBytes));
  if (fits(held.referenced.get(parts.sliceId))) return 'valid';
  if (fits(held.pending.get(parts.sliceId))) return 'pending';
  return 'leaked';
}

/** Prefix of every block object (relative to `<Name>/`). */
export const CHUNKS_PREFIX = 'chunks/';
