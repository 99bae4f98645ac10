/**
 * readCached (native/read-cached.c): copies what the page cache holds, answers -1 for what it does
 * not hold instead of waiting for the disk, and reports other errors as Node's fs calls do. Pages
 * are taken out of the cache with evictPages (a rewrite with O_DIRECT), which the test
 * directory's file system (ext4 here) supports.
 */
import assert from 'node:assert/strict';
import { closeSync, openSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CACHED_READ_MAX, cachedReadsAvailable, readCached } from '../../src/util/cached-read.js';
import { evictPages, PAGE } from '../helpers/page-cache.js';
import { tmpDir } from '../helpers/tmp.js';

describe('readCached (page-cache reads on the event loop)', function () {
  let path: string;
  let fd: number;
  const content = Buffer.alloc(8 * PAGE);
  for (let i = 0; i < content.length; i++) content[i] = (i * 7 + (i >> 12)) & 0xff;

  beforeEach(function () {
    path = join(tmpDir('ferry-cached-read-'), 'data');
    writeFileSync(path, content);
    fd = openSync(path, 'r');
  });
  afterEach(function () {
    closeSync(fd);
  });

  it('is built and loads (npm run build builds native/read-cached.c)', function () {
    assert.equal(cachedReadsAvailable(), true);
  });

  it('copies cached bytes at any offset into the buffer, and answers 0 at end of file', function () {
    const buf = Buffer.alloc(3 * PAGE + 10, 0xee);
    assert.equal(readCached(fd, buf, 10, 3 * PAGE, PAGE + 5), 3 * PAGE);
    assert.deepEqual(buf.subarray(10), content.subarray(PAGE + 5, 4 * PAGE + 5));
    assert.deepEqual(buf.subarray(0, 10), Buffer.alloc(10, 0xee), 'bytes before offset untouched');
    assert.equal(readCached(fd, buf, 0, 100, content.length), 0);
    assert.equal(readCached(fd, buf, 0, 100, content.length - 40), 40, 'short at the end of file');
  });

  it('answers -1 for pages not in the page cache, without reading them; a normal read caches them', function () {
    evictPages(path, 0, 8);
    const buf = Buffer.alloc(2 * PAGE);
    assert.equal(readCached(fd, buf, 0, 2 * PAGE, 2 * PAGE), -1);
    assert.equal(readSync(fd, buf, 0, 2 * PAGE, 2 * PAGE), 2 * PAGE);
    buf.fill(0);
    assert.equal(readCached(fd, buf, 0, 2 * PAGE, 2 * PAGE), 2 * PAGE);
    assert.deepEqual(buf, content.subarray(2 * PAGE, 4 * PAGE));
  });

  it('for a range whose end is not cached, copies only a cached beginning or nothing, never waits for the rest', function () {
    evictPages(path, 4, 4);
    const buf = Buffer.alloc(8 * PAGE);
    const n = readCached(fd, buf, 0, 8 * PAGE, 0);
    // Linux copies the cached pages before the first missing one, unless readahead marks make it
    // give up at once (this host's kernel gives up): either way, not the whole range
    assert.ok(n === -1 || (n > 0 && n <= 4 * PAGE), `read ${n}`);
    if (n > 0) assert.deepEqual(buf.subarray(0, n), content.subarray(0, n));
  });

  it('leaves reads longer than CACHED_READ_MAX to the thread pool', function () {
    const big = join(tmpDir('ferry-cached-read-'), 'big');
    writeFileSync(big, Buffer.alloc(CACHED_READ_MAX + PAGE, 1));
    const bigFd = openSync(big, 'r');
    try {
      assert.equal(readCached(bigFd, Buffer.alloc(CACHED_READ_MAX + 1), 0, CACHED_READ_MAX + 1, 0), -1);
      assert.equal(readCached(bigFd, Buffer.alloc(CACHED_READ_MAX), 0, CACHED_READ_MAX, 0), CACHED_READ_MAX);
    } finally {
      closeSync(bigFd);
    }
  });

  it('throws errors as fs calls do (code, negative errno, syscall), and refuses ranges outside the buffer', function () {
    const closed = openSync(path, 'r');
    closeSync(closed);
    assert.throws(() => readCached(closed, Buffer.alloc(10), 0, 10, 0), (err: NodeJS.ErrnoException) => {
      assert.equal(err.code, 'EBADF');
      assert.equal(err.errno, -9);
      assert.equal(err.syscall, 'preadv2');
      return true;
    });
    assert.throws(() => readCached(fd, Buffer.alloc(10), 5, 10, 0), RangeError);
    assert.throws(() => readCached(fd, Buffer.alloc(10), -1, 1, 0), RangeError);
  });
});
