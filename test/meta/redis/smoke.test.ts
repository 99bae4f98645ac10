import assert from 'node:assert/strict';
import { freshRedis, mk, name, tick } from './fixture.js';
import { FileType, ROOT_INODE } from '../../../src/meta/types.js';

describe('redis smoke', () => {
  it('mknod then lookup', async () => {
    const f = await freshRedis();
    try {
      const ino = await mk(f.engine, ROOT_INODE, 'a');
      const l = await f.engine.doLookup(ROOT_INODE, name('a'));
      assert.equal(l.ino, ino);
      const d = await mk(f.engine, ROOT_INODE, 'd', FileType.Directory);
      const root = await f.engine.doGetAttr(ROOT_INODE);
      assert.equal(root.nlink, 3);
      const u = await f.engine.doUnlink({ parent: ROOT_INODE, name: name('a'), expectIno: ino, keepOpen: false, sid: 0, trash: null, now: tick(), rmdir: false });
      assert.equal(u.deleted, true);
      await f.engine.doRename({ srcParent: ROOT_INODE, srcName: name('d'), dstParent: ROOT_INODE, dstName: name('e'), flags: 0, expectSrcIno: d, expectDstIno: null, dstKeepOpen: false, sid: 0, trash: null, now: tick() });
      const page = await f.engine.doReaddir(ROOT_INODE, 0n, 100, true);
      assert.deepEqual(page.entries.map((e) => e.name.toString()), ['e']);
    } finally { await f.cleanup(); }
  });
});
