/**
 * Crash test of the write-back durability point (DESIGN.md "Write path and durability"): a child
 * process writes with write-back staging, fsyncs, and is killed with SIGKILL after fsync returned,
 * while its object store never finished a single upload. After a restart on the same SQLite
 * metadata and cache dir, every fsynced byte reads back and the staged blocks reach the store.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BaseMeta } from '../../src/meta/base.js';
import { openSqliteEngine } from '../../src/meta/sqlite/engine.js';
import { ROOT_CREDENTIALS, toIno } from '../../src/meta/types.js';
import { openVolume } from '../../src/vfs/open.js';
import { tmpDir } from '../helpers/tmp.js';
import { crashData, CRASH_LENGTH } from './fixtures/crash-data.js';
import { BLOCK } from './rig.js';
import { readFileBySpec } from './simple-reader.js';

async function filesUnder(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  } catch {
    return [];
  }
}

describe('Vfs crash recovery (sqlite meta × file store × write-back)', function () {
  this.timeout(60_000);

  it('every byte fsynced before SIGKILL reads back after a restart, and staged blocks reach the store', async function () {
    const dir = tmpDir('ferry-vfs-crash-');
    const url = `sqlite3://${join(dir, 'meta.db')}`;
    const storeDir = join(dir, 'store');
    const cacheDir = join(dir, 'cache');
    const setup = new BaseMeta(openSqliteEngine(url));
    const setting = await setup.format({
      Name: 'crashvol', UUID: '', Storage: 'file', Bucket: `${storeDir}/`, BlockSize: BLOCK / 1024,
      Compression: 'none', TrashDays: 0, EnableACL: false,
    });
    await setup.close();

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
