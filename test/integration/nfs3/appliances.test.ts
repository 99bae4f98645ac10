/**
 * Two NFS servers, each with its own Vfs, over one volume (Redis): what a client of one sees of
 * writes made through the other. GETATTR always reads the engine, so a client that asks it (the
 * Linux client does at open: close-to-open) then reads the new data; READ replies may answer
 * attributes (and data) up to nfs.data-attr-cache-ms old for a file in use, and with 0 never: a
 * READ that reads the attributes reads the data after them, so both show the change.
 */
import assert from 'node:assert/strict';
import { FILE_SYNC, NFS3_OK } from '../../../src/protocols/nfs/nfs3/types.js';
import { freshRedisUrl } from '../../helpers/hooks.js';
import { startHarness, type Harness } from '../../helpers/nfs-harness.js';
import { sysCred } from '../../helpers/rpc-client.js';

describe('NFSv3: two servers over one volume (redis)', function () {
  this.timeout(30_000);
  const harnesses: Harness[] = [];

  afterEach(async () => {
    for (const h of harnesses.splice(0).reverse()) await h.close();
  });

  async function appliances(second: { dataAttrMs?: number }): Promise<[Harness, Harness]> {
    const redisUrl = await freshRedisUrl();
    const common = { engine: 'redis' as const, redisUrl, exports: [{ path: '/', squash: 'no_root_squash' as const }], cred: sysCred(0, 0) };
    const a = await startHarness(common);
    harnesses.push(a);
    const b = await startHarness({ ...common, join: true, ...second });
    harnesses.push(b);
    return [a, b];
  }

  /** A file `name` written through `h` with `bytes` of `fill`, FILE_SYNC; its handle. */
  async function written(h: Harness, name: string, length: number, fill: number): Promise<Buffer> {
    const made = await h.client.create(h.root, name);
    assert.ok(made.fh);
    return grown(h, made.fh, 0, length, fill);
  }

  async function grown(h: Harness, fh: Buffer, offset: number, length: number, fill: number): Promise<Buffer> {
    const w = await h.client.write(fh, offset, Buffer.alloc(length, fill), FILE_SYNC);
    assert.equal(w.status, NFS3_OK);
    return fh;
  }

  it('a GETATTR through the other server shows the change, and its READs then return the new data', async () => {
    const [a, b] = await appliances({});
    const fh = await written(a, 'f', 100, 1);
    const first = await b.client.read(fh, 0, 1000);
    assert.equal(first.status, NFS3_OK);
    assert.deepEqual(first.data, Buffer.alloc(100, 1));

    await grown(a, fh, 100, 50, 2);
    const attr = await b.client.getattr(fh);
    assert.equal(attr.attr?.size, 150n);
    const after = await b.client.read(fh, 0, 1000);
    assert.equal(after.status, NFS3_OK);
    assert.deepEqual(after.data, Buffer.concat([Buffer.alloc(100, 1), Buffer.alloc(50, 2)]));
    assert.equal(after.attr?.size, 150n);
    assert.equal(after.eof, true);
  });

  it('with nfs.data-attr-cache-ms 0, every READ reads the attributes first: the first after the other server\'s write returns it', async () => {
    const [a, b] = await appliances({ dataAttrMs: 0 });
    const fh = await written(a, 'g', 100, 1);
    assert.equal((await b.client.read(fh, 0, 1000)).attr?.size, 100n);
    for (let i = 1; i <= 3; i++) {
      await grown(a, fh, 100 * i, 100, i + 1);
      const r = await b.client.read(fh, 0, 1000);
      assert.equal(r.attr?.size, BigInt(100 * (i + 1)));
      assert.equal(r.eof, true);
      assert.equal(r.data?.length, 100 * (i + 1));
      assert.deepEqual(r.data?.subarray(100 * i), Buffer.alloc(100, i + 1));
    }
  });
});
