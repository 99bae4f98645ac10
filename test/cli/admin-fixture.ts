/**
 * A volume with known content for the admin command tests: formatted with 64 KiB blocks (the
 * smallest, so small files span several blocks), on SQLite or a fresh Redis db, with objects in a
 * local directory or in the run's s3rver under the volume's own name. Files are written through
 * the real Vfs. `ferry()` runs the built CLI as a child process.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BaseMeta } from '../../src/meta/base.js';
import { openEngine } from '../../src/meta/open.js';
import { type Format, type Ino, MODE_WRITE, ROOT_CREDENTIALS, ROOT_INODE } from '../../src/meta/types.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { createObjectStore } from '../../src/storage/open.js';
import { openVolume, storageSetting } from '../../src/vfs/open.js';
import type { Vfs } from '../../src/vfs/vfs.js';
import { freshRedisUrl, sharedS3rver } from '../helpers/hooks.js';
import { tmpDir } from '../helpers/tmp.js';

export const BLOCK = 64 * 1024;
const CLI = resolve('dist/src/cli/main.js');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a separate process (no TTY: plain progress lines on stderr). */
export function ferry(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      done({ code, stdout, stderr });
    });
  });
}

export interface TestVolume {
  name: string;
  metaUrl: string;
  setting: Format;
  /** The volume's store, keys relative to `<name>/` (for deleting or planting objects). */
  store: ObjectStore;
  /** `--meta <url> --config <empty file>`: the volume, and defaults for everything else. */
  args: string[];
  dir: string;
  /** Inodes of the files written by populate(). */
  files: Map<string, Ino>;
  close(): Promise<void>;
}

export interface VolumeKind {
  meta: 'sqlite' | 'redis';
  storage: 'file' | 's3';
}

/** Formats an empty volume. */
export async function makeVolume(kind: VolumeKind, trashDays = 0): Promise<TestVolume> {
  const dir = tmpDir('ferry-admin-');
  const name = `vol-${randomBytes(4).toString('hex')}`;
  let metaUrl: string;
  const closers: (() => Promise<void>)[] = [];
  if (kind.meta === 'sqlite') {
    metaUrl = `sqlite3://${join(dir, 'meta.db')}`;
  } else {
    metaUrl = await freshRedisUrl();
  }
  const setting: Format = {
    Name: name, UUID: randomUUID(), Storage: 'file', Bucket: `${join(dir, 'objects')}/`, BlockSize: 64, Compression: 'none',
    TrashDays: trashDays, MetaVersion: 1, EnableACL: false, DirStats: true,
  };
  if (kind.storage === 'file') {
    mkdirSync(join(dir, 'objects'), { recursive: true });
  } else {
    const s3 = await sharedS3rver();
    Object.assign(setting, { Storage: 's3', Bucket: s3.bucketUrl, AccessKey: s3.accessKey, SecretKey: s3.secretKey });
  }
  const meta = new BaseMeta(await openEngine(metaUrl));
  await meta.format(setting);
  await meta.close();
  const config = join(dir, 'ferry.yaml');
  writeFileSync(config, '# defaults\n');
  const store = createObjectStore(storageSetting(setting));
  closers.push(() => store.close());
  return {
    name, metaUrl, setting, store, dir, files: new Map(),
    args: ['--meta', metaUrl, '--config', config],
    async close() {
      for (const c of closers.reverse()) await c();
    },
  };
}

/** Deterministic file content. */
export function content(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

async function writeFile(vfs: Vfs, parent: Ino, name: string, data: Buffer): Promise<Ino> {
  const e = await vfs.create(ROOT_CREDENTIALS, parent, Buffer.from(name), 0o644, 0, true);
  const { handle } = await vfs.open(ROOT_CREDENTIALS, e.ino, MODE_WRITE);
  await vfs.write(ROOT_CREDENTIALS, handle, 0, data);
  await vfs.release(ROOT_CREDENTIALS, handle);
  return e.ino;
}

/**
 * Writes `/a.bin` (150 KiB: blocks of 64, 64 and 22 KiB), `/dir/b.txt` (1000 bytes) and
 * `/dir/sub/c.bin` (70 KiB: 64 + 6 KiB), each as one slice.
 */
export async function populate(v: TestVolume): Promise<void> {
  const vol = await openVolume(v.metaUrl, { session: false, compaction: false, releaseIntervalMs: 0 });
  try {
    const vfs = vol.vfs;
    v.files.set('/a.bin', await writeFile(vfs, ROOT_INODE, 'a.bin', content(150 * 1024, 1)));
    const dir = (await vfs.mkdir(ROOT_CREDENTIALS, ROOT_INODE, Buffer.from('dir'), 0o755, 0)).ino;
    v.files.set('/dir/b.txt', await writeFile(vfs, dir, 'b.txt', content(1000, 2)));
    const sub = (await vfs.mkdir(ROOT_CREDENTIALS, dir, Buffer.from('sub'), 0o755, 0)).ino;
    v.files.set('/dir/sub/c.bin', await writeFile(vfs, sub, 'c.bin', content(70 * 1024, 3)));
  } finally {
    await vol.close();
  }
}

/** Every object key under `chunks/`, sorted. */
export async function chunkKeys(store: ObjectStore): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list('chunks/')) keys.push(o.key);
  return keys.sort();
}

/** Parses stdout as JSON, failing with the run's output when it is not. */
export function json<T>(r: Run): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    assert.fail(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
}
