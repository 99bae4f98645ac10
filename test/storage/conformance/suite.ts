/**
 * The ObjectStore conformance suite (STYLE.md §5): one `it` per behaviour, a fresh empty store per
 * test from `makeStore` (own temp dir, own bucket or own prefix). Every backend and decorator stack
 * runs it. Keys are block-shaped (`.../<id>_<index>_<len>`, len = body length) so that
 * compression stacks really compress. Nothing here depends on a backend's quirks.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readIntoOf, type ObjectInfo, type ObjectStore } from '../../../src/storage/object-store.js';
import { Errno, isFsError } from '../../../src/util/errno.js';

export interface ConformanceOptions {
  /** Objects created for the paging test; s3 passes > 1000 to cross the server's page size. */
  manyKeys?: number;
  /**
   * Declared exception (rclone-style): the server lists in directory-walk order, so `a/x` comes
   * before `a-c/x` (s3rver does; AWS, MinIO and our own backends use byte order). The order test
   * then checks the key set and sizes only.
   */
  serverListsInWalkOrder?: boolean;
}

/** A block-shaped key for `body` under `dir`. */
export const keyFor = (dir: string, body: Buffer, id = 1): string => `${dir}/${id}_0_${body.length}`;

export async function collect(it: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const info of it) out.push(info);
  return out;
}

export async function rejectsWith(p: Promise<unknown>, errno: Errno): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isFsError(err), `expected FsError ${Errno[errno]}, got ${String(err)}`);
    assert.equal(err.code, Errno[errno], `expected ${Errno[errno]}, got ${err.message}`);
    return true;
  });
}

/** Runs `fn` over `items` with at most `width` in flight. */
async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++];
      if (item !== undefined) await fn(item);
    }
  }));
}

export function storageConformance(name: string, makeStore: () => Promise<ObjectStore> | ObjectStore, opts: ConformanceOptions = {}): void {
  const manyKeys = opts.manyKeys ?? 25;

  describe(`ObjectStore conformance: ${name}`, function () {
    let store: ObjectStore;

    beforeEach(async function () {
      store = await makeStore();
    });

    afterEach(async function () {
      await store.close();
    });

    it('get returns exactly the bytes put, including every byte value', async function () {
      const body = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(4096)]);
      const key = keyFor('whole', body);
      await store.put(key, body);
      assert.deepEqual(await store.get(key), body);
    });

    it('ranged get returns the requested window', async function () {
      const body = randomBytes(10_000);
      const key = keyFor('ranged', body);
      await store.put(key, body);
      assert.deepEqual(await store.get(key, { offset: 0, length: 1 }), body.subarray(0, 1));
      assert.deepEqual(await store.get(key, { offset: 1234, length: 4321 }), body.subarray(1234, 5555));
      assert.deepEqual(await store.get(key, { offset: 9999, length: 1 }), body.subarray(9999));
    });

    it('ranged get past the end is short, and empty from the end on', async function () {
      const body = randomBytes(100);
      const key = keyFor('short', body);
      await store.put(key, body);
      assert.deepEqual(await store.get(key, { offset: 90, length: 50 }), body.subarray(90));
      assert.equal((await store.get(key, { offset: 100, length: 10 })).length, 0);
      assert.equal((await store.get(key, { offset: 5000, length: 10 })).length, 0);
    });

    it('ranged get of zero bytes is empty', async function () {
      const body = randomBytes(100);
      const key = keyFor('zero', body);
      await store.put(key, body);
      assert.equal((await store.get(key, { offset: 10, length: 0 })).length, 0);
    });

    it('a negative or fractional range is EINVAL', async function () {
      const body = randomBytes(10);
      const key = keyFor('badrange', body);
      await store.put(key, body);
      await rejectsWith(store.get(key, { offset: -1, length: 2 }), Errno.EINVAL);
      await rejectsWith(store.get(key, { offset: 0, length: 1.5 }), Errno.EINVAL);
    });

    it('get of a missing object is ENOENT, whole or ranged', async function () {
      await rejectsWith(store.get('missing/1_0_10'), Errno.ENOENT);
      await rejectsWith(store.get('missing/1_0_10', { offset: 0, length: 5 }), Errno.ENOENT);
    });

    it('a read into a caller buffer fills its start with the window, short at the end, 0 past it; ENOENT when missing', async function () {
      const body = randomBytes(10_000);
      const key = keyFor('into', body);
      await store.put(key, body);
      const dest = Buffer.alloc(6000, 0xee);
      assert.equal(await readIntoOf(store, key, { offset: 1234, length: 4321 }, dest), 4321);
      assert.deepEqual(dest.subarray(0, 4321), body.subarray(1234, 5555));
      assert.ok(dest.subarray(4321).every((b) => b === 0xee), 'bytes past the window are untouched');
      assert.equal(await readIntoOf(store, key, { offset: 9000, length: 5000 }, dest), 1000);
      assert.deepEqual(dest.subarray(0, 1000), body.subarray(9000));
      assert.equal(await readIntoOf(store, key, { offset: 10_000, length: 10 }, dest), 0);
      await rejectsWith(readIntoOf(store, 'missing/1_0_10', { offset: 0, length: 5 }, dest), Errno.ENOENT);
    });

    it('a read into a caller buffer sees an object replaced or deleted since an earlier read', async function () {
      const first = randomBytes(5000);
      const second = randomBytes(5000);
      const key = keyFor('into-replaced', first);
      const dest = Buffer.alloc(5000);
      await store.put(key, first);
      assert.equal(await readIntoOf(store, key, { offset: 0, length: 5000 }, dest), 5000);
      assert.deepEqual(dest, first);
      await store.put(key, second);
      assert.equal(await readIntoOf(store, key, { offset: 0, length: 5000 }, dest), 5000);
      assert.deepEqual(dest, second);
      await store.delete(key);
      await rejectsWith(readIntoOf(store, key, { offset: 0, length: 10 }, dest), Errno.ENOENT);
    });

    it('head reports the size and a modification time; ENOENT when missing', async function () {
      const before = Date.now();
      const body = randomBytes(777);
      const key = keyFor('head', body);
      await store.put(key, body);
      const info = await store.head(key);
      assert.equal(info.size, 777);
      assert.ok(info.mtime instanceof Date);
      // Object stores keep whole seconds; allow for that and for clock skew of a few seconds.
      assert.ok(Math.abs(info.mtime.getTime() - before) < 60_000, `mtime ${info.mtime.toISOString()} far from now`);
      await rejectsWith(store.head('nothing/1_0_1'), Errno.ENOENT);
    });

    it('put over an existing object replaces it', async function () {
      const a = Buffer.alloc(64, 'a');
      const b = randomBytes(64);
      const key = keyFor('over', a);
      await store.put(key, a);
      await store.put(key, b);
      assert.deepEqual(await store.get(key), b);
      assert.equal((await store.head(key)).size, 64);
      assert.deepEqual((await collect(store.list('over/'))).map((o) => o.key), [key]);
    });

    it('concurrent puts of one key leave one complete body', async function () {
      const bodies = Array.from({ length: 5 }, (_, i) => Buffer.alloc(50_000, i + 1));
      const key = keyFor('race', bodies[0] ?? Buffer.alloc(0));
      await Promise.all(bodies.map((b) => store.put(key, b)));
      const got = await store.get(key);
      assert.ok(bodies.some((b) => b.equals(got)), 'body is a mix of writers');
    });

    it('delete removes the object and is idempotent', async function () {
      const body = randomBytes(10);
      const key = keyFor('del', body);
      await store.put(key, body);
      await store.delete(key);
      await rejectsWith(store.get(key), Errno.ENOENT);
      await rejectsWith(store.head(key), Errno.ENOENT);
      await store.delete(key);
      await store.delete('never/was/1_0_3');
      assert.deepEqual(await collect(store.list('del/')), []);
    });

    it('an empty object can be put, read, listed and headed', async function () {
      const key = keyFor('empty', Buffer.alloc(0));
      await store.put(key, Buffer.alloc(0));
      assert.equal((await store.get(key)).length, 0);
      assert.equal((await store.head(key)).size, 0);
      const listed = await collect(store.list('empty/'));
      assert.deepEqual(listed.map((o) => [o.key, o.size]), [[key, 0]]);
    });

    it('large binary bodies round-trip, compressible or not', async function () {
      const noise = randomBytes(1 << 20);
      const zeros = Buffer.alloc(1 << 20);
      const text = Buffer.from('the quick brown fox jumps over the lazy dog\n'.repeat(20_000));
      for (const [i, body] of [noise, zeros, text].entries()) {
        const key = keyFor('big', body, i + 1);
        await store.put(key, body);
        assert.ok((await store.get(key)).equals(body), `body ${i} differs`);
        assert.equal((await store.head(key)).size, body.length);
      }
    });

    it('keys with non-ASCII characters are stored and listed as given', async function () {
      const body = Buffer.from('héllo');
      const keys = ['ünïcødé/日本語/1_0_6', 'emoji/😀 space/2_0_6', 'mixed/Ça-va+ok=1/3_0_6'];
      for (const k of keys) await store.put(k, body);
      for (const k of keys) assert.deepEqual(await store.get(k), body);
      const listed = (await collect(store.list(''))).map((o) => o.key).sort();
      assert.deepEqual(listed, [...keys].sort());
    });

    it('a body changed by the caller after put or get does not change the object', async function () {
      const body = Buffer.alloc(32, 7);
      const key = keyFor('copy', body);
      await store.put(key, body);
      body.fill(9);
      const got = await store.get(key);
      assert.deepEqual(got, Buffer.alloc(32, 7));
      got.fill(1);
      assert.deepEqual(await store.get(key), Buffer.alloc(32, 7));
    });

    it('list returns only keys under the prefix, in byte order, with sizes', async function () {
      const keys = ['p/b/1_0_1', 'p/a/1_0_2', 'p/a-c/1_0_3', 'p/a0/1_0_4', 'p/ab/1_0_5', 'q/1_0_6', 'pz/1_0_7'];
      for (const k of keys) {
        const len = Number(k.slice(k.lastIndexOf('_') + 1));
        await store.put(k, randomBytes(len));
      }
      let listed = await collect(store.list('p/'));
      if (opts.serverListsInWalkOrder === true) listed = listed.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
      // '-' (0x2d) < '/' (0x2f) < '0' (0x30) < 'b' (0x62): a flat byte order, not a directory walk order.
      assert.deepEqual(listed.map((o) => o.key), ['p/a-c/1_0_3', 'p/a/1_0_2', 'p/a0/1_0_4', 'p/ab/1_0_5', 'p/b/1_0_1']);
      assert.deepEqual(listed.map((o) => o.size), [3, 2, 4, 5, 1]);
      for (const o of listed) assert.ok(o.mtime instanceof Date);
    });

    it('list prefix need not end at a slash', async function () {
      const body = Buffer.from('x');
      for (const k of ['d/ab/1_0_1', 'd/abc/1_0_1', 'd/a/1_0_1', 'd/b/1_0_1', 'd/ab_1_0_1']) await store.put(k, body);
      assert.deepEqual((await collect(store.list('d/ab'))).map((o) => o.key), ['d/ab/1_0_1', 'd/ab_1_0_1', 'd/abc/1_0_1']);
      assert.deepEqual(await collect(store.list('d/zz')), []);
      assert.deepEqual(await collect(store.list('nothing-here/')), []);
    });

    it('list with startAfter begins strictly after that key, present or not', async function () {
      const body = Buffer.from('y');
      const keys = ['s/1/1_0_1', 's/2/1_0_1', 's/3/1_0_1', 's/4/1_0_1'];
      for (const k of keys) await store.put(k, body);
      assert.deepEqual((await collect(store.list('s/', { startAfter: 's/2/1_0_1' }))).map((o) => o.key), ['s/3/1_0_1', 's/4/1_0_1']);
      assert.deepEqual((await collect(store.list('s/', { startAfter: 's/2' }))).map((o) => o.key), ['s/2/1_0_1', 's/3/1_0_1', 's/4/1_0_1']);
      assert.deepEqual((await collect(store.list('s/', { startAfter: 's/' }))).map((o) => o.key), keys);
      assert.deepEqual(await collect(store.list('s/', { startAfter: 's/9' })), []);
    });

    it('list with limit stops after that many keys', async function () {
      const body = Buffer.from('z');
      for (const k of ['l/1/1_0_1', 'l/2/1_0_1', 'l/3/1_0_1']) await store.put(k, body);
      assert.deepEqual((await collect(store.list('l/', { limit: 2 }))).map((o) => o.key), ['l/1/1_0_1', 'l/2/1_0_1']);
      assert.deepEqual(await collect(store.list('l/', { limit: 0 })), []);
      assert.equal((await collect(store.list('l/', { limit: 10 }))).length, 3);
    });

    it(`list pages through ${manyKeys} keys with startAfter and limit, each key once and in order`, async function () {
      const body = Buffer.from('m');
      // Spread over a few directories so walks and merges have work to do.
      const keys = Array.from({ length: manyKeys }, (_, i) => `many/${String(i % 7)}/${i}_0_1`);
      await pool(keys, 16, (k) => store.put(k, body));
      const all = (await collect(store.list('many/'))).map((o) => o.key);
      assert.equal(all.length, manyKeys);
      assert.deepEqual(all, [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
      const pageSize = Math.max(3, Math.ceil(manyKeys / 3));
      const paged: string[] = [];
      for (;;) {
        const last = paged[paged.length - 1];
        const page = await collect(store.list('many/', last === undefined ? { limit: pageSize } : { limit: pageSize, startAfter: last }));
        assert.ok(page.length <= pageSize);
        paged.push(...page.map((o) => o.key));
        if (page.length < pageSize) break;
      }
      assert.deepEqual(paged, all);
    });

    it('a call with an aborted signal rejects with the abort reason', async function () {
      const ac = new AbortController();
      ac.abort();
      const body = Buffer.from('a');
      await assert.rejects(store.put(keyFor('abort', body), body, ac.signal), { name: 'AbortError' });
      await assert.rejects(store.get(keyFor('abort', body), undefined, ac.signal), { name: 'AbortError' });
    });
  });
}
