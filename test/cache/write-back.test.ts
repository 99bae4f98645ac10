import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { TieredBlockCache, type BlockCacheOptions } from '../../src/cache/block-cache.js';
import { FileObjectStore } from '../../src/storage/file.js';
import { MemoryObjectStore } from '../../src/storage/memory.js';
import { Errno, isFsError } from '../../src/util/errno.js';
import { tmpDir } from '../helpers/tmp.js';
import { blockBytes, CountingStore, keyOf, recordingLogger, roomyStatfs } from './helpers.js';

const UUID = '0b8e5f9a-7d3c-4e21-8a6b-5c4d3e2f1a09';
const LEN = 64 * 1024;

/** All files under `dir` (relative paths), or [] when it does not exist. */
async function filesUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => `${e.parentPath}/${e.name}`.slice(dir.length + 1)).sort();
}

describe('TieredBlockCache (write-back staging)', function () {
  const caches: TieredBlockCache[] = [];
  let backing: MemoryObjectStore;
  let store: CountingStore;

  beforeEach(function () {
    backing = new MemoryObjectStore();
    store = new CountingStore(backing);
  });

  afterEach(async function () {
    store.putGate.open();
    for (const c of caches.splice(0)) await c.close();
  });

  async function openCache(opts: Partial<BlockCacheOptions> = {}): Promise<TieredBlockCache> {
    const cache = await TieredBlockCache.open({ store, volumeUuid: UUID, cacheDirs: [tmpDir('ferry-wb-')], statfs: roomyStatfs, uploadRetryBaseDelayMs: 1, ...opts });
    caches.push(cache);
    return cache;
  }

  /** A cache on a fresh dir with block 1 staged and its upload held at the store's put gate. */
  async function stageWithUploadHeld(): Promise<{ dir: string; cache: TieredBlockCache }> {
    const dir = tmpDir('ferry-wb-');
    const cache = await openCache({ cacheDirs: [dir] });
    store.putGate.close();
    await cache.put(keyOf(1, LEN), blockBytes(1, LEN), { writeBack: true });
    await store.until(() => store.putCalls.length >= 1);
    return { dir, cache };
  }

  it('acknowledges a write-back put once staged, serves reads from staging, and uploads in the background', async function () {
    const dir = tmpDir('ferry-wb-');
    const registry = new Registry();
    const cache = await openCache({ cacheDirs: [dir], memoryCacheBytes: 0, registry });
    const key = keyOf(1, LEN);
    store.putGate.close();
    await cache.put(key, blockBytes(1, LEN), { writeBack: true });

    assert.equal(cache.pendingUploads(), 1);
    assert.deepEqual(await filesUnder(`${dir}/${UUID}/rawstaging`), [key]);
    await assert.rejects(backing.head(key), (err: unknown) => isFsError(err, Errno.ENOENT), 'not in the store yet');
    assert.deepEqual(await cache.get(key), blockBytes(1, LEN));
    assert.deepEqual(await cache.get(key, { offset: 100, length: 50 }), blockBytes(1, LEN).subarray(100, 150));
    assert.equal(store.getCalls.length, 0, 'served from the staging file');
    assert.match(await registry.metrics(), /^ferry_cache_staged_blocks 1$/m);

    store.putGate.open();
    await cache.drain();
    assert.equal(cache.pendingUploads(), 0);
    assert.deepEqual(await backing.get(key), blockBytes(1, LEN));
    assert.deepEqual(await filesUnder(`${dir}/${UUID}/rawstaging`), []);
    assert.deepEqual(await filesUnder(`${dir}/${UUID}/raw`), [key], 'the uploaded block moved into the read cache');
    assert.deepEqual(await cache.get(key), blockBytes(1, LEN));
    assert.equal(store.getCalls.length, 0);
    const text = await registry.metrics();
    assert.match(text, /^ferry_cache_staged_blocks 0$/m);
    assert.match(text, /^ferry_cache_uploads_total 1$/m);
  });

  it('uploads at most maxUploads blocks at a time and drains them all', async function () {
    const cache = await openCache({ maxUploads: 2 });
    store.putGate.close();
    for (let i = 1; i <= 6; i++) await cache.put(keyOf(i, LEN), blockBytes(i, LEN), { writeBack: true });
    await store.until(() => store.putCalls.length >= 2);
    await new Promise((r) => setImmediate(r));
    assert.equal(store.putCalls.length, 2, 'two uploads in flight, four waiting');
    assert.equal(cache.pendingUploads(), 6);
    let drained = false;
    const drain = cache.drain().then(() => (drained = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(drained, false);
    store.putGate.open();
    await drain;
    for (let i = 1; i <= 6; i++) assert.deepEqual(await backing.get(keyOf(i, LEN)), blockBytes(i, LEN));
    assert.equal(cache.pendingUploads(), 0);
  });

  it('retries failed uploads and counts the failures', async function () {
    const registry = new Registry();
    const cache = await openCache({ registry });
    store.failPuts = 2;
    await cache.put(keyOf(1, LEN), blockBytes(1, LEN), { writeBack: true });
    await cache.drain();
    assert.deepEqual(await backing.get(keyOf(1, LEN)), blockBytes(1, LEN));
    assert.equal(store.putCalls.length, 3);
    assert.match(await registry.metrics(), /^ferry_cache_upload_errors_total 2$/m);
  });

  it('delete of a block still staged removes it without uploading it', async function () {
    const dir = tmpDir('ferry-wb-');
    const cache = await openCache({ cacheDirs: [dir], maxUploads: 1 });
    store.putGate.close();
    const [k1, k2] = [keyOf(1, LEN), keyOf(2, LEN)];
    await cache.put(k1, blockBytes(1, LEN), { writeBack: true }); // its upload is in flight, held at the gate
    await cache.put(k2, blockBytes(2, LEN), { writeBack: true }); // queued behind it
    await store.until(() => store.putCalls.length >= 1);
    await cache.delete(k2);
    const deleting = cache.delete(k1); // waits for the upload in flight, then deletes the object
    store.putGate.open();
    await deleting;
    await cache.drain();
    assert.deepEqual(store.putCalls, [k1]);
    for (const key of [k1, k2]) await assert.rejects(backing.head(key), (err: unknown) => isFsError(err, Errno.ENOENT));
    assert.deepEqual(await filesUnder(`${dir}/${UUID}`), []);
    assert.equal(cache.pendingUploads(), 0);
  });

  it('uploads directly when the staging disk is below half its free-space floor', async function () {
    const cache = await openCache({ freeSpaceRatio: 0.2, statfs: async () => ({ totalBytes: 100 * LEN, freeBytes: 9 * LEN }) });
    store.putGate.close();
    const put = cache.put(keyOf(1, LEN), blockBytes(1, LEN), { writeBack: true });
    await store.until(() => store.putCalls.length >= 1);
    assert.equal(cache.pendingUploads(), 0, 'nothing staged');
    store.putGate.open();
    await put;
    assert.deepEqual(await backing.get(keyOf(1, LEN)), blockBytes(1, LEN));
  });

  it('drain rejects with the abort reason when its signal aborts first', async function () {
    const cache = await openCache();
    store.putGate.close();
    await cache.put(keyOf(1, LEN), blockBytes(1, LEN), { writeBack: true });
    const ac = new AbortController();
    const drain = cache.drain(ac.signal);
    ac.abort(new Error('shutdown timeout'));
    await assert.rejects(drain, /shutdown timeout/);
    assert.equal(cache.pendingUploads(), 1);
  });

  it('close keeps blocks it could not upload staged, and the next start uploads them', async function () {
    const { dir, cache: first } = await stageWithUploadHeld();
    await first.close(); // aborts the upload held at the gate
    store.putGate.open();
    assert.deepEqual(await filesUnder(`${dir}/${UUID}/rawstaging`), [keyOf(1, LEN)]);
    await assert.rejects(first.get(keyOf(1, LEN)), (err: unknown) => isFsError(err, Errno.EIO), 'a closed cache refuses reads');

    const second = await openCache({ cacheDirs: [dir] });
    await second.drain();
    assert.deepEqual(await backing.get(keyOf(1, LEN)), blockBytes(1, LEN));
  });

  it('a second process on the same dirs with uploadStaged: false reads staged blocks but leaves their upload to the owner', async function () {
    const { dir, cache: owner } = await stageWithUploadHeld();

    const admin = await openCache({ cacheDirs: [dir], uploadStaged: false });
    assert.deepEqual(await admin.get(keyOf(1, LEN)), blockBytes(1, LEN), 'served from the owner\'s staging');
    await admin.drain();
    assert.equal(admin.pendingUploads(), 0);
    assert.equal(store.putCalls.length, 1, 'only the owner uploads');
    store.putGate.open();
    await owner.drain();
    assert.deepEqual(await backing.get(keyOf(1, LEN)), blockBytes(1, LEN));
  });

  it('sets a corrupt staged file aside instead of uploading it', async function () {
    const dir = tmpDir('ferry-wb-');
    const key = keyOf(7, LEN);
    const path = `${dir}/${UUID}/rawstaging/${key}`;
    await mkdir(path.slice(0, path.lastIndexOf('/')), { recursive: true });
    await writeFile(path, Buffer.alloc(LEN + 100, 1));
    const { logger, lines } = recordingLogger();
    const cache = await openCache({ cacheDirs: [dir], logger });
    await cache.drain();
    assert.deepEqual(store.putCalls, []);
    assert.deepEqual(await filesUnder(`${dir}/${UUID}/rawstaging`), [`${key}.corrupt`]);
    assert.ok(lines.some((l) => l['key'] === key && l['level'] === 50), 'an error line names the key');
  });

  it('uploads every block staged by a process killed with SIGKILL, byte for byte, after a restart', async function () {
    this.timeout(20_000);
    const dir = tmpDir('ferry-wb-crash-');
    const count = 12;
    const child = spawn(process.execPath, [fileURLToPath(new URL('./fixtures/stage-child.js', import.meta.url)), dir, UUID, String(count), String(LEN)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, FERRY_LOG_LEVEL: 'silent' },
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('staged\n')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`child exited with ${code} before staging`)));
      });
    } finally {
      child.kill('SIGKILL');
    }
    assert.equal(await exited, 'SIGKILL');
    assert.equal((await filesUnder(`${dir}/${UUID}/rawstaging`)).length, count, 'every acknowledged block is on disk');

    // A leftover temp file of the dead process must be cleaned up, not uploaded.
    await writeFile(`${dir}/${UUID}/rawstaging/.ferry-tmp-deadbeef-7`, 'partial');
    const fileStore = new FileObjectStore(`${tmpDir('ferry-wb-store-')}/`);
    const cache = await TieredBlockCache.open({ store: fileStore, volumeUuid: UUID, cacheDirs: [dir], statfs: roomyStatfs });
    caches.push(cache);
    await cache.drain();
    assert.equal(cache.pendingUploads(), 0);
    for (let i = 1; i <= count; i++) assert.deepEqual(await fileStore.get(keyOf(i, LEN)), blockBytes(i, LEN), `block ${i}`);
    const stored: string[] = [];
    for await (const info of fileStore.list('')) stored.push(info.key);
    assert.equal(stored.length, count);
    assert.deepEqual(await filesUnder(`${dir}/${UUID}/rawstaging`), []);
  });
});
