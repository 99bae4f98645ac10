import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { dumpVolume } from '../../../src/meta/dump/dump.js';
import { loadVolume } from '../../../src/meta/dump/load.js';
import type { Meta } from '../../../src/meta/meta.js';
import { openMeta } from '../../../src/meta/open.js';
import {
  CHUNK_SIZE, FileType, type Format, ROOT_CREDENTIALS, ROOT_INODE, toChunkIndex, toIno, toSliceId,
} from '../../../src/meta/types.js';
import { freshRedisUrl } from '../../helpers/hooks.js';
import { tmpDir } from '../../helpers/tmp.js';

const ctx = ROOT_CREDENTIALS;
const now = { sec: 1700000000, nsec: 123 };

const setting: Format = {
  Name: 'round-trip', UUID: '0f4e2c4e-7d52-4d7e-9a53-5f3a8a0d6a11', Storage: 'file',
  Tiers: { 0: { ID: 0, StorageClass: '', Tag: '' } }, Bucket: '/tmp/rt/', SecretKey: 'c2VjcmV0', KeyEncrypted: true,
  BlockSize: 4096, Compression: 'none', EncryptAlgo: 'aes256gcm-rsa', TrashDays: 1, MetaVersion: 1,
  MinClientVersion: '1.1.0-A', DirStats: true, EnableACL: false,
};

async function dump(meta: Meta): Promise<string> {
  const parts: Buffer[] = [];
  const out = new Writable({ write(chunk: Buffer, _e, cb) { parts.push(chunk); cb(); } });
  await dumpVolume(meta, out, { keepSecretKey: true });
  return Buffer.concat(parts).toString('utf8');
}

/** Builds a volume with awkward names, hard links, sparse multi-chunk files, xattrs and trash. */
async function populate(meta: Meta): Promise<void> {
  await meta.format(setting);
  await meta.newSession({ MountPoint: 'test' });
  const dir = (await meta.mkdir(ctx, ROOT_INODE, Buffer.from('dir with space%"\\'), 0o755, 0)).ino;
  const latin1 = (await meta.mkdir(ctx, dir, Buffer.from([0x63, 0x61, 0x66, 0xe9, 0xff]), 0o700, 0)).ino;
  const big = (await meta.create(ctx, latin1, Buffer.from('sparse\nfile'), 0o640, 0, true)).ino;
  const s1 = await meta.newSliceId();
  await meta.writeSlice(big, toChunkIndex(0), { pos: 4096, id: s1, size: 8192, off: 0, len: 8192 }, now);
  const s2 = await meta.newSliceId();
  await meta.writeSlice(big, toChunkIndex(2), { pos: 100, id: s2, size: 5000, off: 0, len: 5000 }, now);
  await meta.writeSlice(big, toChunkIndex(0), { pos: 0, id: s1, size: 8192, off: 50, len: 100 }, now);
  await meta.link(ctx, big, ROOT_INODE, Buffer.from('hard<&>link'));
  await meta.link(ctx, big, dir, Buffer.from('second'));
  await meta.symlink(ctx, dir, Buffer.from('link'), Buffer.from([0x2e, 0x2e, 0x2f, 0xb9, 0xfb, 0x20, 0x25]));
  await meta.mknod(ctx, ROOT_INODE, Buffer.from('fifo'), FileType.Fifo, 0o600, 0);
  await meta.setxattr(ctx, big, Buffer.from('user.bin'), Buffer.from([0, 1, 0x25, 0xff, 0x22]), 0);
  await meta.setxattr(ctx, ROOT_INODE, Buffer.from('user.a<b>'), Buffer.from('x & y'), 0);
  const gone = (await meta.create(ctx, ROOT_INODE, Buffer.from('to-trash'), 0o644, 0, true)).ino;
  await meta.writeSlice(gone, toChunkIndex(0), { pos: 0, id: await meta.newSliceId(), size: 10, off: 0, len: 10 }, now);
  await meta.unlink(ctx, ROOT_INODE, Buffer.from('to-trash'));
}

/** The tree part of a dump (the header has engine-specific id batches). */
function trees(text: string): string {
  const at = text.indexOf('\n  "FSTree": {');
  assert.ok(at > 0);
  return text.slice(at);
}

describe('a volume built through the Meta API survives dump and load on every engine', () => {
  let source: Meta;
  let text: string;

  before(async () => {
    source = (await openMeta('memory://')).meta;
    await populate(source);
    text = await dump(source);
  });

  after(async () => {
    await source.closeSession();
    await source.close();
  });

  it('writes escaped names, both hard links in full, the trash entry and sparse chunks', () => {
    assert.match(text, /"dir%20with%20space%25%22%5C": \{/);
    assert.match(text, /"caf%E9%FF": \{/);
    assert.match(text, /"sparse%0Afile": \{/);
    assert.match(text, /"hard<&>link": \{/);
    assert.match(text, /"symlink": "..\/%B9%FB%20%25"/);
    assert.match(text, /\{"name":"user.a\\u003cb\\u003e","value":"x%20\\u0026%20y"\}/);
    assert.match(text, /\{"name":"user.bin","value":"%00%01%25%FF%22"\}/);
    assert.equal(text.split('"second": {').length, 2);
    assert.match(text, /"chunks": \[\n +\{"index":0,"slices":\[\{"id":\d+,"pos":4096,"size":8192,"len":8192\},\{"id":\d+,"size":8192,"off":50,"len":100\}\]\},\n +\{"index":2,"slices":\[\{"id":\d+,"pos":100,"size":5000,"len":5000\}\]\}\n +\]/);
    assert.match(text, /"1-\d+-to-trash": \{/);
    assert.match(text, /"SecretKey": "c2VjcmV0"/);
  });

  const targets: [string, () => Promise<string>][] = [
    ['memory', async () => 'memory://'],
    ['sqlite', async () => `sqlite3://${join(tmpDir('ferry-rt-'), 'meta.db')}`],
    ['redis', freshRedisUrl],
  ];
  for (const [name, url] of targets) {
    it(`loads into ${name} and dumps the same trees, with the same space and inode counts`, async () => {
      const { meta, engine } = await openMeta(await url());
      try {
        const r = await loadVolume(engine, Buffer.from(text, 'utf8'));
        const again = await dump(meta);
        assert.equal(trees(again), trees(text));
        const before = await source.counters();
        const after = await meta.counters();
        assert.equal(after.usedSpace, before.usedSpace);
        assert.equal(after.usedInodes, before.usedInodes);
        assert.equal(r.counters.nextChunk > 2n, true);
        const big = await meta.lookup(ctx, ROOT_INODE, Buffer.from('hard<&>link'));
        assert.equal(big.attr.nlink, 3);
        assert.equal(big.attr.parent, 0n);
        assert.equal(big.attr.length, 2 * CHUNK_SIZE + 100 + 5000);
        const slices = await meta.readSlices(big.ino, toChunkIndex(2));
        assert.equal(slices.length, 1);
        assert.equal(await meta.sliceRefs(toSliceId(slices[0]?.id ?? 0n), 5000), 1);
        assert.ok((await meta.getattr(toIno(big.ino))).nlink === 3);
      } finally {
        await meta.close();
      }
    });
  }
});
