/**
 * davfs2 (Debian package), the Linux FUSE WebDAV file system, mounting `ferry serve` as root with
 * a private config and secrets file (noninteractive; davfs2 1.6.1 needs `buf_size 64` to list
 * directories): create, read, list, rename, mkdir and delete through the mount, each checked over
 * HTTP; two rewrites of one file within one second get different ETags, so a write based on a
 * version the server no longer has is refused (412) and davfs2 keeps it in lost+found.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type FerryServeProcess, startFerryServe } from '../../helpers/ferry-serve.js';
import { tmpDir } from '../../helpers/tmp.js';

const run = promisify(execFile);

/** Polls `probe` every 50 ms until it returns true; fails after `ms` with `what`. */
async function eventually(what: string, probe: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!await probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The group id of davfs2's unprivileged user (from /etc/group). */
function davfs2Gid(): number {
  const line = readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.startsWith('davfs2:'));
  const gid = Number(line?.split(':')[2]);
  if (line === undefined || !Number.isInteger(gid)) throw new Error('no davfs2 group: is the davfs2 Debian package installed?');
  return gid;
}

describe('davfs2 FUSE mount of ferry serve (WebDAV)', function () {
  this.timeout(120_000);
  let ferry: FerryServeProcess;
  let mnt: string;
  let mounted = false;

  before(async function () {
    if (userInfo().uid !== 0) throw new Error('the davfs2 test mounts a FUSE file system and must run as root');
    if (!existsSync('/usr/sbin/mount.davfs')) throw new Error('mount.davfs missing: install the davfs2 Debian package (npm test installs it)');
    ferry = await startFerryServe();
    const dir = tmpDir('ferry-davfs2-');
    chmodSync(dir, 0o755); // davfs2 drops to its own user and must reach the cache directory
    mnt = join(dir, 'mnt');
    const cache = join(dir, 'cache');
    mkdirSync(mnt);
    mkdirSync(cache);
    chownSync(cache, 0, davfs2Gid());
    chmodSync(cache, 0o775);
    const secrets = join(dir, 'secrets');
    writeFileSync(secrets, `${ferry.base}/ anonymous anonymous\n`, { mode: 0o600 });
    const conf = join(dir, 'davfs2.conf');
    writeFileSync(conf, [
      'buf_size 64', `cache_dir ${cache}`, `secrets ${secrets}`, 'ask_auth 0', 'use_locks 1',
      'delay_upload 0', 'file_refresh 0', 'dir_refresh 0', '',
    ].join('\n'));
    await run('mount.davfs', [`${ferry.base}/`, mnt, '-o', `conf=${conf},uid=0,gid=0`], { timeout: 30_000 })
      .catch((err: { stderr?: string }) => { throw new Error(`mount.davfs failed: ${err.stderr ?? String(err)}`); });
    mounted = true;
  });

  after(async () => {
    // umount.davfs waits until davfs2 has uploaded what is still dirty
    if (mounted) await run('umount', [mnt], { timeout: 60_000 });
    await ferry?.stop();
  });

  const http = (path: string, init?: RequestInit): Promise<Response> => fetch(`${ferry.base}${path}`, init);
  const serverHas = (path: string, content: string) => async (): Promise<boolean> => {
    const r = await http(path);
    return r.status === 200 && await r.text() === content;
  };

  it('create, read, list, rename, mkdir and delete through the mount reach the server', async () => {
    writeFileSync(join(mnt, 'a.txt'), 'one\n');
    assert.equal(readFileSync(join(mnt, 'a.txt'), 'utf8'), 'one\n');
    await eventually('the server has a.txt', serverHas('/a.txt', 'one\n'));

    mkdirSync(join(mnt, 'sub'));
    assert.equal((await http('/sub/', { method: 'PROPFIND', headers: { Depth: '0' } })).status, 207);
    await http('/sub/from-http.txt', { method: 'PUT', body: 'made over HTTP\n' });
    // davfs2 re-reads a directory once its cached listing is older than dir_refresh, in whole seconds
    await eventually('a file PUT over HTTP is listed in the mount', () => Promise.resolve(readdirSync(join(mnt, 'sub')).includes('from-http.txt')));
    assert.equal(readFileSync(join(mnt, 'sub', 'from-http.txt'), 'utf8'), 'made over HTTP\n');

    renameSync(join(mnt, 'a.txt'), join(mnt, 'sub', 'b.txt'));
    assert.deepEqual(readdirSync(join(mnt, 'sub')).sort(), ['b.txt', 'from-http.txt']);
    assert.equal((await http('/a.txt')).status, 404);
    assert.equal(await (await http('/sub/b.txt')).text(), 'one\n');

    unlinkSync(join(mnt, 'sub', 'b.txt'));
    unlinkSync(join(mnt, 'sub', 'from-http.txt'));
    rmdirSync(join(mnt, 'sub'));
    assert.equal((await http('/sub/b.txt')).status, 404);
    assert.equal((await http('/sub/')).status, 404);
  });

  it('two rewrites of one file within a second get different ETags; a write based on the older one is refused (412) and davfs2 keeps it in lost+found', async () => {
    const file = join(mnt, 'r.txt');
    writeFileSync(file, 'AAAA\n');
    await eventually('the server has the first version', serverHas('/r.txt', 'AAAA\n'));
    const first = (await http('/r.txt', { method: 'HEAD' })).headers.get('etag');
    assert.equal(readFileSync(file, 'utf8'), 'AAAA\n', 'davfs2 now caches the first version with its ETag');
    // same size, same second, over HTTP behind davfs2's back
    assert.equal((await http('/r.txt', { method: 'PUT', body: 'BBBB\n' })).status, 204);
    const second = (await http('/r.txt', { method: 'HEAD' })).headers.get('etag');
    assert.ok(first !== null && second !== null && first !== second, `ETags ${first} and ${second} must differ`);
    // davfs2 writes back its change with If-Match: <first>; the server must refuse it, not overwrite BBBB
    writeFileSync(file, 'CCCC\n');
    await eventually('davfs2 moves the refused version to lost+found', () =>
      Promise.resolve(readdirSync(join(mnt, 'lost+found')).some((n) => n.startsWith('r.txt') && readFileSync(join(mnt, 'lost+found', n), 'utf8') === 'CCCC\n')));
    assert.equal(await (await http('/r.txt')).text(), 'BBBB\n');
    // davfs2 dropped its node for r.txt; once it re-lists the directory it has the server's version
    // and ETag, and the next write through the mount goes through
    await eventually('the mount shows the server version', () => Promise.resolve(existsSync(file) && readFileSync(file, 'utf8') === 'BBBB\n'));
    writeFileSync(file, 'DDDD\n');
    await eventually('the server has the rewrite made through the mount', serverHas('/r.txt', 'DDDD\n'));
    assert.notEqual((await http('/r.txt', { method: 'HEAD' })).headers.get('etag'), second);
  });
});
