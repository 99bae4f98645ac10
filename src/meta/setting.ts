/**
 * The volume setting as the engines use it (spec §A): the stored encoding (delegated to
 * format-setting.ts, the one Go-compatible encoder), tolerant decoding, and the list of fields a
 * re-format must not change. No I/O here.
 */
import { Errno, FsError } from '../util/errno.js';
import { marshalSetting } from './format-setting.js';
import type { Format } from './types.js';

/**
 * The setting as JuiceFS stores it in `{P}setting` / `jfs_setting`: one encoder for the engines,
 * dump/load and the CLI (format-setting.ts), so every writer emits the same bytes.
 */
export function encodeSetting(f: Format): string {
  return marshalSetting(f);
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
