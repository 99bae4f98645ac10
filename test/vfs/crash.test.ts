/**
 * Crash tests of the durability point (DESIGN.md "Write path and durability"). Write-back: a child
 * process writes with write-back staging, fsyncs, and is killed with SIGKILL after fsync returned,
 * while its object store never finished a single upload; after a restart on the same SQLite
 * metadata and cache dir, every fsynced byte reads back and the staged blocks reach the store.
 * Write-through small files: a child creates, writes and fsyncs files 8 at a time on the embedded
 * default (SQLite + file store) and is killed mid-stream; every file it reported reads back whole.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BaseMeta } from '../../src/meta/base.js';
import { openSqliteEngine } from '../../src/meta/sqlite/engine.js';
import { type Format, ROOT_CREDENTIALS, toIno } from '../../src/meta/types.js';
import { openVolume } from '../../src/vfs/open.js';
import { tmpDir } from '../helpers/tmp.js';
import { crashData, CRASH_LENGTH } from './fixtures/crash-data.js';
import { smallFileData } from './fixtures/small-files-data.js';
import { BLOCK } from './rig.js';
import { readFileBySpec } from './simple-reader.js';

async function filesUnder(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  } catch {
    return [];
  }
}

/** A new volume in a temp dir: SQLite metadata (meta.db) and a file store (store/). */
async function sqliteFileVolume(prefix: string, name: string): Promise<{ dir: string; url: string; storeDir: string; setting: Format }> {
  const dir = tmpDir(prefix);
  const url = `sqlite3://${join(dir, 'meta.db')}`;
  const storeDir = join(dir, 'store');
  const setup = new BaseMeta(openSqliteEngine(url));
  const setting = await setup.format({
    Name: name, UUID: '', Storage: 'file', Bucket: `${storeDir}/`, BlockSize: BLOCK / 1024,
    Compression: 'none', TrashDays: 0, EnableACL: false,
  });
  await setup.close();
  return { dir, url, storeDir, setting };
}

describe('Vfs crash recovery (sqlite meta × file store × write-back)', function () {
  this.timeout(60_000);

  it('every byte fsynced before SIGKILL reads back after a restart, and staged blocks reach the store', async function () {
    const { dir, url, storeDir, setting } = await sqliteFileVolume('ferry-vfs-crash-', 'crashvol');
    const cacheDir = join(dir, 'cache');

    const child = spawn(process.execPath, [fileURLToPath(new URL('./fixtures/crash-child.js', import.meta.url)), url, cacheDir], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, FERRY_LOG_LEVEL: 'silent' },
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    let report: { ino: string; length: number };
    try {
      report = await new Promise((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const nl = out.indexOf('\n');
          if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)) as { ino: string; length: number });
        });
        child.once('exit', (code) => reject(new Error(`child exited with ${code} before fsync returned`)));
      });
    } finally {
      child.kill('SIGKILL');
    }
    assert.equal(await exited, 'SIGKILL');
    assert.equal(report.length, CRASH_LENGTH);
    assert.deepEqual(await filesUnder(storeDir), [], 'nothing was uploaded before the crash');
    assert.ok((await filesUnder(join(cacheDir, setting.UUID, 'rawstaging'))).length >= Math.ceil(CRASH_LENGTH / BLOCK));

    const volume = await openVolume(url, { writeBack: true, cacheDirs: [cacheDir], releaseIntervalMs: 0 });
    try {
      const ino = toIno(BigInt(report.ino));
      const attr = await volume.vfs.getattr(ROOT_CREDENTIALS, ino);
      assert.ok(attr.length >= CRASH_LENGTH);
      const got = await volume.vfs.read(ROOT_CREDENTIALS, ino, 0, CRASH_LENGTH);
      assert.ok(got.equals(crashData()), 'the fsynced bytes read back');
      await volume.cache.drain();
      assert.equal(volume.cache.pendingUploads(), 0);
      assert.deepEqual(await filesUnder(join(cacheDir, setting.UUID, 'rawstaging')), []);
      const bySpec = await readFileBySpec(volume.meta, volume.store, ino, BLOCK);
      assert.ok(bySpec.subarray(0, CRASH_LENGTH).equals(crashData()), 'the store alone holds the fsynced bytes');
    } finally {
      await volume.close();
    }
  });
});

describe('Vfs crash recovery (sqlite meta × file store × write-through, small files)', function () {
  this.timeout(60_000);

  it('every small file whose fsync returned before SIGKILL reads back whole after a restart', async function () {
    const { url } = await sqliteFileVolume('ferry-vfs-crash-small-', 'crashsmall');

    const child = spawn(process.execPath, [fileURLToPath(new URL('./fixtures/small-files-child.js', import.meta.url)), url], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, FERRY_LOG_LEVEL: 'silent' },
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    const reported: { name: string; ino: string }[] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
            reported.push(JSON.parse(out.slice(0, nl)) as { name: string; ino: string });
            out = out.slice(nl + 1);
          }
          if (reported.length >= 200) resolve();
        });
        child.once('exit', (code) => reject(new Error(`child exited with ${code} after ${reported.length} files`)));
      });
    } finally {
      child.kill('SIGKILL');
    }
    assert.equal(await exited, 'SIGKILL');

    const volume = await openVolume(url, { releaseIntervalMs: 0, session: false });
    try {
      for (const r of reported) {
        const i = Number(r.name.slice(1));
        const e = await volume.vfs.lookup(ROOT_CREDENTIALS, toIno(1n), Buffer.from(r.name));
        assert.equal(String(e.ino), r.ino);
        assert.equal(e.attr.length, smallFileData(i).length, `${r.name} length`);
        assert.ok((await volume.vfs.read(ROOT_CREDENTIALS, e.ino, 0, e.attr.length)).equals(smallFileData(i)), `${r.name} reads back`);
        const bySpec = await readFileBySpec(volume.meta, volume.store, e.ino, BLOCK);
        assert.ok(bySpec.equals(smallFileData(i)), `${r.name} in the store`);
      }
    } finally {
      await volume.close();
    }
  });
});
