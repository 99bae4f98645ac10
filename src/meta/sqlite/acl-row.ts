/**
 * `jfs_acl.named_users` / `named_groups` (spec §C.2): repeated (u32 id, u16 perm) big-endian,
 * with no count prefix (unlike the Redis rule encoding of §B.5.5). Pure conversions.
 */

export interface NamedPerm {
  id: number;
  perm: number;
}

export function encodeNamedPerms(list: readonly NamedPerm[]): Buffer {
  const b = Buffer.alloc(list.length * 6);
  list.forEach((e, i) => {
    b.writeUInt32BE(e.id >>> 0, i * 6);
    b.writeUInt16BE(e.perm & 0xffff, i * 6 + 4);
  });
  return b;
}

/** A trailing partial record is ignored, as JuiceFS's decoder does. */
export function decodeNamedPerms(b: Buffer | null): NamedPerm[] {
  const out: NamedPerm[] = [];
  if (b === null) return out;
  for (let at = 0; at + 6 <= b.length; at += 6) out.push({ id: b.readUInt32BE(at), perm: b.readUInt16BE(at + 4) });
  return out;
}
