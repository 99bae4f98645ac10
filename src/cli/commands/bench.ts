/**
 * `ferry bench`: a quick end-to-end test of this appliance's volume, like `juicefs bench`: big
 * files written and read sequentially in I/O-size pieces, small files written, read and stat'ed,
 * all through the Vfs (meta engine + block cache + object store) in a temporary directory
 * `/.ferry-bench-<random>` that it removes afterwards (flagged skip-trash, spec §B.5.1, so the
 * removal does not fill the trash). Numbers include this process's memory cache; no disk cache.
 */
import { randomBytes } from 'node:crypto';
import { Command } from 'commander';
import { FLAG_SKIP_TRASH, type Ino, MODE_READ, MODE_WRITE, ROOT_CREDENTIALS, ROOT_INODE } from '../../meta/types.js';
import type { Vfs } from '../../vfs/vfs.js';
import { CliError, EXIT_USAGE } from '../exit.js';
import { nonNegativeInt, note, out, toJson } from '../io.js';
import type { ProgressFactory } from '../progress.js';
import { withAdminVolume, withVolumeOptions, type VolumeCliOptions } from '../volume.js';
import { forEachLimit } from '../volume-scan.js';

interface BenchOptions extends VolumeCliOptions {
  blockSize: number;
  bigFileSize: number;
  smallFileSize: number;
  smallFiles: number;
  threads: number;
}

export interface BenchParams {
  /** Bytes per read/write call. */
  ioSizeBytes: number;
  bigFileBytes: number;
  smallFileBytes: number;
  /** Small files per thread. */
  smallFiles: number;
  threads: number;
}

interface Throughput {
  bytesPerSec: number;
  seconds: number;
}

interface Rate {
  filesPerSec: number;
  msPerFile: number;
}

/** The result (the --json output). */
export interface BenchReport {
  params: BenchParams;
  bigFile?: { write: Throughput; read: Throughput };
  smallFiles?: { write: Rate; read: Rate; stat: Rate };
}

const ctx = ROOT_CREDENTIALS;
const seconds = (startNs: bigint): number => Math.max(1e-9, Number(process.hrtime.bigint() - startNs) / 1e9);

async function writeFile(vfs: Vfs, dir: Ino, name: string, size: number, io: Buffer): Promise<Ino> {
  const e = await vfs.create(ctx, dir, Buffer.from(name), 0o644, 0, true);
  const { handle } = await vfs.open(ctx, e.ino, MODE_WRITE);
  try {
    for (let off = 0; off < size; off += io.length) await vfs.write(ctx, handle, off, io.subarray(0, Math.min(io.length, size - off)));
  } finally {
    await vfs.release(ctx, handle);
  }
  return e.ino;
}

async function readFile(vfs: Vfs, ino: Ino, size: number, ioSize: number): Promise<void> {
  const { handle } = await vfs.open(ctx, ino, MODE_READ);
  try {
    for (let off = 0; off < size; off += ioSize) {
      const want = Math.min(ioSize, size - off);
      const got = await vfs.read(ctx, handle, off, want);
      if (got.length !== want) throw new Error(`short read of bench file at ${off}: ${got.length} of ${want} bytes`);
    }
  } finally {
    await vfs.release(ctx, handle);
  }
}

/** Runs `fn` over `items` with `threads` workers under a progress bar; returns the elapsed seconds. */
async function timed<T>(progress: ProgressFactory, label: string, items: T[], threads: number, bytesEach: number | undefined, fn: (item: T) => Promise<void>): Promise<number> {
  const bar = progress(label, items.length);
  const t0 = process.hrtime.bigint();
  await forEachLimit(items, threads, async (item) => {
    await fn(item);
    bar.add(1, bytesEach);
  });
  const s = seconds(t0);
  bar.done();
  return s;
}

/** Runs the benchmark in a fresh temporary directory and removes it (exported for tests). */
export async function runBench(vfs: Vfs, p: BenchParams, progress: ProgressFactory): Promise<BenchReport> {
  const io = randomBytes(p.ioSizeBytes);
  const dirName = `.ferry-bench-${randomBytes(6).toString('hex')}`;
  const dir = (await vfs.mkdir(ctx, ROOT_INODE, Buffer.from(dirName), 0o755, 0)).ino;
  const created: { name: string; ino: Ino }[] = [];
  const report: BenchReport = { params: p };
  const workers = Array.from({ length: p.threads }, (_, i) => i);
  try {
    await vfs.setattr(ctx, dir, { flags: FLAG_SKIP_TRASH });
    if (p.bigFileBytes > 0) {
      const big: { name: string; ino: Ino }[] = [];
      const write = await timed(progress, 'bench: writing big files', workers.map((t) => `big-${t}`), p.threads, p.bigFileBytes, async (name) => {
        const ino = await writeFile(vfs, dir, name, p.bigFileBytes, io);
        big.push({ name, ino });
        created.push({ name, ino });
      });
      const read = await timed(progress, 'bench: reading big files', big, p.threads, p.bigFileBytes, (c) => readFile(vfs, c.ino, p.bigFileBytes, p.ioSizeBytes));
      const total = p.bigFileBytes * p.threads;
      report.bigFile = { write: { bytesPerSec: total / write, seconds: write }, read: { bytesPerSec: total / read, seconds: read } };
    }
    if (p.smallFiles > 0) {
      const names = workers.flatMap((t) => Array.from({ length: p.smallFiles }, (_, i) => `small-${t}-${i}`));
      const small: { name: string; ino: Ino }[] = [];
      const rate = (s: number): Rate => ({ filesPerSec: names.length / s, msPerFile: (1000 * s * p.threads) / names.length });
      const write = await timed(progress, 'bench: writing small files', names, p.threads, p.smallFileBytes, async (name) => {
        const ino = await writeFile(vfs, dir, name, p.smallFileBytes, io);
        small.push({ name, ino });
        created.push({ name, ino });
      });
      const read = await timed(progress, 'bench: reading small files', small, p.threads, p.smallFileBytes, (c) => readFile(vfs, c.ino, p.smallFileBytes, p.ioSizeBytes));
      const stat = await timed(progress, 'bench: stat small files', small, p.threads, undefined, async (c) => {
        await vfs.getattr(ctx, c.ino);
      });
      report.smallFiles = { write: rate(write), read: rate(read), stat: rate(stat) };
    }
  } finally {
    const cleanup = progress('bench: removing files', created.length);
    for (const c of created) {
      await vfs.unlink(ctx, dir, Buffer.from(c.name));
      cleanup.add(1);
    }
    await vfs.rmdir(ctx, ROOT_INODE, Buffer.from(dirName));
    cleanup.done();
  }
  return report;
}

const mib = (n: number): string => `${(n / 2 ** 20).toFixed(2)} MiB/s`;

/** The result table. */
export function benchTable(r: BenchReport): string[] {
  const rows: [string, string, string][] = [['ITEM', 'VALUE', 'COST']];
  if (r.bigFile !== undefined) {
    // each worker handles one big file, all at once: a file costs the whole elapsed time
    rows.push(['Write big file', mib(r.bigFile.write.bytesPerSec), `${r.bigFile.write.seconds.toFixed(2)} s/file`]);
    rows.push(['Read big file', mib(r.bigFile.read.bytesPerSec), `${r.bigFile.read.seconds.toFixed(2)} s/file`]);
  }
  if (r.smallFiles !== undefined) {
    const s = r.smallFiles;
    rows.push(['Write small file', `${s.write.filesPerSec.toFixed(1)} files/s`, `${s.write.msPerFile.toFixed(2)} ms/file`]);
    rows.push(['Read small file', `${s.read.filesPerSec.toFixed(1)} files/s`, `${s.read.msPerFile.toFixed(2)} ms/file`]);
    rows.push(['Stat file', `${s.stat.filesPerSec.toFixed(1)} files/s`, `${s.stat.msPerFile.toFixed(2)} ms/file`]);
  }
  const w = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]?.length ?? 0)));
  return rows.map((row) => row.map((c, i) => c.padEnd(w[i] ?? 0)).join('  ').trimEnd());
}

export function benchCommand(): Command {
  return withVolumeOptions(new Command('bench'))
    .description('quick end-to-end throughput and metadata test of the volume, in a temporary directory it removes')
    .option('--block-size <KiB>', 'bytes per read/write call, in KiB', nonNegativeInt, 1024)
    .option('--big-file-size <MiB>', 'size of each big file in MiB (0 skips the big-file test)', nonNegativeInt, 1024)
    .option('--small-file-size <KiB>', 'size of each small file in KiB', nonNegativeInt, 128)
    .option('--small-files <n>', 'small files per thread (0 skips the small-file test)', nonNegativeInt, 100)
    .option('--threads <n>', 'concurrent workers, each with its own files', nonNegativeInt, 1)
    .action(async (o: BenchOptions) => {
      if (o.blockSize < 1 || o.threads < 1) throw new CliError(EXIT_USAGE, '--block-size and --threads must be at least 1');
      const params: BenchParams = {
        ioSizeBytes: o.blockSize * 1024, bigFileBytes: o.bigFileSize * 2 ** 20, smallFileBytes: o.smallFileSize * 1024,
        smallFiles: o.smallFiles, threads: o.threads,
      };
      await withAdminVolume(o, { writable: true }, async ({ volume, progress }) => {
        if (!o.json) note(`bench on volume ${volume.setting.Name}: big files ${o.bigFileSize} MiB, small files ${o.smallFiles} x ${o.smallFileSize} KiB, ${o.threads} thread(s)`);
        const report = await runBench(volume.vfs, params, progress);
        if (o.json) out(toJson(report));
        else for (const l of benchTable(report)) out(l);
      });
    });
}
