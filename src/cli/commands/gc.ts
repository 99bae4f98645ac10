/**
 * `ferry gc`: finds leaked objects — block objects under `chunks/` that no slice holds (spec
 * §D.6), judged as `juicefs gc` does: blocks of slices pending deletion and objects younger than
 * --min-age are never leaks. Dry run by default; --delete removes exactly the leaked objects;
 * --delete also finishes what the release path left behind: queued file deletions (delfiles) and
 * slices whose last reference went away but whose objects could not be deleted (spec §B.9).
 * --compact first compacts every fragmented chunk through the vfs compactor (spec §E.3), whose
 * replaced slices are released (or kept in delSlices while trash is on) by the normal path.
 */
import { Command } from 'commander';
import type { Meta } from '../../meta/meta.js';
import { ROOT_CREDENTIALS, type Ino } from '../../meta/types.js';
import type { ObjectStore } from '../../storage/object-store.js';
import { Errno, isFsError } from '../../util/errno.js';
import type { Vfs } from '../../vfs/vfs.js';
import { nonNegativeInt, out, toJson } from '../io.js';
import { humanBytes, type ProgressFactory } from '../progress.js';
import { withAdminVolume, withVolumeOptions, type VolumeCliOptions } from '../volume.js';
import { CHUNKS_PREFIX, classifyObject, forEachLimit, heldSlices } from '../volume-scan.js';

interface GcOptions extends VolumeCliOptions {
  delete: boolean;
  compact: boolean;
  threads: number;
  minAge: number;
}

/** What gc found and did (the --json output). */
export interface GcReport {
  compacted?: { files: number; chunks: number };
  /** With --delete: queued file deletions finished and unreferenced slices deleted before the listing. */
  released?: { files: number; slices: number };
  objects: { count: number; bytes: number };
  valid: { count: number; bytes: number };
  pending: { count: number; bytes: number };
  young: { count: number; bytes: number };
  leaked: { count: number; bytes: number; keys: string[] };
  deleted: number;
}

/** Compacts every chunk with more than one slice record; returns files and chunks rewritten. */
async function compactAll(meta: Meta, vfs: Vfs, progress: ProgressFactory): Promise<{ files: number; chunks: number }> {
  const fragmented = new Set<Ino>();
  for await (const item of meta.scanSlices()) {
    if (item.kind === 'chunk' && item.slices.length > 1) fragmented.add(item.ino);
  }
  const bar = progress('gc: compacted files', fragmented.size);
  const done = { files: 0, chunks: 0 };
  for (const ino of fragmented) {
    try {
      const n = await vfs.compact(ROOT_CREDENTIALS, ino);
      if (n > 0) {
        done.files++;
        done.chunks += n;
      }
    } catch (err) {
      if (!isFsError(err, Errno.ENOENT)) throw err; // deleted meanwhile
    }
    bar.add(1);
  }
  bar.done();
  return done;
}

/** Finishes queued file deletions and deletes unreferenced slices through the Vfs's slice deleter. */
async function releasePending(meta: Meta, progress: ProgressFactory): Promise<{ files: number; slices: number }> {
  const bar = progress('gc: released deleted files');
  let files = 0;
  for (let n = await meta.releaseDeletedFiles(); n > 0; n = await meta.releaseDeletedFiles()) {
    files += n;
    bar.add(n);
  }
  bar.done();
  let slices = 0;
  for (let n = await meta.releaseUnreferencedSlices(); n > 0; n = await meta.releaseUnreferencedSlices()) slices += n;
  return { files, slices };
}

/** Lists and classifies every block object; deletes the leaked ones when `del` (exported for tests). */
export async function runGc(meta: Meta, store: ObjectStore, o: { del: boolean; threads: number; minAgeSec: number }, progress: ProgressFactory): Promise<GcReport> {
  const blockSizeBytes = meta.setting.BlockSize * 1024;
  const scanBar = progress('gc: scanned slice lists');
  const held = await heldSlices(meta, () => scanBar.add(1));
  scanBar.done();
  const report: GcReport = {
    objects: { count: 0, bytes: 0 }, valid: { count: 0, bytes: 0 }, pending: { count: 0, bytes: 0 }, young: { count: 0, bytes: 0 },
    leaked: { count: 0, bytes: 0, keys: [] }, deleted: 0,
  };
  const youngAfter = new Date(Date.now() - o.minAgeSec * 1000);
  const listBar = progress('gc: listed objects');
  for await (const obj of store.list(CHUNKS_PREFIX)) {
    const cls = classifyObject(obj, held, blockSizeBytes, youngAfter);
    report.objects.count++;
    report.objects.bytes += obj.size;
    if (cls !== 'other') {
      const r = cls === 'leaked' ? report.leaked : report[cls];
      r.count++;
      r.bytes += obj.size;
      if (cls === 'leaked') report.leaked.keys.push(obj.key);
    }
    listBar.add(1, obj.size);
  }
  listBar.done();
  if (o.del && report.leaked.keys.length > 0) {
    const delBar = progress('gc: deleted leaked objects', report.leaked.keys.length);
    await forEachLimit(report.leaked.keys, o.threads, async (key) => {
      await store.delete(key);
      report.deleted++;
      delBar.add(1);
    });
    delBar.done();
  }
  return report;
}

function human(r: GcReport, name: string, del: boolean): string[] {
  const line = (label: string, c: { count: number; bytes: number }): string => `${label.padEnd(20)} ${c.count} (${humanBytes(c.bytes)})`;
  const lines: string[] = [];
  if (r.compacted !== undefined) lines.push(`compacted ${r.compacted.chunks} chunks of ${r.compacted.files} files`);
  if (r.released !== undefined) lines.push(`released ${r.released.files} deleted files and ${r.released.slices} unreferenced slices`);
  lines.push(line('objects:', r.objects), line('valid:', r.valid), line('pending deletion:', r.pending), line('skipped (too young):', r.young), line('leaked:', r.leaked));
  lines.push(...r.leaked.keys.map((k) => `  ${name}/${k}`));
  if (del) lines.push(`deleted ${r.deleted} leaked objects`);
  else if (r.leaked.count > 0) lines.push('dry run: add --delete to remove the leaked objects');
  return lines;
}

export function gcCommand(): Command {
  return withVolumeOptions(new Command('gc'))
    .description('find leaked objects (dry run by default); --delete removes them, --compact compacts fragmented chunks first')
    .option('--delete', 'delete the leaked objects', false)
    .option('--compact', 'compact every fragmented chunk before looking for leaks', false)
    .option('--threads <n>', 'deletions in flight', nonNegativeInt, 10)
    .option('--min-age <seconds>', 'objects modified more recently than this are never called leaked (writes in flight)', nonNegativeInt, 3600)
    .action(async (o: GcOptions) => {
      await withAdminVolume(o, { writable: o.compact || o.delete, compaction: o.compact }, async ({ meta, volume, progress }) => {
        const compacted = o.compact ? await compactAll(meta, volume.vfs, progress) : undefined;
        if (compacted !== undefined) await volume.vfs.settle();
        const released = o.delete ? await releasePending(meta, progress) : undefined;
        const report = await runGc(meta, volume.store, { del: o.delete, threads: Math.max(1, o.threads), minAgeSec: o.minAge }, progress);
        if (compacted !== undefined) report.compacted = compacted;
        if (released !== undefined) report.released = released;
        if (o.json) out(toJson(report));
        else for (const l of human(report, volume.setting.Name, o.delete)) out(l);
      });
    });
}
