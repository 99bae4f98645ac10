/**
 * Binary ACL rule of the `acl` hash (spec §B.5.5; SQL `jfs_acl` uses the same bytes): u16 owner,
 * group, mask, other (0xFFFF = unset), u32 nUsers, (u32 uid, u16 perm)*, u32 nGroups, (u32 gid, u16 perm)*.
 * Big-endian. Pure codec, no I/O.
 */
import { Errno, FsError } from '../../util/errno.js';
import type { AclRule } from '../engine.js';

export function encodeAclRule(r: AclRule): Buffer {
  const b = Buffer.alloc(8 + 4 + r.users.length * 6 + 4 + r.groups.length * 6);
  b.writeUInt16BE(r.owner & 0xffff, 0);
  b.writeUInt16BE(r.group & 0xffff, 2);
  b.writeUInt16BE(r.mask & 0xffff, 4);
  b.writeUInt16BE(r.other & 0xffff, 6);
  let p = 8;
  for (const list of [r.users, r.groups]) {
    b.writeUInt32BE(list.length, p);
    p += 4;
    for (const e of list) {
      b.writeUInt32BE(e.id >>> 0, p);
      b.writeUInt16BE(e.perm & 0xffff, p + 4);
      p += 6;
    }
  }
  return b;
}

export function decodeAclRule(b: Buffer): AclRule {
  const corrupt = (): FsError => new FsError(Errno.EIO, `corrupt acl rule: ${b.length} bytes`);
  if (b.length < 16) throw corrupt();
  const rule: AclRule = { owner: b.readUInt16BE(0), group: b.readUInt16BE(2), mask: b.readUInt16BE(4), other: b.readUInt16BE(6), users: [], groups: [] };
  let p = 8;
  for (const list of [rule.users, rule.groups]) {
    if (p + 4 > b.length) throw corrupt();
    const n = b.readUInt32BE(p);
    p += 4;
    if (p + n * 6 > b.length) throw corrupt();
    for (let i = 0; i < n; i++, p += 6) list.push({ id: b.readUInt32BE(p), perm: b.readUInt16BE(p + 4) });
  }
  return rule;
}
