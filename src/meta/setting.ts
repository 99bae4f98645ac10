/**
 * The volume setting JSON (spec §A): encoding exactly as JuiceFS writes it (Go MarshalIndent with
 * empty prefix/indent: one field per line, struct order, omitempty rules, HTML-safe escapes),
 * tolerant decoding, and the list of fields a re-format must not change. No I/O here.
 */
import { Errno, FsError } from '../util/errno.js';
import type { Format } from './types.js';

type Field = [name: keyof Format, omitEmpty: boolean];

/** Struct order of spec §A with its omitempty column. */
const FIELDS: Field[] = [
  ['Name', false], ['UUID', false], ['Storage', false], ['StorageClass', true], ['Tiers', false],
  ['Bucket', false], ['AccessKey', true], ['SecretKey', true], ['SessionToken', true], ['BlockSize', false],
  ['Compression', true], ['Shards', true], ['HashPrefix', true], ['Capacity', true], ['Inodes', true],
  ['EncryptKey', true], ['EncryptAlgo', true], ['KeyEncrypted', true], ['UploadLimit', true],
  ['DownloadLimit', true], ['TrashDays', false], ['MetaVersion', true], ['MinClientVersion', true],
  ['MaxClientVersion', true], ['DirStats', true], ['UserGroupQuota', true], ['EnableACL', false],
  ['RangerRestUrl', true], ['RangerService', true], ['ChangeLog', true], ['ChangeLogMaxAge', true],
  ['ChangeLogMaxLines', true], ['KerbConf', true],
];

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return true;
  return typeof v === 'object' && Object.keys(v).length === 0;
}

function goString(s: string): string {
  return JSON.stringify(s)
    .replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function goValue(v: unknown): string {
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'string') return goString(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.length === 0 ? '[]' : `[\n${v.map(goValue).join(',\n')}\n]`;
  if (typeof v === 'object') {
    const entries = Object.entries(v);
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([k, x]) => `${goString(k)}: ${goValue(x)}`).join(',\n')}\n}`;
  }
  throw new FsError(Errno.EINVAL, `setting value of type ${typeof v}`);
}

/** The setting as JuiceFS stores it in `{P}setting` / `jfs_setting`. */
export function encodeSetting(f: Format): string {
  const lines: string[] = [];
  for (const [name, omitEmpty] of FIELDS) {
    const v: unknown = f[name];
    if (omitEmpty && isEmpty(v)) continue;
    lines.push(`${goString(name)}: ${goValue(v)}`);
  }
  return `{\n${lines.join(',\n')}\n}`;
}

/** Parses a stored setting; EIO when it is not a JSON object with a Name. */
export function decodeSetting(json: string): Format {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (err) {
    throw new FsError(Errno.EIO, 'setting is not JSON', { cause: err });
  }
  if (typeof v !== 'object' || v === null || typeof (v as { Name?: unknown }).Name !== 'string') {
    throw new FsError(Errno.EIO, 'setting has no Name');
  }
  const f = v as Format;
  f.TrashDays ??= 0;
  f.EnableACL ??= false;
  return f;
}

/** Immutable fields that differ between an existing setting and a requested one (spec §A). */
export function immutableChanges(old: Format, wanted: Format): string[] {
  const norm = (f: Format) => ({
    Name: f.Name,
    BlockSize: f.BlockSize,
    Compression: (f.Compression ?? '').toLowerCase() === 'none' ? '' : (f.Compression ?? '').toLowerCase(),
    Shards: f.Shards ?? 0,
    HashPrefix: f.HashPrefix ?? false,
    MetaVersion: f.MetaVersion ?? 1,
  });
  const a = norm(old);
  const b = norm(wanted);
  const changed: string[] = (Object.keys(a) as (keyof typeof a)[]).filter((k) => a[k] !== b[k]);
  if (wanted.UUID !== '' && wanted.UUID !== old.UUID) changed.push('UUID');
  return changed;
}

/** The highest metadata version this implementation understands (spec §A: refuse > 1). */
export const MAX_META_VERSION = 1;
