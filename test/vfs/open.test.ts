/**
 * openVolume and the storage part of the setting (spec §A, §A.1): URL schemes, refusal of volumes
 * we cannot serve, secrets decrypted with AES-GCM keyed by MD5(UUID), block size in KiB.
 */
import assert from 'node:assert/strict';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { BaseMeta } from '../../src/meta/base.js';
import { MemoryEngine } from '../../src/meta/memory/engine.js';
import { openSqliteEngine } from '../../src/meta/sqlite/engine.js';
import { type Format, MODE_READ, MODE_WRITE, ROOT_INODE } from '../../src/meta/types.js';
import { Errno } from '../../src/util/errno.js';
import { openVolume, revealSecret, storageSetting } from '../../src/vfs/open.js';
import { tmpDir, tmpDirOnOtherFs } from '../helpers/tmp.js';
import { rejectsWith } from './suite.js';

const UUID = '5d3f0f44-4a51-4b8a-9a43-0b6a3f3f1c2e';

function base(over: Partial<Format> = {}): Format {
  return { Name: 'opentest', UUID, Storage: 'mem', Bucket: 'b', BlockSize: 128, Compression: 'none', TrashDays: 0, EnableACL: false, ...over };
}

/** A secret as JuiceFS stores it when KeyEncrypted (spec §A.1). */
function seal(uuid: string, plain: string): string {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-128-gcm', createHash('md5').update(uuid).digest(), nonce);
  const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  return Buffer.concat([nonce, body, c.getAuthTag()]).toString('base64');
}

describe('openVolume', () => {
  it('decrypts secrets of the setting and passes the rest through', () => {
    const f = base({ AccessKey: 'AK', SecretKey: seal(UUID, 's3cr3t'), SessionToken: seal(UUID, 'tok'), KeyEncrypted: true, Shards: 0, Compression: 'lz4' });
    assert.deepEqual(storageSetting(f), { storage: 'mem', bucket: 'b', name: 'opentest', accessKey: 'AK', secretKey: 's3cr3t', sessionToken: 'tok', compression: 'lz4', shards: 0 });
    assert.equal(revealSecret(base(), 'plain'), 'plain');
    assert.equal(revealSecret(base({ KeyEncrypted: true }), 'removed'), undefined);
    assert.throws(() => revealSecret(base({ KeyEncrypted: true, UUID: 'another' }), seal(UUID, 'x')), (err: unknown) => err instanceof Error && /decrypt/.test(err.message));
  });

  it('opens a volume from a Meta and uses the block size in KiB', async () => {
    const meta = new BaseMeta(new MemoryEngine());
    await meta.format(base());
    const v = await openVolume({ meta }, { releaseIntervalMs: 0 });
    assert.equal(v.vfs.blockSizeBytes, 128 * 1024);
    await v.close();
  });

  it('opens a sqlite3:// URL with a session, and closes it again', async () => {
    const url = `sqlite3://${join(tmpDir('ferry-open-'), 'meta.db')}`;
    await rejectsWith(openVolume(url, { session: false }), Errno.ENOENT); // an empty database is not a volume
    const setup = new BaseMeta(openSqliteEngine(url));
    await setup.format(base({ Storage: 'file', Bucket: `${tmpDir('ferry-open-store-')}/` }));
    await setup.close();
    const v = await openVolume(url, { releaseIntervalMs: 0 });
    assert.ok(v.meta.sid > 0);
    await v.close();
  });

  it('keeps no disk cache of a file store on the cache dirs\' file system, but does on another one', async () => {
    const MiB = 1024 * 1024;
    const cached = async (cacheDir: string): Promise<number> => {
      const meta = new BaseMeta(new MemoryEngine());
      await meta.format(base({ Storage: 'file', Bucket: `${tmpDir('ferry-open-store-')}/`, BlockSize: 1024 }));
      const v = await openVolume({ meta }, { releaseIntervalMs: 0, cacheDirs: [cacheDir] });
      try {
        const cred = { uid: 0, gid: 0, gids: [] };
        const { ino } = await v.vfs.create(cred, ROOT_INODE, Buffer.from('f'), 0o644, 0o022);
        const w = await v.vfs.open(cred, ino, MODE_WRITE);
        await v.vfs.write(cred, w.handle, 0, randomBytes(3 * MiB));
        await v.vfs.release(cred, w.handle);
        const r = await v.vfs.open(cred, ino, MODE_READ);
        for (let off = 0; off < 3 * MiB; off += MiB) assert.equal((await v.vfs.read(cred, r.handle, off, MiB)).length, MiB);
        await v.vfs.release(cred, r.handle);
        await v.cache.settle();
        return v.cache.stats().diskBlocks;
      } finally {
        await v.close();
      }
    };
    assert.equal(await cached(join(tmpDir('ferry-open-cache-'), 'not-yet-created')), 0, 'same file system: read from the store');
    assert.equal(await cached(tmpDirOnOtherFs('ferry-open-cache-')), 3, 'another file system: every block read is cached on disk');
  });

  it('reads an uncompressed file store on the cache dirs\' file system in place: only the bytes asked for, no blocks ahead', async () => {
    const KiB = 1024;
    const fetched = async (cacheDir: string, compression: string): Promise<number> => {
      const meta = new BaseMeta(new MemoryEngine());
      await meta.format(base({ Storage: 'file', Bucket: `${tmpDir('ferry-open-store-')}/`, BlockSize: 1024, Compression: compression }));
      const registry = new Registry();
      const v = await openVolume({ meta }, { releaseIntervalMs: 0, cacheDirs: [cacheDir], metrics: registry });
      try {
        const cred = { uid: 0, gid: 0, gids: [] };
        const data = randomBytes(3 * 1024 * KiB);
        const { ino } = await v.vfs.create(cred, ROOT_INODE, Buffer.from('f'), 0o644, 0o022);
        const w = await v.vfs.open(cred, ino, MODE_WRITE);
        await v.vfs.write(cred, w.handle, 0, data);
        await v.vfs.release(cred, w.handle);
        const before = await getBytes(registry);
        const r = await v.vfs.open(cred, ino, MODE_READ);
        const dest = Buffer.alloc(4 * KiB);
        for (let off = 0; off < 64 * KiB; off += 4 * KiB) {
          assert.equal(await v.vfs.readInto(cred, r.handle, off, dest), dest.length);
          assert.ok(dest.equals(data.subarray(off, off + dest.length)));
        }
        await v.vfs.release(cred, r.handle);
        await v.cache.settle();
        return (await getBytes(registry)) - before;
      } finally {
        await v.close();
      }
    };
    assert.equal(await fetched(join(tmpDir('ferry-open-cache-'), 'c'), 'none'), 64 * KiB, 'same file system, raw blocks: the 16 reads of 4 KiB and nothing more');
    assert.ok(await fetched(join(tmpDir('ferry-open-cache-'), 'c'), 'lz4') >= 1024 * KiB, 'compressed blocks are fetched whole and read ahead');
    assert.ok(await fetched(tmpDirOnOtherFs('ferry-open-cache-'), 'none') >= 1024 * KiB, 'another file system: whole blocks, read ahead and cached');
  });

  it('refuses unknown URL schemes and volumes with encrypted data', async () => {
    await rejectsWith(openVolume('tikv://h:1/x'), Errno.EINVAL);
    const meta = new BaseMeta(new MemoryEngine());
    await meta.format(base({ EncryptKey: 'PEM' }));
    await rejectsWith(openVolume({ meta }), Errno.ENOTSUP);
  });
});

/** Object bytes fetched so far (ferry_object_transfer_bytes_total{op="get"}). */
async function getBytes(registry: Registry): Promise<number> {
  const metric = registry.getSingleMetric('ferry_object_transfer_bytes_total');
  if (metric === undefined) return 0;
  return (await metric.get()).values.find((v) => v.labels['op'] === 'get')?.value ?? 0;
}
