/**
 * The volume setting JSON (spec §A): field order and omitempty rules of JuiceFS's Format struct,
 * serialised like Go's json.MarshalIndent so a diff against a JuiceFS-written value is clean;
 * volume-name validation; secret encryption inside the setting (§A.1, AES-GCM keyed by MD5(UUID)).
 * Pure functions over values; no engine access, and no secret ever goes to a log from here.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { Errno, FsError } from '../util/errno.js';
import { goMap, goMarshal, type GoObject, type GoValue } from './dump/go-json.js';
import type { Format, TierSetting } from './types.js';

type FieldKind = 'string' | 'int' | 'bool' | 'tiers';

/** Format fields in JuiceFS struct order; `omit` mirrors `json:",omitempty"`. */
const FIELDS: readonly { name: keyof Format; kind: FieldKind; omit: boolean }[] = [
  { name: 'Name', kind: 'string', omit: false },
  { name: 'UUID', kind: 'string', omit: false },
  { name: 'Storage', kind: 'string', omit: false },
  { name: 'StorageClass', kind: 'string', omit: true },
  { name: 'Tiers', kind: 'tiers', omit: false },
  { name: 'Bucket', kind: 'string', omit: false },
  { name: 'AccessKey', kind: 'string', omit: true },
  { name: 'SecretKey', kind: 'string', omit: true },
  { name: 'SessionToken', kind: 'string', omit: true },
  { name: 'BlockSize', kind: 'int', omit: false },
  { name: 'Compression', kind: 'string', omit: true },
  { name: 'Shards', kind: 'int', omit: true },
  { name: 'HashPrefix', kind: 'bool', omit: true },
  { name: 'Capacity', kind: 'int', omit: true },
  { name: 'Inodes', kind: 'int', omit: true },
  { name: 'EncryptKey', kind: 'string', omit: true },
  { name: 'EncryptAlgo', kind: 'string', omit: true },
  { name: 'KeyEncrypted', kind: 'bool', omit: true },
  { name: 'UploadLimit', kind: 'int', omit: true },
  { name: 'DownloadLimit', kind: 'int', omit: true },
  { name: 'TrashDays', kind: 'int', omit: false },
  { name: 'MetaVersion', kind: 'int', omit: true },
  { name: 'MinClientVersion', kind: 'string', omit: true },
  { name: 'MaxClientVersion', kind: 'string', omit: true },
  { name: 'DirStats', kind: 'bool', omit: true },
  { name: 'UserGroupQuota', kind: 'bool', omit: true },
  { name: 'EnableACL', kind: 'bool', omit: false },
  { name: 'RangerRestUrl', kind: 'string', omit: true },
  { name: 'RangerService', kind: 'string', omit: true },
  { name: 'ChangeLog', kind: 'bool', omit: true },
  { name: 'ChangeLogMaxAge', kind: 'int', omit: true },
  { name: 'ChangeLogMaxLines', kind: 'int', omit: true },
  { name: 'KerbConf', kind: 'string', omit: true },
];

/** `^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`: the volume name is also the object key prefix. */
export const VOLUME_NAME_RE = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

/** The literal JuiceFS writes in place of a stripped secret. */
export const REMOVED_SECRET = 'removed';

/** Tiers as JuiceFS reads them: tier 0 synthesised from the legacy StorageClass when absent. */
export function effectiveTiers(f: Format): Record<string, TierSetting> {
  if (f.Tiers !== undefined && Object.keys(f.Tiers).length > 0) return f.Tiers;
  return { 0: { ID: 0, StorageClass: f.StorageClass ?? '', Tag: '' } };
}

/** The setting as an ordered Go object (struct field order, omitempty applied). */
export function formatToGo(f: Format): GoObject {
  const out: GoObject = new Map();
  for (const field of FIELDS) {
    const v = f[field.name];
    switch (field.kind) {
      case 'tiers': {
        const tiers = effectiveTiers(f);
        out.set(field.name, goMap(Object.entries(tiers).map(([k, t]): [string, GoValue] =>
          [k, new Map<string, GoValue>([['ID', t.ID], ['StorageClass', t.StorageClass], ['Tag', t.Tag]])])));
        break;
      }
      case 'string': {
        const s = typeof v === 'string' ? v : '';
        if (!field.omit || s !== '') out.set(field.name, s);
        break;
      }
      case 'int': {
        const n = typeof v === 'number' ? v : 0;
        if (!field.omit || n !== 0) out.set(field.name, n);
        break;
      }
      case 'bool': {
        const b = v === true;
        if (!field.omit || b) out.set(field.name, b);
        break;
      }
    }
  }
  return out;
}

/** The setting JSON as JuiceFS stores it: json.MarshalIndent(format, "", ""). */
export function marshalSetting(f: Format): string {
  return goMarshal(formatToGo(f), '');
}

function bad(msg: string): FsError {
  return new FsError(Errno.EINVAL, `setting: ${msg}`);
}

/**
 * Builds a Format from a decoded JSON object, checking field types. Unknown fields are dropped
 * (JuiceFS does the same when it re-marshals). Integers may arrive as bigint from the dump reader.
 */
export function formatFromJson(v: unknown): Format {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad('not an object');
  const obj = v as Record<string, unknown>;
  const f: Record<string, unknown> = {};
  for (const field of FIELDS) {
    const x = obj[field.name];
    if (x === undefined || x === null) continue;
    switch (field.kind) {
      case 'string':
        if (typeof x !== 'string') throw bad(`${field.name} must be a string`);
        f[field.name] = x;
        break;
      case 'int':
        if (typeof x === 'bigint') f[field.name] = Number(x);
        else if (typeof x === 'number' && Number.isInteger(x)) f[field.name] = x;
        else throw bad(`${field.name} must be an integer`);
        break;
      case 'bool':
        if (typeof x !== 'boolean') throw bad(`${field.name} must be a boolean`);
        f[field.name] = x;
        break;
      case 'tiers': {
        if (typeof x !== 'object' || Array.isArray(x)) throw bad('Tiers must be an object');
        const tiers: Record<string, TierSetting> = {};
        for (const [k, t] of Object.entries(x as Record<string, unknown>)) {
          if (t === null || typeof t !== 'object') throw bad(`tier ${k} must be an object`);
          const tt = t as Record<string, unknown>;
          tiers[k] = {
            ID: Number(tt['ID'] ?? 0),
            StorageClass: typeof tt['StorageClass'] === 'string' ? tt['StorageClass'] : '',
            Tag: typeof tt['Tag'] === 'string' ? tt['Tag'] : '',
          };
        }
        f[field.name] = tiers;
        break;
      }
    }
  }
  for (const req of ['Name', 'UUID'] as const) if (typeof f[req] !== 'string') throw bad(`missing ${req}`);
  f['Storage'] ??= '';
  f['Bucket'] ??= '';
  f['BlockSize'] ??= 0;
  f['TrashDays'] ??= 0;
  f['EnableACL'] ??= false;
  return f as unknown as Format;
}

/** Parses a stored setting JSON (any whitespace and field order). */
export function parseSetting(json: string): Format {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (err) {
    throw new FsError(Errno.EINVAL, 'setting: invalid JSON', { cause: err });
  }
  return formatFromJson(v);
}

/** A copy with SecretKey/SessionToken (and EncryptKey when `encryptKey`) replaced by "removed". */
export function removeSecrets(f: Format, encryptKey = false): Format {
  const out = { ...f };
  if (out.SecretKey !== undefined && out.SecretKey !== '') out.SecretKey = REMOVED_SECRET;
  if (out.SessionToken !== undefined && out.SessionToken !== '') out.SessionToken = REMOVED_SECRET;
  if (encryptKey && out.EncryptKey !== undefined && out.EncryptKey !== '') out.EncryptKey = REMOVED_SECRET;
  return out;
}

function secretKey(f: Format): Buffer {
  if (f.EncryptAlgo === 'sm4gcm') throw new FsError(Errno.ENOTSUP, 'setting: sm4gcm secret encryption is not supported');
  return createHash('md5').update(f.UUID, 'utf8').digest();
}

/** §A.1: base64(nonce(12) || AES-128-GCM(plaintext) || tag(16)) with key MD5(UUID). */
export function encryptSecret(f: Format, plaintext: string): string {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-128-gcm', secretKey(f), nonce);
  const body = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return Buffer.concat([nonce, body, c.getAuthTag()]).toString('base64');
}

/** Inverse of encryptSecret; EINVAL when the value was stripped ("removed") or does not open. */
export function decryptSecret(f: Format, sealed: string): string {
  if (sealed === REMOVED_SECRET) throw new FsError(Errno.EINVAL, 'setting: the secret was removed from this setting');
  const buf = Buffer.from(sealed, 'base64');
  if (buf.length < 12 + 16) throw new FsError(Errno.EINVAL, 'setting: sealed secret too short');
  const d = createDecipheriv('aes-128-gcm', secretKey(f), buf.subarray(0, 12));
  d.setAuthTag(buf.subarray(buf.length - 16));
  try {
    return Buffer.concat([d.update(buf.subarray(12, buf.length - 16)), d.final()]).toString('utf8');
  } catch (err) {
    throw new FsError(Errno.EINVAL, 'setting: cannot decrypt secret (wrong UUID?)', { cause: err });
  }
}

/** Encrypts every non-empty plain secret and sets KeyEncrypted, like JuiceFS Format.Encrypt(). */
export function encryptSecrets(f: Format): Format {
  if (f.KeyEncrypted === true) return f;
  const plain = [f.SecretKey, f.SessionToken, f.EncryptKey].filter((s) => s !== undefined && s !== '');
  if (plain.length === 0) return f;
  const out = { ...f };
  if (out.SecretKey !== undefined && out.SecretKey !== '') out.SecretKey = encryptSecret(f, out.SecretKey);
  if (out.SessionToken !== undefined && out.SessionToken !== '') out.SessionToken = encryptSecret(f, out.SessionToken);
  if (out.EncryptKey !== undefined && out.EncryptKey !== '') out.EncryptKey = encryptSecret(f, out.EncryptKey);
  out.KeyEncrypted = true;
  return out;
}
