/**
 * Live properties (RFC 4918 §15, RFC 4331 quota) computed from a plain attribute record, and the
 * assembly of PROPFIND propstats from live + dead properties (RFC 4918 §9.1). No file-system
 * access: the caller fetches attributes, locks, quota and dead properties and hands them in.
 * ETags are strong and change with every write (inode, mtime ns, length, ctime ns).
 */
import { displayName } from './href.js';
import type { PropfindRequest } from './xml/parse.js';
import type { PropEntry, Propstat, PropValue } from './xml/build.js';
import { escapeText } from './xml/escape.js';
import { DAV_NS, type DeadProp, type PropName, propKey } from './xml/types.js';
import { formatHttpDate } from './conditional.js';

/** The attributes properties are computed from (a subset of meta's Attr plus the name). */
export interface DavAttr {
  /** Directory (collection) or not; symlinks and other types count as files. */
  readonly isCollection: boolean;
  /** Inode number; part of the ETag. */
  readonly ino: bigint;
  /** Bytes of a file (ignored for collections). */
  readonly length: bigint | number;
  /** Modification time (getlastmodified, ETag), seconds + nanoseconds as JuiceFS stores it. */
  readonly mtimeSec: number;
  readonly mtimeNs: number;
  /** Change time: ETag, and creationdate, since JuiceFS keeps no birth time. */
  readonly ctimeSec: number;
  readonly ctimeNs: number;
  /** Last path segment as raw bytes; empty for the root. */
  readonly name: Uint8Array;
}

/** An active lock as lockdiscovery shows it (RFC 4918 §14.1 activelock). */
export interface ActiveLock {
  /** Lock token URI, e.g. 'urn:uuid:...'. */
  readonly token: string;
  readonly scope: 'exclusive' | 'shared';
  /** 0 locks the resource alone, infinity also everything below a collection. */
  readonly depth: 0 | 'infinity';
  /** Self-contained inner XML of DAV:owner, null when none was given. */
  readonly ownerXml: string | null;
  /** Remaining seconds, or 'infinite'. */
  readonly timeoutSec: number | 'infinite';
  /** Percent-encoded href of the lock root. */
  readonly rootHref: string;
}

/** Space figures for the RFC 4331 properties. */
export interface QuotaInfo {
  /** quota-available-bytes (RFC 4331 §3). */
  readonly availableBytes: bigint | number;
  /** quota-used-bytes (RFC 4331 §4). */
  readonly usedBytes: bigint | number;
}

/** Per-request extras some live properties need. */
export interface LivePropContext {
  /** Locks covering the resource; lockdiscovery is empty when absent. */
  readonly locks?: readonly ActiveLock[];
  /** Quota figures; the quota properties are undefined when absent. */
  readonly quota?: QuotaInfo;
}

/** Definition of one live property in the DAV: namespace. */
export interface LivePropDef {
  /** Local name in the DAV: namespace. */
  readonly name: string;
  /** PROPPATCH must fail with cannot-modify-protected-property (RFC 4918 §16). */
  readonly protected: boolean;
  /** Returned by allprop (RFC 4331 quota properties are not, RFC 4918 §9.1). */
  readonly inAllprop: boolean;
  /** The value, or undefined when the property does not exist on this resource. */
  readonly value: (attr: DavAttr, ctx: LivePropContext) => PropValue | undefined;
}

const text = (t: string): PropValue => ({ kind: 'text', text: t });
/** Exact decimal digits (a number above 2^53 is printed as the integer it holds, not rounded). */
const decimal = (v: bigint | number): string => (typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : BigInt(v).toString());
const xml = (x: string): PropValue => ({ kind: 'xml', xml: x });

/** RFC 3339 date-time without fractional seconds (RFC 4918 §15.1). */
export function rfc3339(sec: number): string {
  return new Date(sec * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * A format of whole seconds, memoised: the entries of a listing mostly share a few seconds
 * (files written together), so a PROPFIND formats each distinct second once. Bounded.
 */
function memoBySecond(format: (sec: number) => string): (sec: number) => string {
  const cache = new Map<number, string>();
  return (sec) => {
    let v = cache.get(sec);
    if (v === undefined) {
      if (cache.size >= 4096) cache.clear();
      v = format(sec);
      cache.set(sec, v);
    }
    return v;
  };
}

const creationDateOf = memoBySecond(rfc3339);
const lastModifiedOf = memoBySecond((sec) => formatHttpDate(new Date(sec * 1000)));

/** Strong ETag (RFC 7232 §2.3): any write changes mtime or ctime, so the tag changes with it. */
export function etagOf(attr: DavAttr): string {
  const ns = (sec: number, nsec: number): string => (BigInt(sec) * 1_000_000_000n + BigInt(nsec)).toString(16);
  const len = attr.isCollection ? '0' : BigInt(attr.length).toString(16);
  return `"${attr.ino.toString(16)}-${ns(attr.mtimeSec, attr.mtimeNs)}-${len}-${ns(attr.ctimeSec, attr.ctimeNs)}"`;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  txt: 'text/plain', text: 'text/plain', log: 'text/plain', md: 'text/markdown', csv: 'text/csv',
  html: 'text/html', htm: 'text/html', css: 'text/css', js: 'text/javascript', mjs: 'text/javascript',
  json: 'application/json', xml: 'application/xml', pdf: 'application/pdf', rtf: 'application/rtf',
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp',
  svg: 'image/svg+xml', ico: 'image/vnd.microsoft.icon', bmp: 'image/bmp', tif: 'image/tiff', tiff: 'image/tiff',
  heic: 'image/heic', avif: 'image/avif',
  mp3: 'audio/mpeg', wav: 'audio/wav', ogg: 'audio/ogg', flac: 'audio/flac', m4a: 'audio/mp4',
  mp4: 'video/mp4', m4v: 'video/mp4', mov: 'video/quicktime', webm: 'video/webm', mkv: 'video/x-matroska',
  avi: 'video/x-msvideo',
  zip: 'application/zip', gz: 'application/gzip', tgz: 'application/gzip', tar: 'application/x-tar',
  bz2: 'application/x-bzip2', xz: 'application/x-xz', zst: 'application/zstd', '7z': 'application/x-7z-compressed',
  rar: 'application/vnd.rar', iso: 'application/x-iso9660-image', wasm: 'application/wasm',
  doc: 'application/msword', xls: 'application/vnd.ms-excel', ppt: 'application/vnd.ms-powerpoint',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  odt: 'application/vnd.oasis.opendocument.text', ods: 'application/vnd.oasis.opendocument.spreadsheet',
  odp: 'application/vnd.oasis.opendocument.presentation', epub: 'application/epub+zip',
  woff: 'font/woff', woff2: 'font/woff2', ttf: 'font/ttf', otf: 'font/otf',
};

/** Media type from the name's extension (ASCII, case-insensitive); application/octet-stream otherwise. */
export function contentTypeOf(name: Uint8Array): string {
  const dot = name.lastIndexOf(0x2e);
  if (dot <= 0 || dot === name.length - 1 || name.length - dot > 12) return 'application/octet-stream';
  const ext = Buffer.from(name.subarray(dot + 1)).toString('latin1').toLowerCase();
  return CONTENT_TYPES[ext] ?? 'application/octet-stream';
}

/** One `<D:activelock>` (RFC 4918 §14.1), with the D prefix. */
export function activeLockXml(l: ActiveLock): string {
  return '<D:activelock>'
    + `<D:locktype><D:write/></D:locktype><D:lockscope><D:${l.scope}/></D:lockscope>`
    + `<D:depth>${l.depth === 0 ? '0' : 'infinity'}</D:depth>`
    + (l.ownerXml === null ? '' : `<D:owner>${l.ownerXml}</D:owner>`)
    + `<D:timeout>${l.timeoutSec === 'infinite' ? 'Infinite' : `Second-${Math.max(0, Math.floor(l.timeoutSec))}`}</D:timeout>`
    + `<D:locktoken><D:href>${escapeText(l.token)}</D:href></D:locktoken>`
    + `<D:lockroot><D:href>${escapeText(l.rootHref)}</D:href></D:lockroot>`
    + '</D:activelock>';
}

const SUPPORTED_LOCK = ['exclusive', 'shared']
  .map((s) => `<D:lockentry><D:lockscope><D:${s}/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry>`)
  .join('');

/** Live properties in the order allprop lists them. */
export const LIVE_PROPS: readonly LivePropDef[] = [
  { name: 'creationdate', protected: true, inAllprop: true, value: (a) => text(creationDateOf(a.ctimeSec)) },
  { name: 'displayname', protected: false, inAllprop: true, value: (a) => text(displayName(a.name)) },
  { name: 'getcontentlength', protected: true, inAllprop: true, value: (a) => (a.isCollection ? undefined : text(decimal(a.length))) },
  { name: 'getcontenttype', protected: true, inAllprop: true, value: (a) => (a.isCollection ? undefined : text(contentTypeOf(a.name))) },
  { name: 'getetag', protected: true, inAllprop: true, value: (a) => text(etagOf(a)) },
  { name: 'getlastmodified', protected: true, inAllprop: true, value: (a) => text(lastModifiedOf(a.mtimeSec)) },
  { name: 'resourcetype', protected: true, inAllprop: true, value: (a) => xml(a.isCollection ? '<D:collection/>' : '') },
  { name: 'supportedlock', protected: true, inAllprop: true, value: () => xml(SUPPORTED_LOCK) },
  { name: 'lockdiscovery', protected: true, inAllprop: true, value: (_a, c) => xml((c.locks ?? []).map(activeLockXml).join('')) },
  { name: 'quota-available-bytes', protected: true, inAllprop: false, value: (_a, c) => (c.quota === undefined ? undefined : text(decimal(c.quota.availableBytes))) },
  { name: 'quota-used-bytes', protected: true, inAllprop: false, value: (_a, c) => (c.quota === undefined ? undefined : text(decimal(c.quota.usedBytes))) },
];

const LIVE_BY_NAME = new Map(LIVE_PROPS.map((d) => [d.name, d]));
/** propKey() of each live property, computed once. */
const LIVE_KEY = new Map(LIVE_PROPS.map((d) => [d, propKey({ ns: DAV_NS, name: d.name })]));
/** What a plain allprop lists (no include). */
const ALLPROP_DEFS = LIVE_PROPS.filter((d) => d.inAllprop);
const NO_DEAD: ReadonlyMap<string, DeadProp> = new Map();

/** The live property definition for a name, if it is one. */
export function liveProp(p: PropName): LivePropDef | undefined {
  return p.ns === DAV_NS ? LIVE_BY_NAME.get(p.name) : undefined;
}

/** True when PROPPATCH may not set or remove `p` (cannot-modify-protected-property). */
export function isProtectedProp(p: PropName): boolean {
  return liveProp(p)?.protected === true;
}

/** The requested names of a PROPFIND prop request with their live definitions, resolved once per request. */
const resolvedNames = new WeakMap<readonly PropName[], readonly { p: PropName; def: LivePropDef | undefined }[]>();
function namedProps(props: readonly PropName[]): readonly { p: PropName; def: LivePropDef | undefined }[] {
  let v = resolvedNames.get(props);
  if (v === undefined) {
    v = props.map((p) => ({ p, def: liveProp(p) }));
    resolvedNames.set(props, v);
  }
  return v;
}

/**
 * The propstats of one resource for a PROPFIND (RFC 4918 §9.1): allprop gives every defined live
 * property listed for allprop, every dead property, and the `include`d ones; propname the names
 * alone; prop the requested ones (200) and the unknown ones (404). A dead property shadows an
 * unprotected live one of the same name (a PROPPATCHed displayname).
 */
export function propfindPropstats(req: PropfindRequest, attr: DavAttr, ctx: LivePropContext, dead: readonly DeadProp[]): Propstat[] {
  // most entries have no dead properties: no map, no key strings
  const deadByKey = dead.length === 0 ? NO_DEAD : new Map(dead.map((d) => [propKey(d), d]));
  if (req.kind === 'prop') {
    const found: PropEntry[] = [];
    let missing: PropEntry[] | undefined;
    for (const { p, def } of namedProps(req.props)) {
      const d = deadByKey.size > 0 ? deadByKey.get(propKey(p)) : undefined;
      const entry = d !== undefined ? deadEntry(d) : def !== undefined ? liveEntry(def, attr, ctx, deadByKey) : undefined;
      if (entry !== undefined) found.push(entry);
      else (missing ??= []).push({ ns: p.ns, name: p.name });
    }
    if (missing === undefined) return [{ status: 200, props: found }];
    return found.length > 0 ? [{ status: 200, props: found }, { status: 404, props: missing }] : [{ status: 404, props: missing }];
  }
  const defs = req.kind === 'propname' ? LIVE_PROPS : req.include.length === 0 ? ALLPROP_DEFS : ((): LivePropDef[] => {
    const included = new Set(req.include.map(propKey));
    return LIVE_PROPS.filter((def) => def.inAllprop || included.has(LIVE_KEY.get(def) ?? ''));
  })();
  const all: PropEntry[] = [];
  for (const def of defs) {
    const e = liveEntry(def, attr, ctx, deadByKey);
    if (e !== undefined) all.push(e);
  }
  for (const d of dead) all.push(deadEntry(d));
  if (req.kind === 'propname') return [{ status: 200, props: all.map((e) => ({ ns: e.ns, name: e.name })) }];
  return [{ status: 200, props: all }];
}

function deadEntry(d: DeadProp): PropEntry {
  return { ns: d.ns, name: d.name, lang: d.lang, value: xml(d.innerXml) };
}

/** A live property's entry; undefined when it does not exist here or a dead property of its name shadows it. */
function liveEntry(def: LivePropDef, attr: DavAttr, ctx: LivePropContext, deadByKey: ReadonlyMap<string, DeadProp>): PropEntry | undefined {
  if (deadByKey.size > 0 && deadByKey.has(LIVE_KEY.get(def) ?? '')) return undefined;
  const value = def.value(attr, ctx);
  return value === undefined ? undefined : { ns: DAV_NS, name: def.name, value };
}
