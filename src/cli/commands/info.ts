/**
 * `ferry info <path>` / `ferry info --inode N`: one inode as the volume stores it: attributes,
 * parents, and for files every chunk's stored slice list (spec §B.5.3: id, size, off, len, pos)
 * with the block objects each slice is kept in (full keys `<Name>/chunks/...` and their lengths,
 * spec §D.1/§D.2); for directories the entry stats, or with --recursive a walk's summary.
 * Read-only: it never contacts the object store.
 */
import { Command } from 'commander';
import type { Meta } from '../../meta/meta.js';
import { type Attr, FileType, type Ino, type SliceRecord, toIno } from '../../meta/types.js';
import { CliError, EXIT_USAGE } from '../exit.js';
import { out, toJson } from '../io.js';
import { humanBytes, type Progress, type ProgressFactory } from '../progress.js';
import { withAdminVolume, withVolumeOptions, type VolumeCliOptions } from '../volume.js';
import { fileChunks, pathsOf, resolvePath, sliceObjects, walkTree, type BlockObject } from '../volume-scan.js';

interface InfoOptions extends VolumeCliOptions {
  inode?: string;
  recursive: boolean;
}

const TYPE_NAMES: Record<FileType, string> = {
  [FileType.File]: 'file', [FileType.Directory]: 'directory', [FileType.Symlink]: 'symlink', [FileType.Fifo]: 'fifo',
  [FileType.BlockDev]: 'blockdev', [FileType.CharDev]: 'chardev', [FileType.Socket]: 'socket',
};

export interface SliceInfo {
  id: bigint;
  size: number;
  off: number;
  len: number;
  pos: number;
  /** Full object keys (with the `<Name>/` prefix) and block lengths; empty for holes (id 0). */
  objects: BlockObject[];
}

export interface InodeInfo {
  inode: Ino;
  path: string | null;
  type: string;
  mode: string;
  uid: number;
  gid: number;
  size: number;
  nlink: number;
  parents: Ino[];
  /** Every path of the inode (hard links), when it was looked up by number. */
  paths?: string[];
  mtime: string;
  target?: string;
  chunks?: { index: number; slices: SliceInfo[] }[];
  objects?: { count: number; bytes: number };
  stats?: { entries: number; bytes: number } | null;
  summary?: { files: number; dirs: number; symlinks: number; others: number; bytes: number };
}

function sliceInfo(s: SliceRecord, name: string, blockSizeBytes: number, hashPrefix: boolean): SliceInfo {
  return {
    id: s.id, size: s.size, off: s.off, len: s.len, pos: s.pos,
    objects: sliceObjects(s, blockSizeBytes, hashPrefix).map((o) => ({ key: `${name}/${o.key}`, size: o.size })),
  };
}

async function summarize(meta: Meta, ino: Ino, path: string, progress: Progress): Promise<NonNullable<InodeInfo['summary']>> {
  const s = { files: 0, dirs: 0, symlinks: 0, others: 0, bytes: 0 };
  for await (const n of walkTree(meta, ino, path)) {
    if (n.ino === ino) continue;
    if (n.attr.type === FileType.File) {
      s.files++;
      s.bytes += n.attr.length;
    } else if (n.attr.type === FileType.Directory) {
      s.dirs++;
    } else if (n.attr.type === FileType.Symlink) {
      s.symlinks++;
    } else {
      s.others++;
    }
    progress.add(1);
  }
  progress.done();
  return s;
}

function human(i: InodeInfo): string[] {
  const lines = [
    `${i.path ?? `inode ${i.inode}`}`,
    `  inode:    ${i.inode}`,
    `  type:     ${i.type}`,
    `  mode:     ${i.mode} (uid ${i.uid}, gid ${i.gid})`,
    `  size:     ${i.size} (${humanBytes(i.size)})`,
    `  nlink:    ${i.nlink}`,
    `  parents:  ${i.parents.length === 0 ? '-' : i.parents.join(', ')}`,
    ...(i.paths === undefined ? [] : [`  paths:    ${i.paths.length === 0 ? '(none: unlinked or orphaned)' : i.paths.join(', ')}`]),
    `  mtime:    ${i.mtime}`,
  ];
  if (i.target !== undefined) lines.push(`  target:   ${i.target}`);
  if (i.stats !== undefined) lines.push(`  entries:  ${i.stats === null ? 'no dir stats' : `${i.stats.entries}, ${i.stats.bytes} bytes in files`}`);
  if (i.summary !== undefined) {
    const s = i.summary;
    lines.push(`  summary:  ${s.files} files, ${s.dirs} dirs, ${s.symlinks} symlinks, ${s.others} others, ${s.bytes} bytes (${humanBytes(s.bytes)})`);
  }
  if (i.chunks !== undefined && i.objects !== undefined) {
    lines.push(`  chunks:   ${i.chunks.length}, objects ${i.objects.count} (${humanBytes(i.objects.bytes)})`);
    for (const c of i.chunks) {
      lines.push(`  chunk ${c.index}:`);
      for (const s of c.slices) {
        lines.push(`    slice id ${s.id} size ${s.size} off ${s.off} len ${s.len} pos ${s.pos}${s.id === 0n ? ' (hole)' : ''}`);
        for (const o of s.objects) lines.push(`      ${o.key} ${o.size}`);
      }
    }
  }
  return lines;
}

/** Collects the info of one inode (exported for tests). */
export async function inodeInfo(meta: Meta, ino: Ino, path: string | null, attr: Attr, recursive: boolean, progress: ProgressFactory): Promise<InodeInfo> {
  const setting = meta.setting;
  const blockSizeBytes = setting.BlockSize * 1024;
  const hashPrefix = setting.HashPrefix ?? false;
  const info: InodeInfo = {
    inode: ino, path, type: TYPE_NAMES[attr.type], mode: `0${attr.mode.toString(8).padStart(3, '0')}`, uid: attr.uid, gid: attr.gid,
    size: attr.length, nlink: attr.nlink, parents: await meta.parents(ino),
    mtime: new Date(attr.mtime * 1000 + Math.floor(attr.mtimeNs / 1e6)).toISOString(),
  };
  if (path === null) info.paths = await pathsOf(meta, ino);
  if (attr.type === FileType.Symlink) info.target = (await meta.readlink(ino)).toString('utf8');
  if (attr.type === FileType.File) {
    const chunks = (await fileChunks(meta, ino)).map((c) => ({
      index: Number(c.indx), slices: c.slices.map((s) => sliceInfo(s, setting.Name, blockSizeBytes, hashPrefix)),
    }));
    const objects = chunks.flatMap((c) => c.slices.flatMap((s) => s.objects));
    info.chunks = chunks;
    info.objects = { count: objects.length, bytes: objects.reduce((n, o) => n + o.size, 0) };
  }
  if (attr.type === FileType.Directory) {
    const st = await meta.dirStats(ino);
    info.stats = st === null ? null : { entries: st.usedInodes, bytes: st.dataLength };
    if (recursive) info.summary = await summarize(meta, ino, path ?? `inode ${ino}`, progress('info: walked entries'));
  }
  return info;
}

export function infoCommand(): Command {
  return withVolumeOptions(new Command('info'))
    .description('show an inode: attributes, parents, chunks, slices and object keys (directories: stats)')
    .argument('[path]', 'absolute path inside the volume, e.g. /data/file.bin')
    .option('--inode <n>', 'look the inode up by number instead of by path')
    .option('-r, --recursive', 'for a directory, walk it and summarize files, dirs and bytes', false)
    .action(async (path: string | undefined, o: InfoOptions) => {
      if ((path === undefined) === (o.inode === undefined)) throw new CliError(EXIT_USAGE, 'give either a path or --inode N');
      if (o.inode !== undefined && !/^[0-9]+$/.test(o.inode)) throw new CliError(EXIT_USAGE, `--inode ${o.inode}: expected an inode number`);
      await withAdminVolume(o, {}, async ({ meta, progress }) => {
        const found = path !== undefined ? await resolvePath(meta, path) : { ino: toIno(BigInt(o.inode ?? '0')), attr: await meta.getattr(toIno(BigInt(o.inode ?? '0'))) };
        const info = await inodeInfo(meta, found.ino, path ?? null, found.attr, o.recursive, progress);
        if (o.json) out(toJson(info));
        else for (const line of human(info)) out(line);
      });
    });
}
