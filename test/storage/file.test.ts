/**
 * What the file backend adds to the conformance suite: the on-disk layout (bucket path
 * concatenated with the key, spec §I), no way out of the root, atomic puts that leave no temp files.
 */
import assert from 'node:assert/strict';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { FREE_FLOOR, FileObjectStore } from '../../src/storage/file.js';
import { Errno, isFsError } from '../../src/util/errno.js';
import { evictPages } from '../helpers/page-cache.js';
import { tmpDir } from '../helpers/tmp.js';
import { collect, rejectsWith } from './conformance/suite.js';

describe('file object store', function () {
  it('an object is the file <bucket><key>, the bucket path concatenated as given', async function () {
    const dir = tmpDir('ferry-file-');
    await new FileObjectStore(`${dir}/`).put('vol/chunks/0/0/1_0_3', Buffer.from('abc'));
    assert.equal(readFileSync(`${dir}/vol/chunks/0/0/1_0_3`, 'utf8'), 'abc');
    // Without a trailing slash the last path component and the key run together, as in JuiceFS.
    await new FileObjectStore(`${dir}/jfs`).put('vol/x', Buffer.from('y'));
    assert.equal(readFileSync(`${dir}/jfsvol/x`, 'utf8'), 'y');
    assert.deepEqual((await collect(new FileObjectStore(`${dir}/jfs`).list(''))).map((o) => o.key), ['vol/x']);
  });

  it('keys that could leave the root or alias another key are EINVAL', async function () {
    const store = new FileObjectStore(`${tmpDir('ferry-file-')}/`);
    for (const key of ['../etc/passwd', 'a/../../b', '/abs/path', 'a//b', './a', 'a/./b', 'a/', 'a/..', '', 'nul\0byte']) {
      await rejectsWith(store.put(key, Buffer.from('x')), Errno.EINVAL);
      await rejectsWith(store.get(key), Errno.EINVAL);
    }
  });

  it('a put that would leave less than FREE_FLOOR free is ENOSPC and writes nothing; once space is back puts go on', async function () {
    const dir = tmpDir('ferry-file-');
    const total = 10 * 1024 ** 3; // a 10 GiB disk keeps 1 % free: ~102 MiB
    const floor = FREE_FLOOR.ratio * total;
    const space = { totalBytes: total, freeBytes: floor + 5 * 1024 * 1024 };
    const store = new FileObjectStore(`${dir}/`, { statfs: async () => ({ ...space }) });
    await store.put('v/1_0_4', Buffer.alloc(4 * 1024 * 1024));
    space.freeBytes = floor + 1024 * 1024; // that put and others filled the disk (near the floor, it is read again at once)
    await assert.rejects(store.put('v/2_0_4', Buffer.alloc(4 * 1024 * 1024)), (err: unknown) => {
      assert.ok(isFsError(err, Errno.ENOSPC));
      assert.match(err.message, /kept free/);
      return true;
    });
    assert.deepEqual(readdirSync(`${dir}/v`), ['1_0_4']);
    space.freeBytes = floor + 100 * 1024 * 1024; // objects deleted meanwhile
    await store.put('v/2_0_4', Buffer.alloc(4 * 1024 * 1024));
    assert.deepEqual(readdirSync(`${dir}/v`).sort(), ['1_0_4', '2_0_4']);
  });

  it('a relative root is refused', function () {
    assert.throws(() => new FileObjectStore('relative/dir/'), { errno: Errno.EINVAL });
  });

  it('a put leaves no temporary file behind, and listings skip those of a crashed put', async function () {
    const dir = tmpDir('ferry-file-');
    const store = new FileObjectStore(`${dir}/`);
    await store.put('d/1_0_1', Buffer.from('1'));
    await store.put('d/1_0_1', Buffer.from('2'));
    assert.deepEqual(readdirSync(`${dir}/d`), ['1_0_1']);
    writeFileSync(`${dir}/d/.2_0_1.ferry-tmp-0123456789abcdef`, 'partial');
    assert.deepEqual((await collect(store.list('d/'))).map((o) => o.key), ['d/1_0_1']);
  });

  it('a put over an existing object replaces it with a new file, never rewriting the old one in place', async function () {
    const dir = tmpDir('ferry-file-');
    const store = new FileObjectStore(`${dir}/`);
    await store.put('d/1_0_3', Buffer.from('old'));
    const fd = openSync(`${dir}/d/1_0_3`, 'r'); // a reader that opened the old object
    try {
      await store.put('d/1_0_3', Buffer.from('new'));
      const seen = Buffer.alloc(3);
      readSync(fd, seen, 0, 3, 0);
      assert.equal(seen.toString(), 'old');
    } finally {
      closeSync(fd);
    }
    assert.equal(readFileSync(`${dir}/d/1_0_3`, 'utf8'), 'new');
  });

  it('a put aborted while it runs leaves no object and no temp file behind, new key or replaced one', async function () {
    const dir = tmpDir('ferry-file-');
    const store = new FileObjectStore(`${dir}/`);
    await store.put('d/keep', Buffer.from('kept'));
    for (const key of ['d/new', 'd/keep']) {
      const ac = new AbortController();
      const put = store.put(key, Buffer.alloc(1000, 7), ac.signal);
      ac.abort(new Error('client went away')); // after put started: it has created its file by now or soon
      await assert.rejects(put, /client went away/);
    }
    assert.deepEqual(readdirSync(`${dir}/d`), ['keep']);
    assert.equal(readFileSync(`${dir}/d/keep`, 'utf8'), 'kept');
  });

  it('concurrent puts into one directory all land whole (they share directory syncs)', async function () {
    const store = new FileObjectStore(`${tmpDir('ferry-file-')}/`);
    const body = (i: number): Buffer => Buffer.alloc(300_000 + i, i);
    await Promise.all(Array.from({ length: 12 }, (_, i) => store.put(`d/1_${i}_x`, body(i))));
    await store.put('d/2_0_x', body(20)); // after the shared syncs settled: a fresh one
    for (let i = 0; i < 12; i++) assert.deepEqual(await store.get(`d/1_${i}_x`), body(i));
    assert.deepEqual(await store.get('d/2_0_x'), body(20));
  });

  it('a name held by a directory is no object: get and head are ENOENT, put is EEXIST, delete is fine', async function () {
    const dir = tmpDir('ferry-file-');
    const store = new FileObjectStore(`${dir}/`);
    await store.put('a/b/1_0_1', Buffer.from('x'));
    await rejectsWith(store.get('a/b'), Errno.ENOENT);
    await rejectsWith(store.get('a/b', { offset: 0, length: 1 }), Errno.ENOENT);
    await rejectsWith(store.head('a/b'), Errno.ENOENT);
    await rejectsWith(store.put('a/b', Buffer.from('y')), Errno.EEXIST);
    await store.delete('a/b');
    assert.ok(existsSync(`${dir}/a/b/1_0_1`));
  });

  it('a key below an existing object is ENOENT to read and EEXIST to write (declared limit of a file tree)', async function () {
    const dir = tmpDir('ferry-file-');
    mkdirSync(`${dir}/f`, { recursive: true });
    writeFileSync(`${dir}/f/x`, 'file');
    const store = new FileObjectStore(`${dir}/`);
    await rejectsWith(store.get('f/x/y'), Errno.ENOENT);
    await rejectsWith(store.head('f/x/y'), Errno.ENOENT);
    await rejectsWith(store.put('f/x/y', Buffer.from('z')), Errno.EEXIST);
    await rejectsWith(store.put('f/x/y/z', Buffer.from('z')), Errno.EEXIST);
    await store.delete('f/x/y');
    assert.equal(readFileSync(`${dir}/f/x`, 'utf8'), 'file');
  });

  it('reads an object whose pages are partly in the page cache: the cached part at once, the rest from disk', async function () {
    const dir = tmpDir('ferry-file-');
    const store = new FileObjectStore(`${dir}/`);
    const data = Buffer.alloc(64 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 13 + (i >> 10)) & 0xff;
    await store.put('v/1_0_65536', data);
    // the second half rewritten with O_DIRECT (same bytes): its cached pages are dropped
    evictPages(`${dir}/v/1_0_65536`, 8);
    for (const [offset, length] of [[0, 65536], [4000, 40000], [32768, 32768], [100, 10]] as const) {
      const dest = Buffer.alloc(length + 7, 0xee);
      assert.equal(await store.readInto('v/1_0_65536', { offset, length }, dest), length);
      assert.deepEqual(dest.subarray(0, length), data.subarray(offset, offset + length), `${offset}+${length}`);
      assert.deepEqual(dest.subarray(length), Buffer.alloc(7, 0xee));
    }
    assert.deepEqual(await store.get('v/1_0_65536', { offset: 60000, length: 5536 }), data.subarray(60000));
  });
});
