/**
 * `ferry fsck`: checks the data of a volume against its metadata. Every block object of every
 * slice of every file (spec §D.1/§D.2, trash included) must exist in the object store with its
 * block length (HEAD, bounded concurrency; with compression the store reports the key's length, so
 * only existence is checked); objects under `chunks/` that no slice holds are leaked (classified as
 * `juicefs gc` does: slices pending deletion and objects younger than --min-age are not leaks).
 * --repair only restores missing or wrong-size blocks from a copy of the right length in the local
 * cache dirs (disk cache or write-back staging); it never deletes objects or changes metadata.
 * Exit code 1 when anything is wrong after repair. Hidden files of WebDAV PUTs that died with
 * their process (`.ferry-put-<hex>`, unchanged for --min-age) are listed for deletion; they are
 * not problems of the volume.
 */
import { basename } from 'node:path';
import { Command } from 'commander';
import type { Meta } from '../../meta/meta.js';
import { FileType, type Ino } from '../../meta/types.js';
import type { BlockCache } from '../../cache/block-cache.js';
import { isPutTempName } from '../../protocols/webdav/put-temp.js';
import type { ObjectStore } from '../../storage/object-store.js';
import { Errno, isFsError } from '../../util/errno.js';
import { EXIT_OK, EXIT_PROBLEMS } from '../exit.js';
import { nonNegativeInt, out, toJson } from '../io.js';
import { humanBytes, type ProgressFactory } from '../progress.js';
import { withAdminVolume, withVolumeOptions, type VolumeCliOptions } from '../volume.js';
import {
  CHUNKS_PREFIX, classifyObject, fileChunks, forEachLimit, heldSlices, sliceObjects, walkVolume,
} from '../volume-scan.js';

interface FsckOptions extends VolumeCliOptions {
  repair: boolean;
  threads: number;
  minAge: number;
}

/** What fsck found (the --json output). */
export interface FsckReport {
  files: number;
  objects: { checked: number; bytes: number };
  missing: { key: string; size: number }[];
  wrongSize: { key: string; size: number; found: number }[];
  repaired: string[];
  brokenFiles: { inode: Ino; path: string; badObjects: number }[];
  /** Hidden files of replacing WebDAV PUTs that did not finish, unchanged for --min-age. */
  abandonedUploads: { inode: Ino; path: string; size: number }[];
  leaked: { count: number; bytes: number; keys: string[] };
  pending: { count: number; bytes: number };
  young: { count: number; bytes: number };
  ok: boolean;
}

interface Wanted {
  size: number;
  inodes: Set<Ino>;
}

/**
 * Every block object the namespace's files reference, with the files referencing it; and the
 * hidden files of unfinished WebDAV PUTs last modified before `abandonedBeforeSec`.
 */
async function referencedObjects(meta: Meta, progress: ProgressFactory, abandonedBeforeSec: number):
Promise<{ files: number; wanted: Map<string, Wanted>; paths: Map<Ino, string>; abandoned: FsckReport['abandonedUploads'] }> {
  const setting = meta.setting;
  const blockSizeBytes = setting.BlockSize * 1024;
  const wanted = new Map<string, Wanted>();
  const paths = new Map<Ino, string>();
  const abandoned: FsckReport['abandonedUploads'] = [];
  const bar = progress('fsck: scanned files');
  let files = 0;
  for await (const node of walkVolume(meta)) {
    if (node.attr.type !== FileType.File) continue;
    files++;
    paths.set(node.ino, node.path);
    if (isPutTempName(basename(node.path)) && node.attr.mtime < abandonedBeforeSec) {
      abandoned.push({ inode: node.ino, path: node.path, size: node.attr.length });
    }
    for (const c of await fileChunks(meta, node.ino)) {
      for (const s of c.slices) {
        for (const o of sliceObjects(s, blockSizeBytes, setting.HashPrefix ?? false)) {
          const w = wanted.get(o.key);
          if (w === undefined) wanted.set(o.key, { size: o.size, inodes: new Set([node.ino]) });
          else w.inodes.add(node.ino);
        }
      }
    }
    bar.add(1);
  }
  bar.done();
  return { files, wanted, paths, abandoned };
}

/** A copy of `key` of exactly `size` bytes from the local cache dirs; undefined when there is none. */
async function localCopy(cache: BlockCache, store: ObjectStore, key: string, size: number): Promise<Buffer | undefined> {
  try {
    const data = await cache.get(key);
    if (data.length !== size) return undefined;
    // the cache falls through to the store: make sure this copy did not come from a bad object there
    const stored = await store.head(key).catch(() => undefined);
    return stored !== undefined && stored.size === size ? undefined : data;
  } catch (err) {
    if (isFsError(err, Errno.ENOENT)) return undefined;
    throw err;
  }
}

/** Runs the whole check (exported for tests). */
export async function runFsck(meta: Meta, store: ObjectStore, cache: BlockCache, o: { repair: boolean; threads: number; minAgeSec: number }, progress: ProgressFactory): Promise<FsckReport> {
  const blockSizeBytes = meta.setting.BlockSize * 1024;
  const { files, wanted, paths, abandoned } = await referencedObjects(meta, progress, Date.now() / 1000 - o.minAgeSec);

  const report: FsckReport = {
    files, objects: { checked: 0, bytes: 0 }, missing: [], wrongSize: [], repaired: [], brokenFiles: [], abandonedUploads: abandoned,
    leaked: { count: 0, bytes: 0, keys: [] }, pending: { count: 0, bytes: 0 }, young: { count: 0, bytes: 0 }, ok: true,
  };
  const bad = new Set<string>();
  const heads = progress('fsck: checked objects', wanted.size);
  await forEachLimit(wanted.entries(), o.threads, async ([key, w]) => {
    try {
      const h = await store.head(key);
      if (h.size !== w.size) {
        report.wrongSize.push({ key, size: w.size, found: h.size });
        bad.add(key);
      }
    } catch (err) {
      if (!isFsError(err, Errno.ENOENT)) throw err;
      report.missing.push({ key, size: w.size });
      bad.add(key);
    }
    report.objects.checked++;
    report.objects.bytes += w.size;
    heads.add(1, w.size);
  });
  heads.done();

  if (o.repair && bad.size > 0) {
    const fixing = progress('fsck: repaired objects', bad.size);
    for (const key of [...bad]) {
      const w = wanted.get(key);
      if (w === undefined) continue;
      const data = await localCopy(cache, store, key, w.size);
      if (data !== undefined) {
        await store.put(key, data);
        bad.delete(key);
        report.repaired.push(key);
      }
      fixing.add(1);
    }
    fixing.done();
  }

  const badPerInode = new Map<Ino, number>();
  for (const key of bad) for (const ino of wanted.get(key)?.inodes ?? []) badPerInode.set(ino, (badPerInode.get(ino) ?? 0) + 1);
  report.brokenFiles = [...badPerInode].map(([inode, n]) => ({ inode, path: paths.get(inode) ?? `inode ${inode}`, badObjects: n }))
    .sort((a, b) => (a.path < b.path ? -1 : 1));
  for (const list of [report.missing, report.wrongSize]) list.sort((a, b) => (a.key < b.key ? -1 : 1));

  const scanBar = progress('fsck: scanned slice lists');
  const held = await heldSlices(meta, () => scanBar.add(1));
  scanBar.done();
  const youngAfter = new Date(Date.now() - o.minAgeSec * 1000);
  const listBar = progress('fsck: listed objects');
  for await (const obj of store.list(CHUNKS_PREFIX)) {
    const cls = classifyObject(obj, held, blockSizeBytes, youngAfter);
    if (cls === 'leaked') {
      report.leaked.count++;
      report.leaked.bytes += obj.size;
      report.leaked.keys.push(obj.key);
    } else if (cls === 'pending' || cls === 'young') {
      report[cls].count++;
      report[cls].bytes += obj.size;
    }
    listBar.add(1, obj.size);
  }
  listBar.done();
  report.ok = bad.size === 0 && report.leaked.count === 0;
  return report;
}

function human(r: FsckReport, name: string): string[] {
  const lines = [
    `checked ${r.files} files, ${r.objects.checked} objects (${humanBytes(r.objects.bytes)})`,
    `missing objects:     ${r.missing.length}`,
    ...r.missing.map((m) => `  ${name}/${m.key} (${m.size} bytes)`),
    `wrong-size objects:  ${r.wrongSize.length}`,
    ...r.wrongSize.map((m) => `  ${name}/${m.key} (${m.found} bytes, expected ${m.size})`),
  ];
  if (r.repaired.length > 0) lines.push(`repaired from the local cache: ${r.repaired.length}`, ...r.repaired.map((k) => `  ${name}/${k}`));
  lines.push(`broken files:        ${r.brokenFiles.length}`, ...r.brokenFiles.map((f) => `  ${f.path} (inode ${f.inode}, ${f.badObjects} bad objects)`));
  lines.push(`leaked objects:      ${r.leaked.count} (${humanBytes(r.leaked.bytes)})${r.leaked.count > 0 ? ' - `ferry gc --delete` removes them' : ''}`);
  lines.push(...r.leaked.keys.map((k) => `  ${name}/${k}`));
  lines.push(`pending deletion:    ${r.pending.count} (${humanBytes(r.pending.bytes)})`);
  if (r.abandonedUploads.length > 0) {
    lines.push(`abandoned WebDAV uploads: ${r.abandonedUploads.length} - hidden files of PUTs that did not finish; delete them (rm over NFS, DELETE over WebDAV)`);
    lines.push(...r.abandonedUploads.map((u) => `  ${u.path} (inode ${u.inode}, ${u.size} bytes)`));
  }
  lines.push(`skipped (too young): ${r.young.count} (${humanBytes(r.young.bytes)})`);
  lines.push(r.ok ? 'OK' : 'PROBLEMS FOUND');
  return lines;
}

export function fsckCommand(): Command {
  return withVolumeOptions(new Command('fsck'))
    .description('check that every object the files reference exists with the right size; list leaked objects (exit 1 when problems are found)')
    .option('--repair', 'restore missing or wrong-size objects from a verified copy in the local cache dirs (never deletes, never changes metadata)', false)
    .option('--threads <n>', 'object HEAD requests in flight', nonNegativeInt, 10)
    .option('--min-age <seconds>', 'objects (and hidden files of WebDAV PUTs) modified more recently than this are never called leaked (abandoned): writes in flight', nonNegativeInt, 3600)
    .action(async (o: FsckOptions) => {
      const code = await withAdminVolume(o, { diskCache: o.repair }, async ({ meta, volume, progress }) => {
        const report = await runFsck(meta, volume.store, volume.cache, { repair: o.repair, threads: Math.max(1, o.threads), minAgeSec: o.minAge }, progress);
        if (o.json) out(toJson(report));
        else for (const line of human(report, volume.setting.Name)) out(line);
        return report.ok ? EXIT_OK : EXIT_PROBLEMS;
      });
      process.exitCode = code;
    });
}
