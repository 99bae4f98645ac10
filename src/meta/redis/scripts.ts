/**
 * Lua sources of the Redis engine's atomic steps (spec §B.12, §B.9). Each namespace operation is ONE
 * script: it re-validates its preconditions and writes exactly the keys and bytes of the spec.
 * Every key a script touches comes from RedisKeys (named KEYS, or a key prefix passed as an argument
 * for keys that depend on what the script reads). Scripts answer `{code, ...}`: code 0 on success,
 * otherwise a Linux errno (EAGAIN = "the entry changed since the caller looked": BaseMeta retries).
 * Lua 5.1 numbers are doubles: 64-bit inode/slice ids stay 8-byte strings and are printed with
 * u64str(); lengths and times (< 2^53) are decoded with u32/u64/i64 and re-encoded with p32/p64.
 */
import { createHash } from 'node:crypto';
import { Errno } from '../../util/errno.js';
import { CHUNK_SIZE } from '../types.js';

export interface LuaScript<K extends string, A extends string> {
  readonly name: string;
  readonly keys: readonly K[];
  readonly args: readonly A[];
  readonly source: string;
  readonly sha: string;
}

/** Helper functions; a script gets the ones its body (or another included helper) mentions. */
const HELPERS: readonly { name: string; src: string }[] = [
  { name: 'ZERO8', src: `local ZERO8 = string.rep('\\0', 8)` },
  { name: 'put', src: `local function put(s, i, b) return string.sub(s, 1, i - 1) .. b .. string.sub(s, i + #b) end` },
  { name: 'istr', src: `local function istr(n) return string.format('%.0f', n) end` },
  {
    name: 'u32', src: `local function u32(s, i)
  local a, b, c, d = string.byte(s, i, i + 3)
  return ((a * 256 + b) * 256 + c) * 256 + d
end`,
  },
  {
    name: 'p32', src: `local function p32(n)
  return string.char(math.floor(n / 16777216) % 256, math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
end`,
  },
  { name: 'u64', src: `local function u64(s, i) return u32(s, i) * 4294967296 + u32(s, i + 4) end` },
  {
    name: 'p64', src: `local function p64(n)
  local hi = math.floor(n / 4294967296)
  return p32(hi) .. p32(n - hi * 4294967296)
end`,
  },
  {
    name: 'i64', src: `local function i64(s, i)
  local hi = u32(s, i)
  if hi >= 2147483648 then hi = hi - 4294967296 end
  return hi * 4294967296 + u32(s, i + 4)
end`,
  },
  {
    // exact decimal of the big-endian u64 at s[i..i+7], computed in base 10^6 halves
    name: 'u64str', src: `local function u64str(s, i)
  local hi, lo = u32(s, i), u32(s, i + 4)
  local l = hi * 967296 + lo
  local h = hi * 4294 + math.floor(l / 1000000)
  l = l % 1000000
  if h == 0 then return istr(l) end
  return istr(h) .. string.format('%06d', l)
end`,
  },
  { name: 'align4K', src: `local function align4K(n) if n == 0 then return 4096 end return math.ceil(n / 4096) * 4096 end` },
  // attr field access (spec §B.5.1; Lua offsets are 1-based: byte k of the spec is index k+1)
  { name: 'atype', src: `local function atype(a) return math.floor(string.byte(a, 2) / 16) end` },
  { name: 'nlink', src: `local function nlink(a) return u32(a, 48) end` },
  { name: 'setNlink', src: `local function setNlink(a, n) return put(a, 48, p32(n)) end` },
  { name: 'alen', src: `local function alen(a) return u64(a, 52) end` },
  {
    name: 'aparent', src: `local function aparent(a)
  local p = string.sub(a, 64, 71)
  if #p < 8 then return ZERO8 end
  return p
end`,
  },
  {
    // the attr's parent is above TrashInode (0x7FFFFFFF10000000): the inode sits inside a trashed tree
    name: 'inTrash', src: `local function inTrash(a)
  if #a < 71 then return false end
  local hi, lo = u32(a, 64), u32(a, 68)
  return hi > 2147483647 or (hi == 2147483647 and lo > 268435456)
end`,
  },
  {
    // parent mtime/ctime := now when forced (nlink changed) or the last change is older than the threshold
    name: 'touch', src: `local function touch(a, force, now12, threshold)
  threshold = tonumber(threshold)
  if not force and threshold > 0 then
    local d = (i64(now12, 1) - i64(a, 24)) * 1e9 + (u32(now12, 9) - u32(a, 32))
    if d < threshold then return a, false end
  end
  return put(put(a, 24, now12), 36, now12), true
end`,
  },
  {
    name: 'dirStat', src: `local function dirStat(S, parentDec, dlen, dspace, dinodes)
  if parentDec == '0' then return end
  if dinodes ~= 0 then redis.call('HINCRBY', S.inodes, parentDec, istr(dinodes)) end
  if dspace ~= 0 then redis.call('HINCRBY', S.space, parentDec, istr(dspace)) end
  if dlen ~= 0 then redis.call('HINCRBY', S.length, parentDec, istr(dlen)) end
end`,
  },
  {
    // dir-stat contribution of one child: (data length, space)
    name: 'childStat', src: `local function childStat(typ, a)
  if typ == 1 and a then
    local len = alen(a)
    return len, align4K(len)
  end
  return 0, 4096
end`,
  },
  {
    // true when the inode target8 is cur8 or one of its ancestors (walk the parent fields upward)
    name: 'isAncestor', src: `local function isAncestor(target8, cur8, cura, prefix)
  for _ = 1, 100000 do
    if cur8 == target8 then return true end
    local p8 = aparent(cura)
    if p8 == ZERO8 or p8 == cur8 then return false end
    cur8 = p8
    cura = redis.call('GET', prefix .. u64str(p8, 1))
    if not cura then return false end
  end
  return false
end`,
  },
  {
    // Drops one link of the inode whose entry V.entry was just removed from directory V.parentDec
    // (spec §B.9, §B.12, §E.6); T holds trashName/trashDec/trash8/now12. Returns the outcome and
    // the attr after the change (false when the entry was dangling). Outcomes: kept (other links
    // remain), trashed, sustained, deleted.
    name: 'dropLink', src: `local function dropLink(V, T)
  local typ = string.byte(V.entry, 1)
  local a = redis.call('GET', V.attr)
  if not a then return 'deleted', false end
  local trash = T.trashName ~= ''
  if trash and bit.band(string.byte(a, 1), 32) ~= 0 then trash = false end
  local S = { inodes = V.dirUsedInodes, space = V.dirUsedSpace, length = V.dirDataLength }
  if typ == 2 then
    if trash then
      a = put(put(a, 36, T.now12), 64, T.trash8)
      redis.call('SET', V.attr, a)
      redis.call('HSET', V.trashEntries, T.trashName, V.entry)
      dirStat(S, T.trashDec, 0, 4096, 1)
    else
      redis.call('DEL', V.attr, V.xattr)
      redis.call('INCRBY', V.usedSpace, '-4096')
      redis.call('DECR', V.totalInodes)
    end
    redis.call('HDEL', V.dirUsedInodes, V.inoDec)
    redis.call('HDEL', V.dirUsedSpace, V.inoDec)
    redis.call('HDEL', V.dirDataLength, V.inoDec)
    redis.call('HDEL', V.dirQuota, V.inoDec)
    redis.call('HDEL', V.dirQuotaUsedSpace, V.inoDec)
    redis.call('HDEL', V.dirQuotaUsedInodes, V.inoDec)
    if trash then return 'trashed', a end
    return 'deleted', a
  end
  if trash and nlink(a) > 1 and redis.call('HEXISTS', V.trashEntries, T.trashName) == 1 then trash = false end
  a = put(a, 36, T.now12)
  local multi = aparent(a) == ZERO8
  local n = nlink(a)
  if not trash then
    if n > 0 then n = n - 1 end
    a = setNlink(a, n)
  elseif not multi then
    a = put(a, 64, T.trash8)
  end
  if n > 0 then
    redis.call('SET', V.attr, a)
    if trash then
      redis.call('HSET', V.trashEntries, T.trashName, V.entry)
      if multi then redis.call('HINCRBY', V.parents, T.trashDec, '1') end
      local dlen, dspace = childStat(typ, a)
      dirStat(S, T.trashDec, dlen, dspace, 1)
    end
    if multi then redis.call('HINCRBY', V.parents, V.parentDec, '-1') end
    if trash then return 'trashed', a end
    return 'kept', a
  end
  local outcome = 'deleted'
  if typ == 1 then
    if V.keepOpen then
      redis.call('SET', V.attr, a)
      redis.call('SADD', V.sustained, V.inoDec)
      outcome = 'sustained'
    else
      local len = alen(a)
      redis.call('ZADD', V.delfiles, istr(i64(T.now12, 1)), V.inoDec .. ':' .. istr(len))
      redis.call('DEL', V.attr)
      redis.call('INCRBY', V.usedSpace, istr(-align4K(len)))
      redis.call('DECR', V.totalInodes)
    end
  else
    if typ == 3 then redis.call('DEL', V.symlink) end
    redis.call('DEL', V.attr)
    redis.call('INCRBY', V.usedSpace, '-4096')
    redis.call('DECR', V.totalInodes)
  end
  redis.call('DEL', V.xattr)
  if multi then redis.call('DEL', V.parents) end
  return outcome, a
end`,
  },
];

const ERRNOS = ['EPERM', 'ENOENT', 'EIO', 'EAGAIN', 'EEXIST', 'ENOTDIR', 'EISDIR', 'EINVAL', 'ENOTEMPTY', 'ENODATA'] as const;

const mentions = (text: string, name: string): boolean => new RegExp(`\\b${name}\\b`).test(text);

/** The helpers `body` needs, in dependency order (HELPERS is already ordered: deps first). */
function helpersFor(body: string): string {
  const needed = new Set<string>();
  let grew = true;
  while (grew) {
    grew = false;
    const text = body + HELPERS.filter((h) => needed.has(h.name)).map((h) => h.src).join('\n');
    for (const h of HELPERS) {
      if (!needed.has(h.name) && mentions(text, h.name)) {
        needed.add(h.name);
        grew = true;
      }
    }
  }
  return HELPERS.filter((h) => needed.has(h.name)).map((h) => h.src).join('\n');
}

function defineScript<K extends string, A extends string>(name: string, keys: readonly K[], args: readonly A[], body: string): LuaScript<K, A> {
  const consts = ERRNOS.filter((e) => mentions(body, e) || mentions(helpersFor(body), e)).map((e) => `local ${e} = ${Errno[e]}`);
  // K.<name> / A.<name> in the body become KEYS[i] / ARGV[i]: no table per call, and a typo in a
  // name fails here, at module load, instead of reading nil at run time
  const subst = (text: string, table: 'K' | 'A', names: readonly string[], vec: string): string =>
    text.replace(new RegExp(`\\b${table}\\.(\\w+)`, 'g'), (_m, n: string) => {
      const i = names.indexOf(n);
      if (i < 0) throw new Error(`script ${name}: unknown ${table}.${n}`);
      return `${vec}[${i + 1}]`;
    });
  const code = subst(subst(body, 'K', keys, 'KEYS'), 'A', args, 'ARGV');
  const helpers = helpersFor(body);
  if (/\b[KA]\./.test(helpers)) throw new Error(`script ${name}: a helper refers to K or A`);
  const source = [`-- ferry redis engine: ${name}`, ...consts, `local CHUNK_SIZE = ${CHUNK_SIZE}`, helpers,
    `local NK, NA = ${keys.length}, ${args.length}`, code].join('\n');
  return { name, keys, args, source, sha: createHash('sha1').update(source).digest('hex') };
}

const STAT_KEYS = ['dirUsedInodes', 'dirUsedSpace', 'dirDataLength'] as const;
const QUOTA_KEYS = ['dirQuota', 'dirQuotaUsedSpace', 'dirQuotaUsedInodes'] as const;
const TIME_ARGS = ['now12', 'threshold'] as const;
const TRASH_ARGS = ['trashName', 'trashDec', 'trash8'] as const;

/**
 * Lookups (HGET entry + GET child attr) for a batch of (parent, name) items in one round trip.
 * Extra KEYS per item: parent entries, parent attr; extra ARGV per item: name.
 * Answers per item {0, entry, attr} or {errno}.
 */
export const LOOKUP = defineScript('lookup', [], ['inodePrefix'], `
local function one(kEntries, kParent, name)
  local e = redis.call('HGET', kEntries, name)
  if not e then
    local pa = redis.call('GET', kParent)
    if pa and atype(pa) ~= 2 then return {ENOTDIR} end
    return {ENOENT}
  end
  if #e ~= 9 then return {EIO} end
  local a = redis.call('GET', A.inodePrefix .. u64str(e, 2))
  if not a then return {ENOENT} end
  return {0, e, a}
end
local out = {}
for j = 0, #ARGV - NA - 1 do
  out[j + 1] = one(KEYS[j * 2 + 1], KEYS[j * 2 + 2], ARGV[NA + j + 1])
end
return out
`);

/** KEYS per item of MKNOD, after its named keys. */
export const MKNOD_ITEM_KEYS = 4;
/** ARGV per item of MKNOD. */
export const MKNOD_ITEM_ARGS = 7;

/**
 * mknod/create/mkdir/symlink (spec §B.12), the hot path. Takes a batch of independent creates
 * (those issued in the same tick, see batcher.ts); each is checked and applied on its own, in
 * order, inside this one atomic script. Per item, extra KEYS: parent attr, parent entries, new
 * attr, new symlink; extra ARGV: name, attr, entry, target, parentDec, now12, opts where opts is
 * "<updateParent 0|1><threshold ns>". Answers per item {0, parent attr after that item} when
 * created, else {errno}.
 */
export const MKNOD = defineScript('mknod', ['usedSpace', 'totalInodes', ...STAT_KEYS], [], `
-- parent attrs are read once per batch and written back once if changed; counters and parent
-- dir stats are summed and applied at the end: still one atomic step for every item
local parents, dirty, order = {}, {}, {}
local created, perParent = 0, {}
local function one(kParent, kEntries, kAttr, kSymlink, name, attr, entry, target, parentDec, now12, opts)
  local pa = parents[kParent]
  if pa == nil then
    pa = redis.call('GET', kParent)
    parents[kParent] = pa
    order[#order + 1] = kParent
  end
  if not pa then return ENOENT end
  if atype(pa) ~= 2 then return ENOTDIR end
  if inTrash(pa) then return ENOENT end
  if redis.call('HSETNX', kEntries, name, entry) == 0 then return EEXIST end
  if not redis.call('SET', kAttr, attr, 'NX') then
    -- the inode id is taken (a broken id counter): undo the entry, write nothing else
    redis.call('HDEL', kEntries, name)
    return EIO
  end
  local typ = atype(attr)
  if typ == 3 then redis.call('SET', kSymlink, target) end
  if string.byte(opts, 1) == 49 then
    if typ == 2 then pa = setNlink(pa, nlink(pa) + 1) end
    local changed
    pa, changed = touch(pa, typ == 2, now12, string.sub(opts, 2))
    if changed then
      parents[kParent] = pa
      dirty[kParent] = true
    end
  end
  if typ == 2 then
    local inoDec = u64str(entry, 2)
    redis.call('HSET', K.dirUsedInodes, inoDec, '0')
    redis.call('HSET', K.dirDataLength, inoDec, '0')
    redis.call('HSET', K.dirUsedSpace, inoDec, '0')
  end
  created = created + 1
  perParent[parentDec] = (perParent[parentDec] or 0) + 1
  return 0
end
local out = {}
for j = 0, (#KEYS - NK) / ${MKNOD_ITEM_KEYS} - 1 do
  local k, a = NK + j * ${MKNOD_ITEM_KEYS}, NA + j * ${MKNOD_ITEM_ARGS}
  local code = one(KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5], ARGV[a + 6], ARGV[a + 7])
  if code == 0 then out[j + 1] = {0, parents[KEYS[k + 1]]} else out[j + 1] = {code} end
end
for _, kParent in ipairs(order) do
  if dirty[kParent] then redis.call('SET', kParent, parents[kParent]) end
end
if created > 0 then
  -- every new inode counts 4096 bytes (spec §B.10); numbers go to redis.call as strings
  redis.call('INCRBY', K.usedSpace, istr(created * 4096))
  redis.call('INCRBY', K.totalInodes, istr(created))
  for parentDec, n in pairs(perParent) do
    redis.call('HINCRBY', K.dirUsedInodes, parentDec, istr(n))
    redis.call('HINCRBY', K.dirUsedSpace, parentDec, istr(n * 4096))
  end
end
return out
`);

const VICTIM_KEYS = ['attr', 'xattr', 'parents', 'symlink', 'entries', 'trashEntries', 'delfiles', 'sustained', 'usedSpace', 'totalInodes', ...STAT_KEYS, ...QUOTA_KEYS] as const;

/** unlink and rmdir (spec §B.9, §B.12, §E.6). Answers {0, outcome, attr-after|false, parent attr after}. */
export const UNLINK = defineScript('unlink',
  ['parentAttr', 'parentEntries', ...VICTIM_KEYS],
  ['name', 'expect8', 'rmdir', 'keepOpen', 'parentDec', 'inoDec', 'touchParent', ...TRASH_ARGS, ...TIME_ARGS], `
local pa = redis.call('GET', K.parentAttr)
if not pa then return {ENOENT} end
if atype(pa) ~= 2 then return {ENOTDIR} end
local e = redis.call('HGET', K.parentEntries, A.name)
if not e then return {ENOENT} end
if string.sub(e, 2, 9) ~= A.expect8 then return {EAGAIN} end
local typ = string.byte(e, 1)
if A.rmdir == '1' then
  if typ ~= 2 then return {ENOTDIR} end
  if redis.call('HLEN', K.entries) > 0 then return {ENOTEMPTY} end
elseif typ == 2 then
  return {EISDIR}
end
redis.call('HDEL', K.parentEntries, A.name)
local V = {
  entry = e, inoDec = A.inoDec, parentDec = A.parentDec, keepOpen = A.keepOpen == '1',
  attr = K.attr, xattr = K.xattr, parents = K.parents, symlink = K.symlink, trashEntries = K.trashEntries,
  delfiles = K.delfiles, sustained = K.sustained, usedSpace = K.usedSpace, totalInodes = K.totalInodes,
  dirUsedInodes = K.dirUsedInodes, dirUsedSpace = K.dirUsedSpace, dirDataLength = K.dirDataLength,
  dirQuota = K.dirQuota, dirQuotaUsedSpace = K.dirQuotaUsedSpace, dirQuotaUsedInodes = K.dirQuotaUsedInodes,
}
local outcome, a = dropLink(V, { trashName = A.trashName, trashDec = A.trashDec, trash8 = A.trash8, now12 = A.now12 })
if A.touchParent == '1' then
  local dir = typ == 2
  if dir then pa = setNlink(pa, nlink(pa) - 1) end
  local changed
  pa, changed = touch(pa, dir, A.now12, A.threshold)
  if changed then redis.call('SET', K.parentAttr, pa) end
end
local dlen, dspace = childStat(typ, a)
dirStat({ inodes = K.dirUsedInodes, space = K.dirUsedSpace, length = K.dirDataLength }, A.parentDec, -dlen, -dspace, -1)
return {0, outcome, a, pa}
`);

/** rename, RENAME_NOREPLACE, RENAME_EXCHANGE (spec §B.12). Answers {0, srcAttr, outcome, victimAttr|false}. */
export const RENAME = defineScript('rename',
  ['srcParentAttr', 'srcParentEntries', 'dstParentAttr', 'dstParentEntries', 'srcAttr', 'srcParents',
    'dstAttr', 'dstXattr', 'dstParents', 'dstSymlink', 'dstEntries', 'trashEntries', 'delfiles', 'sustained',
    'usedSpace', 'totalInodes', ...STAT_KEYS, ...QUOTA_KEYS],
  ['srcName', 'dstName', 'expectSrc8', 'expectDst8', 'flags', 'srcParentDec', 'dstParentDec', 'srcParent8', 'dstParent8',
    'dstDec', 'keepOpen', 'touchSrc', 'touchDst', 'inodePrefix', ...TRASH_ARGS, ...TIME_ARGS], `
local same = K.srcParentAttr == K.dstParentAttr
local sp = redis.call('GET', K.srcParentAttr)
if not sp then return {ENOENT} end
if atype(sp) ~= 2 then return {ENOTDIR} end
local dp = sp
if not same then
  dp = redis.call('GET', K.dstParentAttr)
  if not dp then return {ENOENT} end
  if atype(dp) ~= 2 then return {ENOTDIR} end
end
if inTrash(dp) then return {ENOENT} end
local se = redis.call('HGET', K.srcParentEntries, A.srcName)
if not se then return {ENOENT} end
if string.sub(se, 2, 9) ~= A.expectSrc8 then return {EAGAIN} end
local sa = redis.call('GET', K.srcAttr)
if not sa then return {ENOENT} end
if same and A.srcName == A.dstName then return {0, sa, 'none', false} end
local flags = tonumber(A.flags)
local exchange = bit.band(flags, 2) ~= 0
local de = redis.call('HGET', K.dstParentEntries, A.dstName)
if de then
  if bit.band(flags, 1) ~= 0 then return {EEXIST} end
  if A.expectDst8 == '' or string.sub(de, 2, 9) ~= A.expectDst8 then return {EAGAIN} end
elseif A.expectDst8 ~= '' then
  return {EAGAIN}
end
if exchange and not de then return {ENOENT} end
local stype = string.byte(se, 1)
local dtype = 0
if de then
  dtype = string.byte(de, 1)
  if string.sub(de, 2, 9) == string.sub(se, 2, 9) then return {0, sa, 'none', false} end
  if not exchange then
    if stype == 2 and dtype ~= 2 then return {ENOTDIR} end
    if stype ~= 2 and dtype == 2 then return {EISDIR} end
    if dtype == 2 and redis.call('HLEN', K.dstEntries) > 0 then return {ENOTEMPTY} end
  end
end
if not same then
  if stype == 2 and isAncestor(string.sub(se, 2, 9), A.dstParent8, dp, A.inodePrefix) then return {EINVAL} end
  if exchange and dtype == 2 and isAncestor(string.sub(de, 2, 9), A.srcParent8, sp, A.inodePrefix) then return {EINVAL} end
end

local S = { inodes = K.dirUsedInodes, space = K.dirUsedSpace, length = K.dirDataLength }
local sDelta, dDelta = 0, 0
local outcome, va = 'none', false
if exchange then
  local da = redis.call('GET', K.dstAttr)
  if da then
    da = put(da, 36, A.now12)
    if not same then
      if dtype == 2 then
        da = put(da, 64, A.srcParent8)
        dDelta = dDelta - 1
        sDelta = sDelta + 1
      elseif aparent(da) ~= ZERO8 then
        da = put(da, 64, A.srcParent8)
      else
        redis.call('HINCRBY', K.dstParents, A.srcParentDec, '1')
        redis.call('HINCRBY', K.dstParents, A.dstParentDec, '-1')
      end
    end
    redis.call('SET', K.dstAttr, da)
  end
  redis.call('HSET', K.srcParentEntries, A.srcName, de)
  if not same then
    local dlen, dspace = childStat(dtype, da)
    dirStat(S, A.srcParentDec, dlen, dspace, 1)
    dirStat(S, A.dstParentDec, -dlen, -dspace, -1)
  end
  outcome, va = 'exchanged', da
else
  redis.call('HDEL', K.srcParentEntries, A.srcName)
  if de then
    if dtype == 2 then dDelta = dDelta - 1 end
    local V = {
      entry = de, inoDec = A.dstDec, parentDec = A.dstParentDec, keepOpen = A.keepOpen == '1',
      attr = K.dstAttr, xattr = K.dstXattr, parents = K.dstParents, symlink = K.dstSymlink, trashEntries = K.trashEntries,
      delfiles = K.delfiles, sustained = K.sustained, usedSpace = K.usedSpace, totalInodes = K.totalInodes,
      dirUsedInodes = K.dirUsedInodes, dirUsedSpace = K.dirUsedSpace, dirDataLength = K.dirDataLength,
      dirQuota = K.dirQuota, dirQuotaUsedSpace = K.dirQuotaUsedSpace, dirQuotaUsedInodes = K.dirQuotaUsedInodes,
    }
    outcome, va = dropLink(V, { trashName = A.trashName, trashDec = A.trashDec, trash8 = A.trash8, now12 = A.now12 })
    local dlen, dspace = childStat(dtype, va)
    dirStat(S, A.dstParentDec, -dlen, -dspace, -1)
  end
end
if not same then
  if stype == 2 then
    sa = put(sa, 64, A.dstParent8)
    sDelta = sDelta - 1
    dDelta = dDelta + 1
  elseif aparent(sa) ~= ZERO8 then
    sa = put(sa, 64, A.dstParent8)
  else
    redis.call('HINCRBY', K.srcParents, A.dstParentDec, '1')
    redis.call('HINCRBY', K.srcParents, A.srcParentDec, '-1')
  end
  local slen, sspace = childStat(stype, sa)
  dirStat(S, A.srcParentDec, -slen, -sspace, -1)
  dirStat(S, A.dstParentDec, slen, sspace, 1)
end
sa = put(sa, 36, A.now12)
redis.call('SET', K.srcAttr, sa)
redis.call('HSET', K.dstParentEntries, A.dstName, se)
local changed
if same then
  if A.touchSrc == '1' then
    local d = sDelta + dDelta
    if d ~= 0 then sp = setNlink(sp, nlink(sp) + d) end
    sp, changed = touch(sp, d ~= 0, A.now12, A.threshold)
    if changed then redis.call('SET', K.srcParentAttr, sp) end
  end
else
  if A.touchSrc == '1' then
    if sDelta ~= 0 then sp = setNlink(sp, nlink(sp) + sDelta) end
    sp, changed = touch(sp, sDelta ~= 0, A.now12, A.threshold)
    if changed then redis.call('SET', K.srcParentAttr, sp) end
  end
  if A.touchDst == '1' then
    if dDelta ~= 0 then dp = setNlink(dp, nlink(dp) + dDelta) end
    dp, changed = touch(dp, dDelta ~= 0, A.now12, A.threshold)
    if changed then redis.call('SET', K.dstParentAttr, dp) end
  end
end
return {0, sa, outcome, va}
`);

/** Hard link (spec §B.12): Parent := 0, p<ino> counts, nlink+1. Answers {0, attr}. */
export const LINK = defineScript('link',
  ['parentAttr', 'parentEntries', 'attr', 'parents', ...STAT_KEYS],
  ['name', 'ino8', 'parentDec', ...TIME_ARGS], `
local pa = redis.call('GET', K.parentAttr)
if not pa then return {ENOENT} end
if atype(pa) ~= 2 then return {ENOTDIR} end
if inTrash(pa) then return {ENOENT} end
local a = redis.call('GET', K.attr)
if not a then return {ENOENT} end
local typ = atype(a)
if typ == 2 then return {EPERM} end
if bit.band(string.byte(a, 1), 3) ~= 0 then return {EPERM} end
if redis.call('HEXISTS', K.parentEntries, A.name) == 1 then return {EEXIST} end
local old = aparent(a)
if old ~= ZERO8 then redis.call('HINCRBY', K.parents, u64str(old, 1), '1') end
redis.call('HINCRBY', K.parents, A.parentDec, '1')
a = put(a, 64, ZERO8)
a = setNlink(a, nlink(a) + 1)
a = put(a, 36, A.now12)
redis.call('SET', K.attr, a)
redis.call('HSET', K.parentEntries, A.name, string.char(typ) .. A.ino8)
local changed
pa, changed = touch(pa, false, A.now12, A.threshold)
if changed then redis.call('SET', K.parentAttr, pa) end
local dlen, dspace = childStat(typ, a)
dirStat({ inodes = K.dirUsedInodes, space = K.dirUsedSpace, length = K.dirDataLength }, A.parentDec, dlen, dspace, 1)
return {0, a}
`);

/** Field bits of SETATTR's `mask` argument. */
export const SETATTR_MODE = 1;
export const SETATTR_UID = 2;
export const SETATTR_GID = 4;
export const SETATTR_ATIME = 8;
export const SETATTR_MTIME = 16;
export const SETATTR_FLAGS = 32;

/** setattr: splices the given fields into the stored attr, ctime := now. Answers {0, attr}. */
export const SETATTR = defineScript('setattr', ['attr'], ['mask', 'mode', 'uid4', 'gid4', 'atime12', 'mtime12', 'flags', 'now12'], `
local a = redis.call('GET', K.attr)
if not a then return {ENOENT} end
local m = tonumber(A.mask)
if bit.band(m, ${SETATTR_MODE}) ~= 0 then
  local tm = atype(a) * 4096 + tonumber(A.mode) % 4096
  a = put(a, 2, string.char(math.floor(tm / 256), tm % 256))
end
if bit.band(m, ${SETATTR_UID}) ~= 0 then a = put(a, 4, A.uid4) end
if bit.band(m, ${SETATTR_GID}) ~= 0 then a = put(a, 8, A.gid4) end
if bit.band(m, ${SETATTR_ATIME}) ~= 0 then a = put(a, 12, A.atime12) end
if bit.band(m, ${SETATTR_MTIME}) ~= 0 then a = put(a, 24, A.mtime12) end
if bit.band(m, ${SETATTR_FLAGS}) ~= 0 then a = put(a, 1, string.char(tonumber(A.flags) % 256)) end
a = put(a, 36, A.now12)
redis.call('SET', K.attr, a)
return {0, a}
`);

/** truncate: hole records over [min, max) with RPUSH/RPUSHX (spec §B.9), length, times, usedSpace. Answers {0, attr}. */
export const TRUNCATE = defineScript('truncate', ['attr', 'usedSpace', ...STAT_KEYS], ['length', 'chunkPrefix', 'now12'], `
local a = redis.call('GET', K.attr)
if not a then return {ENOENT} end
local typ = atype(a)
if typ == 2 then return {EISDIR} end
if typ ~= 1 then return {EPERM} end
if bit.band(string.byte(a, 1), 3) ~= 0 then return {EPERM} end
if inTrash(a) then return {EPERM} end
local old = alen(a)
local new = tonumber(A.length)
if old == new then return {0, a} end
local left, right = old, new
if left > right then left, right = new, old end
local function hole(pos, len) return p32(pos) .. ZERO8 .. p32(0) .. p32(0) .. p32(len) end
local li = math.floor(left / CHUNK_SIZE)
local lp = left - li * CHUNK_SIZE
if right > (li + 1) * CHUNK_SIZE then
  redis.call('RPUSH', A.chunkPrefix .. istr(li), hole(lp, CHUNK_SIZE - lp))
  local ri = math.floor(right / CHUNK_SIZE)
  local full = hole(0, CHUNK_SIZE)
  if ri - li - 1 >= 10000 then
    local cursor = '0'
    repeat
      local r = redis.call('SCAN', cursor, 'MATCH', A.chunkPrefix .. '*', 'COUNT', '10000')
      cursor = r[1]
      for _, key in ipairs(r[2]) do
        local idx = tonumber(string.sub(key, #A.chunkPrefix + 1))
        if idx and idx > li and idx < ri then redis.call('RPUSHX', key, full) end
      end
    until cursor == '0'
  else
    for i = li + 1, ri - 1 do redis.call('RPUSHX', A.chunkPrefix .. istr(i), full) end
  end
  local rp = right - ri * CHUNK_SIZE
  if rp > 0 then redis.call('RPUSH', A.chunkPrefix .. istr(ri), hole(0, rp)) end
else
  redis.call('RPUSH', A.chunkPrefix .. istr(li), hole(lp, right - left))
end
a = put(a, 52, p64(new))
a = put(put(a, 24, A.now12), 36, A.now12)
redis.call('SET', K.attr, a)
local dspace = align4K(new) - align4K(old)
if dspace ~= 0 then redis.call('INCRBY', K.usedSpace, istr(dspace)) end
dirStat({ inodes = K.dirUsedInodes, space = K.dirUsedSpace, length = K.dirDataLength }, u64str(aparent(a), 1), new - old, dspace, 0)
return {0, a}
`);

/** Commit one slice (spec §B.12 write). Answers {0, attr, listLength}. */
export const WRITE = defineScript('write', ['attr', 'chunk', 'usedSpace', ...STAT_KEYS], ['record', 'newEnd', 'mtime12', 'now12'], `
local a = redis.call('GET', K.attr)
if not a then return {ENOENT} end
if atype(a) ~= 1 then return {EPERM} end
local n = redis.call('RPUSH', K.chunk, A.record)
local old = alen(a)
local e = tonumber(A.newEnd)
if e > old then
  a = put(a, 52, p64(e))
  local dspace = align4K(e) - align4K(old)
  if dspace > 0 then redis.call('INCRBY', K.usedSpace, istr(dspace)) end
  dirStat({ inodes = K.dirUsedInodes, space = K.dirUsedSpace, length = K.dirDataLength }, u64str(aparent(a), 1), e - old, dspace, 0)
end
a = put(put(a, 24, A.mtime12), 36, A.now12)
redis.call('SET', K.attr, a)
return {0, a, n}
`);

/**
 * copy_file_range by reference: verifies the source attr and chunk lists are still what the caller
 * resolved (EAGAIN otherwise), appends the planned records to the destination chunks and bumps
 * sliceRef once per referencing record. Extra KEYS: nSrc source chunk keys then nDst destination
 * chunk keys; extra ARGV: the nSrc expected source lists, the nDst concatenated record blobs, nRefs
 * sliceRef fields. Answers {0, dstAttr}.
 */
export const CLONE = defineScript('clone', ['srcAttr', 'dstAttr', 'usedSpace', 'sliceRef', ...STAT_KEYS],
  ['srcAttrExpected', 'nSrc', 'nDst', 'nRefs', 'newEnd', 'now12'], `
local sa = redis.call('GET', K.srcAttr)
if not sa then return {ENOENT} end
if sa ~= A.srcAttrExpected then return {EAGAIN} end
local da = redis.call('GET', K.dstAttr)
if not da then return {ENOENT} end
if atype(da) ~= 1 then return {EINVAL} end
if bit.band(string.byte(da, 1), 3) ~= 0 then return {EPERM} end
local nSrc, nDst, nRefs = tonumber(A.nSrc), tonumber(A.nDst), tonumber(A.nRefs)
for i = 1, nSrc do
  if table.concat(redis.call('LRANGE', KEYS[NK + i], '0', '-1')) ~= ARGV[NA + i] then return {EAGAIN} end
end
for j = 1, nDst do
  local blob = ARGV[NA + nSrc + j]
  local batch = {}
  for at = 1, #blob, 24 do
    batch[#batch + 1] = string.sub(blob, at, at + 23)
    if #batch == 512 then
      redis.call('RPUSH', KEYS[NK + nSrc + j], unpack(batch))
      batch = {}
    end
  end
  if #batch > 0 then redis.call('RPUSH', KEYS[NK + nSrc + j], unpack(batch)) end
end
for r = 1, nRefs do redis.call('HINCRBY', K.sliceRef, ARGV[NA + nSrc + nDst + r], '1') end
local old = alen(da)
local e = tonumber(A.newEnd)
if e > old then
  da = put(da, 52, p64(e))
  local dspace = align4K(e) - align4K(old)
  if dspace > 0 then redis.call('INCRBY', K.usedSpace, istr(dspace)) end
  dirStat({ inodes = K.dirUsedInodes, space = K.dirUsedSpace, length = K.dirDataLength }, u64str(aparent(da), 1), e - old, dspace, 0)
end
da = put(put(da, 24, A.now12), 36, A.now12)
redis.call('SET', K.dstAttr, da)
return {0, da}
`);

/**
 * Drops chunk lists of one file (extra KEYS: the lists) and decrements sliceRef per data record
 * (spec §B.9 deleteChunk), in one atomic step. Answers {0, unreferenced (u64 id, u32 size)*}.
 */
export const DROP_CHUNKS = defineScript('dropChunks', ['sliceRef'], [], `
local out = {}
for j = NK + 1, #KEYS do
  local recs = redis.call('LRANGE', KEYS[j], '0', '-1')
  if #recs > 0 then redis.call('DEL', KEYS[j]) end
  for _, r in ipairs(recs) do
    if #r == 24 then
      local id8 = string.sub(r, 5, 12)
      if id8 ~= ZERO8 then
        local size = u32(r, 13)
        local v = redis.call('HINCRBY', K.sliceRef, 'k' .. u64str(id8, 1) .. '_' .. istr(size), '-1')
        if v < 0 then out[#out + 1] = id8 .. p32(size) end
      end
    end
  end
end
return {0, table.concat(out)}
`);

/**
 * Compaction swap (spec §E.3): if the first N list elements are byte for byte `old` (N = #old / 24),
 * LTRIM them away, LPUSH the new record, then the first `skipped` of them back in their order;
 * HSET sliceRef of the new slice to "0" (refcount 1, tracked). The replaced data records go to
 * delSlices under `delField` when `delayed` is "1", else HINCRBY -1 each (spec §B.9).
 * Answers {0, 0, ''} when the list changed (nothing written), else {0, 1, unreferenced (u64 id, u32 size)*}.
 */
export const COMPACT_CHUNK = defineScript('compactChunk', ['chunk', 'sliceRef', 'delSlices'],
  ['old', 'skipped', 'record', 'newRef', 'delayed', 'delField'], `
local n = #A.old / 24
local cur = redis.call('LRANGE', K.chunk, '0', istr(n - 1))
if #cur ~= n or table.concat(cur) ~= A.old then return {0, 0, ''} end
local skipped = tonumber(A.skipped)
redis.call('LTRIM', K.chunk, istr(n), '-1')
redis.call('LPUSH', K.chunk, A.record)
for i = skipped, 1, -1 do redis.call('LPUSH', K.chunk, cur[i]) end
redis.call('HSET', K.sliceRef, A.newRef, '0')
local replaced = {}
for i = skipped + 1, n do
  local id8 = string.sub(cur[i], 5, 12)
  if id8 ~= ZERO8 then replaced[#replaced + 1] = id8 .. string.sub(cur[i], 13, 16) end
end
if A.delayed == '1' then
  if #replaced > 0 then redis.call('HSET', K.delSlices, A.delField, table.concat(replaced)) end
  return {0, 1, ''}
end
local out = {}
for _, r in ipairs(replaced) do
  local v = redis.call('HINCRBY', K.sliceRef, 'k' .. u64str(r, 1) .. '_' .. istr(u32(r, 9)), '-1')
  if v < 0 then out[#out + 1] = r end
end
return {0, 1, table.concat(out)}
`);

/** Drops a sliceRef field that is still "0" (cleanupZeroRef of spec §B.9: refcount 1 needs no field). */
export const CLEANUP_ZERO_REF = defineScript('cleanupZeroRef', ['sliceRef'], ['field'], `
if redis.call('HGET', K.sliceRef, A.field) == '0' then redis.call('HDEL', K.sliceRef, A.field) end
return {0}
`);

/**
 * Releases one delSlices entry (spec §B.9, §E.6 trash cleaner): HINCRBY -1 per 12-byte record,
 * then HDEL the entry. Answers {0, unreferenced (u64 id, u32 size)*}; nothing when the entry is gone.
 */
export const RELEASE_DELAYED = defineScript('releaseDelayed', ['sliceRef', 'delSlices'], ['field'], `
local v = redis.call('HGET', K.delSlices, A.field)
if not v then return {0, ''} end
redis.call('HDEL', K.delSlices, A.field)
local out = {}
for i = 1, #v - 11, 12 do
  local r = string.sub(v, i, i + 11)
  local n = redis.call('HINCRBY', K.sliceRef, 'k' .. u64str(r, 1) .. '_' .. istr(u32(r, 9)), '-1')
  if n < 0 then out[#out + 1] = r end
end
return {0, table.concat(out)}
`);

/** Deletes an unlinked-while-open inode (spec §B.9 sustained). Answers {0, attr|false}. */
export const DELETE_SUSTAINED = defineScript('deleteSustained', ['attr', 'xattr', 'parents', 'delfiles', 'usedSpace', 'totalInodes', 'sustained'], ['inoDec', 'nowSec'], `
local a = redis.call('GET', K.attr)
if not a then
  redis.call('SREM', K.sustained, A.inoDec)
  return {0, false}
end
local len = alen(a)
redis.call('ZADD', K.delfiles, A.nowSec, A.inoDec .. ':' .. istr(len))
redis.call('DEL', K.attr, K.xattr, K.parents)
redis.call('INCRBY', K.usedSpace, istr(-align4K(len)))
redis.call('DECR', K.totalInodes)
redis.call('SREM', K.sustained, A.inoDec)
return {0, a}
`);

/** setxattr with XATTR_CREATE (1) / XATTR_REPLACE (2). */
export const SET_XATTR = defineScript('setXattr', ['attr', 'xattr'], ['name', 'value', 'flags'], `
if redis.call('EXISTS', K.attr) == 0 then return {ENOENT} end
local f = tonumber(A.flags)
if f == 1 then
  if redis.call('HSETNX', K.xattr, A.name, A.value) == 0 then return {EEXIST} end
  return {0}
end
if f == 2 and redis.call('HEXISTS', K.xattr, A.name) == 0 then return {ENODATA} end
redis.call('HSET', K.xattr, A.name, A.value)
return {0}
`);

/** Drops a session's record and its lock fields in every key listed in locked<sid> (spec §B.7). */
export const REMOVE_SESSION = defineScript('removeSession', ['locked', 'sessionInfos', 'allSessions', 'legacySessions'], ['sid'], `
local pre = A.sid .. '_'
for _, key in ipairs(redis.call('SMEMBERS', K.locked)) do
  for _, f in ipairs(redis.call('HKEYS', key)) do
    if string.sub(f, 1, #pre) == pre then redis.call('HDEL', key, f) end
  end
end
redis.call('DEL', K.locked)
redis.call('HDEL', K.sessionInfos, A.sid)
redis.call('ZREM', K.allSessions, A.sid)
redis.call('ZREM', K.legacySessions, A.sid)
return {0}
`);

/** Background job lease (spec §B.11). Answers {0, 1} when the caller won it. */
export const SET_IF_SMALL = defineScript('setIfSmall', ['lease'], ['now', 'diff'], `
local v = redis.call('GET', K.lease)
if v and tonumber(v) and tonumber(v) > tonumber(A.now) - tonumber(A.diff) then return {0, 0} end
redis.call('SET', K.lease, A.now)
return {0, 1}
`);

/**
 * Ferry's WebDAV lock table (a hash by token, and its version counter): applies the change only
 * while the version is still A.version. Extra ARGV: nPut, then nPut (token, value) pairs, then the
 * tokens to remove. Answers {0, 1} when applied, {0, 0} when the version has moved on.
 */
export const UPDATE_DAV_LOCKS = defineScript('updateDavLocks', ['locks', 'version'], ['version'], `
if (tonumber(redis.call('GET', K.version)) or 0) ~= tonumber(A.version) then return {0, 0} end
local nPut = tonumber(ARGV[NA + 1])
for j = 0, nPut - 1 do redis.call('HSET', K.locks, ARGV[NA + 2 + j * 2], ARGV[NA + 3 + j * 2]) end
for j = NA + 2 + nPut * 2, #ARGV do redis.call('HDEL', K.locks, ARGV[j]) end
redis.call('INCR', K.version)
return {0, 1}
`);

/** Every script, for SCRIPT LOAD at open. */
export const ALL_SCRIPTS: readonly LuaScript<string, string>[] = [
  LOOKUP, MKNOD, UNLINK, RENAME, LINK, SETATTR, TRUNCATE, WRITE, CLONE, DROP_CHUNKS, COMPACT_CHUNK, DELETE_SUSTAINED, SET_XATTR, REMOVE_SESSION,
  SET_IF_SMALL, CLEANUP_ZERO_REF, RELEASE_DELAYED, UPDATE_DAV_LOCKS,
];
