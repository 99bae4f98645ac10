import assert from 'node:assert/strict';
import { read, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { ReadFds } from '../../../src/util/read-fds.js';
import { tmpDir } from '../../helpers/tmp.js';

/**
 * Descriptors this process has open on the test files (paths containing `ferry-fds-`): other
 * descriptors come and go with whatever earlier tests left closing in the background.
 */
const openFds = (): number => readdirSync('/proc/self/fd').filter((fd) => {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`).includes('ferry-fds-');
  } catch {
    return false; // closed since the listing
  }
}).length;

function readByte(fd: number): Promise<number> {
  const b = Buffer.alloc(1);
  return new Promise((resolve, reject) => read(fd, b, 0, 1, 0, (err) => (err === null ? resolve(b[0] ?? -1) : reject(err))));
}

describe('ReadFds (file store read descriptors)', () => {
  const files = (n: number): string[] => {
    const dir = tmpDir('ferry-fds-');
    return Array.from({ length: n }, (_, i) => {
      const p = `${dir}/f${i}`;
      writeFileSync(p, Buffer.from([i]));
      return p;
    });
  };

  it('reuses one descriptor per file and keeps at most `max`, closing the least recently used', async () => {
    const paths = files(5);
    const fds = new ReadFds({ max: 2, idleMs: 60_000 });
    const base = openFds();
    const seen = new Set<number>();
    for (let round = 0; round < 3; round++) {
      const p = paths[0] ?? '';
      assert.equal(await fds.use(p, async (fd) => { seen.add(fd); return readByte(fd); }), 0);
    }
    assert.equal(seen.size, 1, 'the same descriptor served every read of one file');
    for (const [i, p] of paths.entries()) assert.equal(await fds.use(p, readByte), i);
    assert.equal(fds.size, 2);
    await new Promise((r) => setTimeout(r, 20)); // closes run on the thread pool
    assert.equal(openFds() - base, 2, 'descriptors beyond max are closed');
    fds.clear();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(openFds(), base);
  });

  it('closes descriptors idle for idleMs', async () => {
    const paths = files(3);
    const fds = new ReadFds({ max: 10, idleMs: 30 });
    const base = openFds();
    for (const p of paths) await fds.use(p, readByte);
    assert.equal(fds.size, 3);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(fds.size, 0);
    assert.equal(openFds(), base);
  });

  it('a dropped descriptor stays open for the read using it, then closes; the next read opens the file again', async () => {
    const [p = ''] = files(1);
    const fds = new ReadFds({ max: 10, idleMs: 60_000 });
    const base = openFds();
    let during = -1;
    await fds.use(p, async (fd) => {
      fds.drop(p);
      during = await readByte(fd);
    });
    assert.equal(during, 0);
    assert.equal(fds.size, 0);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(openFds(), base);
    writeFileSync(p, Buffer.from([9]));
    assert.equal(await fds.use(p, readByte), 9);
    fds.clear();
  });

  it('a file that cannot be opened rejects with the fs error and is not kept', async () => {
    const fds = new ReadFds({ max: 10, idleMs: 60_000 });
    await assert.rejects(fds.use(`${tmpDir('ferry-fds-')}/missing`, readByte), (err: NodeJS.ErrnoException) => err.code === 'ENOENT');
    await new Promise((r) => setImmediate(r));
    assert.equal(fds.size, 0);
  });
});
