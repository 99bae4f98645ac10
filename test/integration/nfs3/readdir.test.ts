import assert from 'node:assert/strict';
import { NFS3_OK, NFS3ERR_TOOSMALL } from '../../../src/protocols/nfs/nfs3/types.js';
import type { DirEntry3 } from '../../helpers/nfs3-client.js';
import { sysCred } from '../../helpers/rpc-client.js';
import { startHarness, type Harness } from '../../helpers/nfs-harness.js';

const COUNT = 3000;
const names = Array.from({ length: COUNT }, (_, i) => `entry-${String(i).padStart(5, '0')}${'x'.repeat(i % 13)}`);

/** Bytes an entry3 takes: value-follows, fileid, name (padded), cookie. */
const entryBytes = (name: string): number => 4 + 8 + 4 + Math.ceil(Buffer.byteLength(name) / 4) * 4 + 8;

describe('NFSv3 READDIR / READDIRPLUS paging over a directory of thousands of entries', function () {
  this.timeout(120_000);
  let h: Harness;
  let dir: Buffer;

  before(async () => {
    h = await startHarness({ exports: [{ path: '/', squash: 'no_root_squash' }], cred: sysCred(0, 0) });
    const d = await h.client.mkdir(h.root, 'big');
    assert.ok(d.fh);
    dir = d.fh;
    for (let i = 0; i < COUNT; i += 100) {
      await Promise.all(names.slice(i, i + 100).map(async (n) => assert.equal((await h.client.create(dir, n)).status, NFS3_OK)));
    }
  });

  after(async () => {
    await h.close();
  });

  async function listAll(pageBytes: number, plus: boolean, start = 0n): Promise<{ entries: DirEntry3[]; pages: number }> {
    const entries: DirEntry3[] = [];
    let cookie = start;
    let pages = 0;
    for (;;) {
      const r = plus ? await h.client.readdirplus(dir, cookie, pageBytes, pageBytes) : await h.client.readdir(dir, cookie, pageBytes);
      assert.equal(r.status, NFS3_OK);
      assert.ok(r.bytes <= pageBytes, `reply of ${r.bytes} bytes exceeds ${pageBytes}`);
      pages++;
      entries.push(...r.entries);
      const last = r.entries.at(-1);
      if (r.eof) return { entries, pages };
      assert.ok(last !== undefined, 'a non-final page has entries');
      cookie = last.cookie;
    }
  }

  it('READDIR with a small count lists every entry exactly once, with . and .., over many pages', async () => {
    const { entries, pages } = await listAll(1024, false);
    assert.ok(pages > 50, `${pages} pages`);
    const seen = entries.map((e) => e.name);
    assert.equal(new Set(seen).size, seen.length, 'no duplicates');
    assert.deepEqual(seen.filter((n) => n !== '.' && n !== '..').sort(), [...names].sort());
    assert.ok(seen.includes('.') && seen.includes('..'));
    const cookies = entries.map((e) => e.cookie);
    assert.equal(new Set(cookies.map(String)).size, cookies.length, 'cookies are unique');
  });

  it('READDIRPLUS pages carry attributes and working handles, within maxcount', async () => {
    const { entries } = await listAll(4096, true);
    assert.equal(entries.length, COUNT + 2);
    for (const e of entries.slice(0, 50)) {
      assert.equal(e.attr?.fileid, e.fileid);
      assert.ok(e.fh);
      const g = await h.client.getattr(e.fh);
      assert.equal(g.attr?.fileid, e.fileid);
    }
  });

  it('fills each reply: the next entry would not have fit into count', async () => {
    const pageBytes = 2000;
    const first = await h.client.readdir(dir, 0n, pageBytes);
    const last = first.entries.at(-1);
    assert.ok(last);
    const next = await h.client.readdir(dir, last.cookie, pageBytes);
    const following = next.entries[0];
    assert.ok(following);
    assert.ok(first.bytes + entryBytes(following.name) > pageBytes, `reply of ${first.bytes} bytes had room for ${following.name}`);
  });

  it('resumes from any cookie it handed out, with READDIR and READDIRPLUS mixed', async () => {
    const all = (await listAll(8192, false)).entries;
    const mid = all[1500];
    assert.ok(mid);
    const rest = await listAll(3000, true, mid.cookie);
    assert.deepEqual(rest.entries.map((e) => e.name), all.slice(1501).map((e) => e.name));
  });

  it('never answers BAD_COOKIE: any cookie verifier is accepted, and cookies of removed entries still resume', async () => {
    const page = await h.client.readdir(dir, 0n, 4096);
    const last = page.entries.at(-1);
    assert.ok(last);
    const other = await h.client.readdir(dir, last.cookie, 4096, Buffer.from('garbage!'));
    assert.equal(other.status, NFS3_OK);
    assert.equal((await h.client.create(dir, 'temp-entry')).status, NFS3_OK);
    const withTemp = (await listAll(65536, false)).entries;
    const temp = withTemp.find((e) => e.name === 'temp-entry');
    assert.ok(temp);
    assert.equal((await h.client.remove(dir, 'temp-entry')).status, NFS3_OK);
    const after = await h.client.readdir(dir, temp.cookie, 65536);
    assert.equal(after.status, NFS3_OK);
    assert.deepEqual(after.entries.map((e) => e.name), withTemp.slice(withTemp.indexOf(temp) + 1).map((e) => e.name));
  });

  it('answers TOOSMALL when count cannot hold a single entry', async () => {
    assert.equal((await h.client.readdir(dir, 0n, 100)).status, NFS3ERR_TOOSMALL);
    assert.equal((await h.client.readdirplus(dir, 0n, 200, 200)).status, NFS3ERR_TOOSMALL);
  });
});
