import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { decryptSecret, parseSetting } from '../../src/meta/format-setting.js';
import { openMeta } from '../../src/meta/open.js';
import { EngineLockStore, LockManager } from '../../src/protocols/webdav/locks.js';
import { tmpDir } from '../helpers/tmp.js';

const CLI = resolve('dist/src/cli/main.js');
const FIXTURE = '/work/shared/fixtures/juicefs/metadata.sample.json';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a separate process. */
function ferry(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      done({ code, stdout, stderr });
    });
  });
}

async function ok(args: string[], env?: Record<string, string>): Promise<Run> {
  const r = await ferry(args, env);
  assert.equal(r.code, 0, `ferry ${args.join(' ')} failed: ${r.stderr}`);
  return r;
}

function storedSetting(dbPath: string): string {
  const db = new Database(dbPath, { readonly: true });
  try {
    const row = db.prepare("SELECT value FROM jfs_setting WHERE name = 'format'").get() as { value: string } | undefined;
    assert.ok(row !== undefined, 'setting row exists');
    return row.value;
  } finally {
    db.close();
  }
}

describe('ferry admin commands (format, status, dump, load) on sqlite3://', () => {
  let dir: string;
  beforeEach(() => {
    dir = tmpDir('ferry-cli-');
  });

  it('format writes the JuiceFS default setting, one field per line in struct order', async () => {
    const db = join(dir, 'meta.db');
    await ok(['format', `sqlite3://${db}`, 'vol-one', '--bucket', join(dir, 'data')]);
    const json = storedSetting(db);
    const uuid = /"UUID": "([0-9a-f-]+)"/.exec(json)?.[1] ?? '';
    assert.match(uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(json, [
      '{', '"Name": "vol-one",', `"UUID": "${uuid}",`, '"Storage": "file",', '"Tiers": {', '"0": {', '"ID": 0,',
      '"StorageClass": "",', '"Tag": ""', '}', '},', `"Bucket": "${join(dir, 'data')}/",`, '"BlockSize": 4096,',
      '"Compression": "none",', '"EncryptAlgo": "aes256gcm-rsa",', '"TrashDays": 1,', '"MetaVersion": 1,',
      '"MinClientVersion": "1.1.0-A",', '"DirStats": true,', '"EnableACL": false', '}',
    ].join('\n'));
    assert.equal(readFileSync(join(dir, 'data', 'vol-one', 'juicefs_uuid'), 'utf8'), uuid, 'the volume marker object (spec §A)');
  });

  it('format stores the secret key encrypted with the volume UUID, taking it from the environment too', async () => {
    const db = join(dir, 'meta.db');
    await ok(['format', `sqlite3://${db}`, 'vol-two', '--storage', 's3', '--bucket', 'http://127.0.0.1:9000/b', '--access-key', 'AK',
      '--block-size', '1000', '--compression', 'zstd', '--trash-days', '0', '--capacity', '2', '--inodes', '500', '--hash-prefix'],
    { SECRET_KEY: 'top-secret' });
    const f = parseSetting(storedSetting(db));
    assert.equal(f.AccessKey, 'AK');
    assert.equal(f.KeyEncrypted, true);
    assert.notEqual(f.SecretKey, 'top-secret');
    assert.equal(decryptSecret(f, f.SecretKey ?? ''), 'top-secret');
    assert.equal(f.BlockSize, 512, 'block size rounded down to a power of two');
    assert.equal(f.Compression, 'zstd');
    assert.equal(f.TrashDays, 0);
    assert.equal(f.Capacity, 2 * 2 ** 30);
    assert.equal(f.Inodes, 500);
    assert.equal(f.HashPrefix, true);
    assert.equal(f.Bucket, 'http://127.0.0.1:9000/b');
  });

  it('format refuses an invalid volume name and a changed block size, but updates mutable fields', async () => {
    const db = join(dir, 'meta.db');
    const bad = await ferry(['format', `sqlite3://${db}`, 'Bad_Name']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid volume name/);
    await ok(['format', `sqlite3://${db}`, 'vol-three', '--bucket', join(dir, 'data')]);
    const uuid = parseSetting(storedSetting(db)).UUID;
    const changed = await ferry(['format', `sqlite3://${db}`, 'vol-three', '--block-size', '1024']);
    assert.equal(changed.code, 1, changed.stdout);
    await ok(['format', `sqlite3://${db}`, 'vol-three', '--trash-days', '7']);
    const f = parseSetting(storedSetting(db));
    assert.equal(f.TrashDays, 7);
    assert.equal(f.UUID, uuid, 'the UUID survives a re-format');
    assert.equal(f.BlockSize, 4096);
  });

  it('status prints the setting without secrets, the counters and the sessions', async () => {
    const db = join(dir, 'meta.db');
    // a secret no temp dir name can contain by chance (a random dir name once held "sk")
    await ok(['format', `sqlite3://${db}`, 'vol-four', '--bucket', join(dir, 'data'), '--secret-key', 'SECRET-key_4711']);
    const text = await ok(['status', `sqlite3://${db}`]);
    assert.match(text.stdout, /Volume: +vol-four \(/);
    assert.match(text.stdout, /Sessions: +0/);
    assert.doesNotMatch(text.stdout, /SECRET-key_4711/);
    const json = JSON.parse((await ok(['status', `sqlite3://${db}`, '--json'])).stdout) as {
      Setting: { Name: string; SecretKey: string }; Counters: { usedInodes: number; nextInode: number }; Sessions: unknown[];
    };
    assert.equal(json.Setting.Name, 'vol-four');
    assert.equal(json.Setting.SecretKey, 'removed');
    assert.equal(json.Counters.usedInodes, 0);
    assert.deepEqual(json.Sessions, []);
  });

  it('load then dump reproduces the JuiceFS fixture, to a file, to stdout and through gzip', async () => {
    const db = join(dir, 'meta.db');
    await ok(['load', `sqlite3://${db}`, FIXTURE]);
    const fixture = readFileSync(FIXTURE, 'utf8');
    await ok(['dump', `sqlite3://${db}`, join(dir, 'out.json')]);
    assert.equal(readFileSync(join(dir, 'out.json'), 'utf8'), fixture);
    assert.equal((await ok(['dump', `sqlite3://${db}`])).stdout, fixture);
    await ok(['dump', `sqlite3://${db}`, join(dir, 'out.json.gz')]);
    const db2 = join(dir, 'meta2.db');
    await ok(['load', `sqlite3://${db2}`, join(dir, 'out.json.gz')]);
    assert.equal((await ok(['dump', `sqlite3://${db2}`])).stdout, fixture);
    const sub = (await ok(['dump', `sqlite3://${db2}`, '--subdir', 'd1'])).stdout;
    assert.equal(sub, readFileSync('/work/shared/fixtures/juicefs/metadata-sub.sample.json', 'utf8'));
  });

  it('load refuses a volume that already has files, and a malformed dump', async () => {
    const db = join(dir, 'meta.db');
    await ok(['load', `sqlite3://${db}`, FIXTURE]);
    const again = await ferry(['load', `sqlite3://${db}`, FIXTURE]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /ENOTEMPTY/);
    const bad = await ferry(['load', `sqlite3://${join(dir, 'other.db')}`, '/work/shared/fixtures/juicefs/README.md']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /EINVAL/);
  });
});

describe('ferry webdav-locks', () => {
  it('lists the locks of the lock table (text and --json), breaks one with --remove (none for an unknown token) and all with --remove-all', async () => {
    const dir = tmpDir('ferry-cli-');
    const url = `sqlite3://${join(dir, 'meta.db')}`;
    await ok(['format', url, 'locked', '--bucket', join(dir, 'data')]);
    const { meta } = await openMeta(url);
    const tokens: string[] = [];
    try {
      await meta.load();
      const locks = new LockManager(new EngineLockStore(meta));
      for (const [path, scope] of [[['docs', 'a b.txt'], 'exclusive'], [['docs'], 'shared']] as const) {
        const l = await locks.lock({ root: path.map((p) => Buffer.from(p)), scope, depth: 0, ownerXml: '<D:href>mailto:eve@example.com</D:href>',
          timeoutSec: 600, principal: 'eve' }, () => '/');
        tokens.push(l.token);
      }
    } finally {
      await meta.close();
    }
    const text = (await ok(['webdav-locks', url])).stdout;
    assert.match(text, /^2 WebDAV lock\(s\)\n/);
    assert.match(text, new RegExp(`${tokens[0]}  exclusive, depth 0  /docs/a%20b\\.txt  user eve  owner <D:href>mailto:eve@example.com</D:href>  expires \\S+ \\(in (599|600) s\\)`));
    const listed = JSON.parse((await ok(['webdav-locks', url, '--json'])).stdout) as { token: string; href: string; scope: string }[];
    assert.deepEqual(listed.map((l) => [l.href, l.scope]).sort(), [['/docs', 'shared'], ['/docs/a%20b.txt', 'exclusive']]);

    const unknown = await ferry(['webdav-locks', url, '--remove', tokens[0] ?? '', 'urn:uuid:00000000-0000-4000-8000-00000000dead']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no lock with token urn:uuid:00000000-0000-4000-8000-00000000dead \(nothing removed\)/);
    assert.equal((JSON.parse((await ok(['webdav-locks', url, '--json'])).stdout) as unknown[]).length, 2);

    const after = JSON.parse((await ok(['webdav-locks', url, '--json', '--remove', tokens[0] ?? ''])).stdout) as { token: string }[];
    assert.deepEqual(after.map((l) => l.token), [tokens[1]]);
    assert.equal((await ok(['webdav-locks', url, '--remove-all'])).stdout, '0 WebDAV lock(s)\n');
  });
});
