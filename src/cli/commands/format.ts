/**
 * `ferry format <meta-url> <name>`: creates a volume setting (spec §A) with JuiceFS's defaults, or
 * updates the mutable fields given on the command line of an existing one (immutable changes are
 * refused with EEXIST by Meta.format, with or without --force).
 * Secrets are stored encrypted (§A.1). A new volume's object prefix must be empty; it then gets
 * the `juicefs_uuid` object (storage/volume-marker.ts), as `juicefs format` does.
 */
import { randomUUID } from 'node:crypto';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { goMarshal } from '../../meta/dump/go-json.js';
import { encryptSecret, formatToGo, removeSecrets, VOLUME_NAME_RE } from '../../meta/format-setting.js';
import type { Format } from '../../meta/types.js';
import { createObjectStore } from '../../storage/open.js';
import { putVolumeMarker, removeVolumeMarker } from '../../storage/volume-marker.js';
import { Errno, FsError, isFsError } from '../../util/errno.js';
import { storageSetting } from '../../vfs/open.js';
import { nonNegativeInt, out, withMeta } from '../io.js';

interface FormatOptions {
  storage: string;
  bucket?: string;
  blockSize: number;
  compression: string;
  trashDays: number;
  capacity: number;
  inodes: number;
  hashPrefix: boolean;
  shards: number;
  accessKey?: string;
  secretKey?: string;
  sessionToken?: string;
  force: boolean;
}

/** Block size in KiB rounded down to a power of two within [64, 16384], as JuiceFS fixes it. */
export function fixBlockSize(kib: number): number {
  if (kib < 64) return 64;
  if (kib > 16384) return 16384;
  return 2 ** Math.floor(Math.log2(kib));
}

function defaultBucket(storage: string): string {
  if (storage !== 'file') throw new FsError(Errno.EINVAL, `--bucket is required for --storage ${storage}`);
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  return root ? '/var/jfs' : resolve(homedir(), '.juicefs', 'local');
}

/** The bucket as stored: for `file`, an absolute path ending in `/` (objects are <Bucket><Name>/...). */
function normaliseBucket(storage: string, bucket: string): string {
  if (storage !== 'file') return bucket;
  const abs = resolve(bucket.replace(/^file:\/\//, ''));
  return abs.endsWith('/') ? abs : `${abs}/`;
}

function newSetting(name: string, o: FormatOptions): Format {
  const f: Format = {
    Name: name,
    UUID: randomUUID(),
    Storage: o.storage,
    Tiers: { 0: { ID: 0, StorageClass: '', Tag: '' } },
    Bucket: normaliseBucket(o.storage, o.bucket ?? defaultBucket(o.storage)),
    BlockSize: fixBlockSize(o.blockSize),
    Compression: o.compression,
    EncryptAlgo: 'aes256gcm-rsa',
    TrashDays: o.trashDays,
    MetaVersion: 1,
    MinClientVersion: '1.1.0-A',
    DirStats: true,
    EnableACL: false,
  };
  if (o.shards > 0) f.Shards = o.shards;
  if (o.hashPrefix) f.HashPrefix = true;
  if (o.capacity > 0) f.Capacity = o.capacity * 2 ** 30;
  if (o.inodes > 0) f.Inodes = o.inodes;
  if (o.accessKey !== undefined && o.accessKey !== '') f.AccessKey = o.accessKey;
  return f;
}

/** Applies the options the user actually gave to an existing setting. */
function updatedSetting(old: Format, o: FormatOptions, given: (opt: string) => boolean): Format {
  const f: Format = { ...old };
  if (given('storage')) f.Storage = o.storage;
  if (given('bucket') && o.bucket !== undefined) f.Bucket = normaliseBucket(f.Storage, o.bucket);
  if (given('blockSize')) f.BlockSize = fixBlockSize(o.blockSize);
  if (given('compression')) f.Compression = o.compression;
  if (given('trashDays')) f.TrashDays = o.trashDays;
  if (given('capacity')) f.Capacity = o.capacity * 2 ** 30;
  if (given('inodes')) f.Inodes = o.inodes;
  if (given('hashPrefix')) f.HashPrefix = o.hashPrefix;
  if (given('shards')) f.Shards = o.shards;
  if (given('accessKey')) f.AccessKey = o.accessKey ?? '';
  return f;
}

/** Seals newly given secrets and any plain ones left from an old setting; sets KeyEncrypted. */
function sealSecrets(f: Format, o: FormatOptions, given: (opt: string) => boolean, wasSealed: boolean): Format {
  const out: Format = { ...f };
  for (const [field, opt] of [['SecretKey', 'secretKey'], ['SessionToken', 'sessionToken']] as const) {
    if (given(opt)) {
      const v = o[opt] ?? '';
      if (v === '') delete out[field];
      else out[field] = encryptSecret(out, v);
    } else if (!wasSealed) {
      const v = out[field];
      if (v !== undefined && v !== '') out[field] = encryptSecret(out, v);
    }
  }
  if (!wasSealed && out.EncryptKey !== undefined && out.EncryptKey !== '') out.EncryptKey = encryptSecret(out, out.EncryptKey);
  const any = [out.SecretKey, out.SessionToken, out.EncryptKey].some((s) => s !== undefined && s !== '');
  if (any) out.KeyEncrypted = true;
  else delete out.KeyEncrypted;
  return out;
}

function checkOptions(name: string, o: FormatOptions): void {
  if (!VOLUME_NAME_RE.test(name)) {
    throw new FsError(Errno.EINVAL, `invalid volume name ${JSON.stringify(name)}: use 3-63 lower-case letters, digits and '-', starting and ending with a letter or digit`);
  }
  if (o.shards > 256) throw new FsError(Errno.EINVAL, '--shards is at most 256');
  if (o.shards > 1 && o.bucket !== undefined && !o.bucket.includes('%d')) throw new FsError(Errno.EINVAL, 'with --shards the bucket must contain %d');
}

/** Puts the volume marker of a new volume, runs `create`, and takes the marker back if it fails. */
async function withVolumeMarker(f: Format, create: () => Promise<Format>): Promise<Format> {
  const store = createObjectStore(storageSetting(f));
  try {
    await putVolumeMarker(store, f.UUID);
    try {
      return await create();
    } catch (err) {
      await removeVolumeMarker(store);
      throw err;
    }
  } finally {
    await store.close();
  }
}

export function formatCommand(): Command {
  const cmd = new Command('format')
    .description('create a volume (or change the mutable settings of an existing one)')
    .argument('<meta-url>', 'metadata engine: redis://host:port/db, sqlite3:///path/to.db, memory://')
    .argument('<name>', 'volume name, also the object key prefix')
    .addOption(new Option('--storage <kind>', 'object store kind').choices(['file', 's3']).default('file'))
    .option('--bucket <url>', 'bucket URL, or the directory for --storage file')
    .option('--block-size <KiB>', 'block size in KiB (power of two, 64..16384)', nonNegativeInt, 4096)
    .addOption(new Option('--compression <algo>', 'block compression').choices(['none', 'lz4', 'zstd']).default('none'))
    .option('--trash-days <n>', 'days deleted files stay in the trash (0 disables it)', nonNegativeInt, 1)
    .option('--capacity <GiB>', 'volume space quota in GiB (0 = unlimited)', nonNegativeInt, 0)
    .option('--inodes <n>', 'volume inode quota (0 = unlimited)', nonNegativeInt, 0)
    .option('--hash-prefix', 'spread object keys with a hash prefix', false)
    .option('--shards <n>', 'spread objects over N buckets (bucket contains %d)', nonNegativeInt, 0)
    .addOption(new Option('--access-key <key>', 'object store access key').env('ACCESS_KEY'))
    .addOption(new Option('--secret-key <key>', 'object store secret key (stored encrypted)').env('SECRET_KEY'))
    .addOption(new Option('--session-token <token>', 'object store session token (stored encrypted)').env('SESSION_TOKEN'))
    .option('--force', 'accepted for JuiceFS compatibility; immutable settings (name, block size, compression, shards, hash prefix) never change', false);
  cmd.action(async (url: string, name: string, o: FormatOptions) => {
    checkOptions(name, o);
    const given = (opt: string): boolean => {
      const src = cmd.getOptionValueSource(opt);
      return src === 'cli' || src === 'env';
    };
    await withMeta(url, {}, async (meta) => {
      let old: Format | null = null;
      try {
        old = await meta.load();
      } catch (err) {
        if (!isFsError(err, Errno.ENOENT)) throw err;
      }
      let f: Format;
      if (old === null) {
        f = sealSecrets(newSetting(name, o), o, given, false);
      } else {
        f = sealSecrets(updatedSetting({ ...old, Name: name }, o, given), o, given, old.KeyEncrypted === true);
      }
      // Meta.format keeps an existing setting unless forced; forcing applies the mutable changes
      // and still refuses immutable ones (EEXIST)
      const stored = old !== null ? await meta.format(f, { force: true }) : await withVolumeMarker(f, () => meta.format(f, { force: false }));
      out(`volume ${stored.Name} ${old === null ? 'formatted' : 'updated'}: ${goMarshal(formatToGo(removeSecrets(stored, true)), '  ')}`);
    });
  });
  return cmd;
}
