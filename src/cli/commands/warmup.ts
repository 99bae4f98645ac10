/**
 * `ferry warmup <path...>`: fills the local disk cache (the configured cache dirs) with the blocks
 * of the files under the paths, so the first reads of a dataset come from local disk. Only the
 * blocks that hold visible data are fetched (newest-wins resolution, spec §E.2, clipped to the
 * file length). A block already present in the disk cache (`<dir>/<UUID>/raw/<key>`, the layout
 * of src/cache/disk-tier.ts) is not fetched again. It writes nothing to the volume. A file store on
 * the cache dirs' file system has no disk cache (vfs/open.ts): nothing is fetched then.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command } from 'commander';
import type { TieredBlockCache } from '../../cache/block-cache.js';
import { dirIndexFor, tryKeyPath } from '../../cache/local-fs.js';
import type { Meta } from '../../meta/meta.js';
import { CHUNK_SIZE, FileType, type Ino } from '../../meta/types.js';
import { blockKey } from '../../storage/keys.js';
import { Errno, isFsError } from '../../util/errno.js';
import { blocksOf, resolveChunk } from '../../vfs/slices.js';
import { CliError, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE } from '../exit.js';
import { nonNegativeInt, out, toJson } from '../io.js';
import { humanBytes, type ProgressFactory } from '../progress.js';
import { withAdminVolume, withVolumeOptions, type VolumeCliOptions } from '../volume.js';
import { fileChunks, resolvePath, walkTree } from '../volume-scan.js';

interface WarmupOptions extends VolumeCliOptions {
  threads: number;
}

/** The summary (the --json output). */
export interface WarmupReport {
  files: number;
  blocks: number;
  bytes: number;
  /** Blocks that were in the disk cache already. */
  cached: { count: number; bytes: number };
  /** Blocks fetched from the object store and written to the disk cache. */
  fetched: { count: number; bytes: number };
  /** Blocks fetched but not kept (cache full or free-space floor reached). */
  skipped: { count: number; bytes: number };
  /** Blocks whose object is missing from the store (see `ferry fsck`). */
  missing: string[];
}

/** Concurrent whole-block fetches; the block cache writes at most 16 fetched blocks to disk at once. */
const MAX_THREADS = 16;

/** Block keys (relative to `<Name>/`) with their lengths of the visible data of every file under `paths`. */
async function blocksUnder(meta: Meta, paths: string[], progress: ProgressFactory): Promise<{ files: number; blocks: Map<string, number> }> {
  const B = meta.setting.BlockSize * 1024;
  const hashPrefix = meta.setting.HashPrefix ?? false;
  const blocks = new Map<string, number>();
  const seen = new Set<Ino>();
  const bar = progress('warmup: scanned files');
  let files = 0;
  for (const path of paths) {
    const top = await resolvePath(meta, path);
    for await (const node of walkTree(meta, top.ino, path, seen)) {
      if (node.attr.type !== FileType.File) continue;
      files++;
      for (const c of await fileChunks(meta, node.ino)) {
        const end = Math.min(CHUNK_SIZE, node.attr.length - c.indx * CHUNK_SIZE);
        if (end <= 0) continue;
        for (const b of blocksOf(resolveChunk(c.slices, 0, end), 0, end, B)) {
          const len = Math.min(B, b.size - b.index * B);
          blocks.set(blockKey(b.id, b.index, len, hashPrefix), len);
        }
      }
      bar.add(1);
    }
  }
  bar.done();
  return { files, blocks };
}

/** True when the disk tier has a file for `key` in one of `dirs`. */
async function onDisk(dirs: string[], uuid: string, key: string): Promise<boolean> {
  const dir = dirs[dirIndexFor(key, dirs.length)];
  const path = dir === undefined ? undefined : tryKeyPath(`${dir}/${uuid}/raw`, key);
  if (path === undefined) return false;
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Fills the disk cache with the blocks of the files under `paths` (exported for tests). */
export async function runWarmup(meta: Meta, cache: TieredBlockCache, dirs: string[], paths: string[], threads: number, progress: ProgressFactory): Promise<WarmupReport> {
  const uuid = meta.setting.UUID;
  await cache.whenScanned();
  const { files, blocks } = await blocksUnder(meta, paths, progress);
  const report: WarmupReport = {
    files, blocks: blocks.size, bytes: [...blocks.values()].reduce((a, b) => a + b, 0),
    cached: { count: 0, bytes: 0 }, fetched: { count: 0, bytes: 0 }, skipped: { count: 0, bytes: 0 }, missing: [],
  };
  const bar = progress('warmup: blocks', blocks.size);
  const todo = [...blocks];
  // batches of `threads`: fetch concurrently, then wait until the cache has written them to disk
  for (let i = 0; i < todo.length; i += threads) {
    const batch = todo.slice(i, i + threads);
    const fetched: [string, number][] = [];
    await Promise.all(batch.map(async ([key, len]) => {
      if (await onDisk(dirs, uuid, key)) {
        report.cached.count++;
        report.cached.bytes += len;
      } else {
        try {
          await cache.get(key);
          fetched.push([key, len]);
        } catch (err) {
          if (!isFsError(err, Errno.ENOENT)) throw err;
          report.missing.push(key);
        }
      }
      bar.add(1, len);
    }));
    await cache.settle();
    for (const [key, len] of fetched) {
      const r = (await onDisk(dirs, uuid, key)) ? report.fetched : report.skipped;
      r.count++;
      r.bytes += len;
    }
  }
  bar.done();
  report.missing.sort();
  return report;
}

function human(r: WarmupReport, name: string): string[] {
  return [
    `files:          ${r.files}`,
    `blocks:         ${r.blocks} (${humanBytes(r.bytes)})`,
    `already cached: ${r.cached.count} (${humanBytes(r.cached.bytes)})`,
    `fetched:        ${r.fetched.count} (${humanBytes(r.fetched.bytes)})`,
    `not kept:       ${r.skipped.count} (${humanBytes(r.skipped.bytes)})${r.skipped.count > 0 ? ' - the cache is full (cache.cache-size, cache.free-space-ratio)' : ''}`,
    `missing:        ${r.missing.length}`,
    ...r.missing.map((k) => `  ${name}/${k}`),
  ];
}

export function warmupCommand(): Command {
  return withVolumeOptions(new Command('warmup'))
    .description('fill the local disk cache with the blocks of the files under the given paths')
    .argument('<path...>', 'absolute paths inside the volume (files or directories)')
    .option('--threads <n>', `blocks fetched at once (at most ${MAX_THREADS})`, nonNegativeInt, 10)
    .action(async (paths: string[], o: WarmupOptions) => {
      const code = await withAdminVolume(o, { diskCache: true }, async ({ meta, volume, config, progress }) => {
        const dirs = (o.cacheDir ?? config.cache.dirs).map((d) => resolve(d));
        if (dirs.length === 0) throw new CliError(EXIT_USAGE, 'no cache dirs: give --cache-dir or set cache.dirs in the config');
        if (!volume.cache.keepsBlocksOnDisk) {
          const reason = `the object store (${volume.store.description}) is on the cache dirs' file system: blocks are read from it directly and no disk cache is kept`;
          out(o.json ? toJson({ warmed: false, reason }) : `nothing to warm: ${reason}`);
          return EXIT_OK;
        }
        const report = await runWarmup(meta, volume.cache, dirs, paths, Math.min(MAX_THREADS, Math.max(1, o.threads)), progress);
        if (o.json) out(toJson(report));
        else for (const l of human(report, volume.setting.Name)) out(l);
        return report.missing.length === 0 ? EXIT_OK : EXIT_PROBLEMS;
      });
      process.exitCode = code;
    });
}
