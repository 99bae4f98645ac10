/**
 * Storage encoding of dead properties (RFC 4918 §4, §9.2) and the pure PROPPATCH planner.
 * Choice: one plain xattr per resource, `webdav-dead-props`, holding the JSON that `juicefs webdav
 * --enable-proppatch` writes (an array of {name:{Space,Local}, property:{XMLName,Lang,InnerXML}}
 * with InnerXML base64), so Ferry and JuiceFS's own WebDAV server share one set of properties and
 * any JuiceFS client sees it with getfattr. One xattr makes a PROPPATCH a single atomic setxattr,
 * as §9.2 requires. Values read back are validated before they are ever embedded in a response.
 */
import { httpError } from './status.js';
import { isValidDeadProp, type ProppatchOp } from './xml/parse.js';
import { type DeadProp, type PropName, propKey } from './xml/types.js';
import type { DavCondition } from './status.js';

/** Name of the xattr holding all dead properties of a resource (as JuiceFS names it). */
export const DEAD_PROPS_XATTR = 'webdav-dead-props';
/** JuiceFS refuses xattr values above 64 KiB. */
export const MAX_DEAD_PROPS_BYTES = 65536;

interface GoXmlName {
  Space?: unknown;
  Local?: unknown;
}

interface StoredProp {
  name?: GoXmlName;
  property?: { XMLName?: GoXmlName; Lang?: unknown; InnerXML?: unknown };
}

/** Encodes dead properties for the xattr; 507 DEAD_PROPS_TOO_LARGE above `maxBytes`. */
export function encodeDeadProps(props: readonly DeadProp[], maxBytes = MAX_DEAD_PROPS_BYTES): Buffer {
  const stored = props.map((p) => ({
    name: { Space: p.ns, Local: p.name },
    property: {
      XMLName: { Space: p.ns, Local: p.name },
      Lang: p.lang ?? '',
      InnerXML: Buffer.from(p.innerXml, 'utf8').toString('base64'),
    },
  }));
  const out = Buffer.from(JSON.stringify(stored), 'utf8');
  if (out.length > maxBytes) throw httpError('DEAD_PROPS_TOO_LARGE', `${out.length} > ${maxBytes} bytes`);
  return out;
}

/** Decoded xattr: usable properties plus how many entries were dropped as invalid. */
export interface DecodedDeadProps {
  /** Valid properties in stored order, each name once. */
  readonly props: DeadProp[];
  /** Entries dropped as malformed. */
  readonly invalid: number;
}

/**
 * Decodes the xattr value. Entries with a bad shape, an invalid name or value XML that is not
 * well-formed and self-contained are dropped and counted (the caller logs them); an undecodable
 * value as a whole gives no properties and invalid = 1.
 */
export function decodeDeadProps(value: Uint8Array): DecodedDeadProps {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value).toString('utf8'));
  } catch {
    return { props: [], invalid: 1 };
  }
  if (!Array.isArray(parsed)) return { props: [], invalid: 1 };
  const props: DeadProp[] = [];
  const seen = new Set<string>();
  let invalid = 0;
  for (const entry of parsed as StoredProp[]) {
    const prop = decodeEntry(entry);
    if (prop === null || seen.has(propKey(prop)) || !isValidDeadProp(prop)) {
      invalid++;
      continue;
    }
    seen.add(propKey(prop));
    props.push(prop);
  }
  return { props, invalid };
}

function decodeEntry(entry: StoredProp): DeadProp | null {
  if (typeof entry !== 'object' || entry === null) return null;
  const name = entry.property?.XMLName ?? entry.name;
  const ns = name?.Space ?? '';
  const local = name?.Local;
  const lang = entry.property?.Lang ?? '';
  const inner = entry.property?.InnerXML ?? '';
  if (typeof ns !== 'string' || typeof local !== 'string' || local === '' || typeof lang !== 'string' || typeof inner !== 'string') return null;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(inner)) return null;
  return { ns, name: local, lang: lang === '' ? null : lang, innerXml: Buffer.from(inner, 'base64').toString('utf8') };
}

/** Per-property result of a PROPPATCH, for the 207 response. */
export interface ProppatchResult {
  readonly name: PropName;
  /** 200, 403 (protected) or 424 (failed because another one did). */
  readonly status: number;
  /** Condition for the propstat's `<D:error>`. */
  readonly error?: DavCondition;
}

/** Outcome of planning a PROPPATCH: the new property set, or nothing changes. */
export type ProppatchPlan =
  | { readonly ok: true; readonly props: DeadProp[]; readonly results: readonly ProppatchResult[] }
  | { readonly ok: false; readonly results: readonly ProppatchResult[] };

/**
 * Applies PROPPATCH operations in document order to the current dead properties (RFC 4918 §9.2):
 * all or nothing. An operation on a protected property fails with 403 and
 * cannot-modify-protected-property; then every other one reports 424 Failed Dependency. Removing
 * an absent property succeeds. Set keeps a property's position, new ones go last.
 */
export function planProppatch(current: readonly DeadProp[], ops: readonly ProppatchOp[], isProtected: (p: PropName) => boolean): ProppatchPlan {
  const nameOf = (op: ProppatchOp): PropName => (op.op === 'set' ? { ns: op.prop.ns, name: op.prop.name } : op.name);
  const failed = ops.filter((op) => isProtected(nameOf(op)));
  if (failed.length > 0) {
    return {
      ok: false,
      results: ops.map((op) => (isProtected(nameOf(op))
        ? { name: nameOf(op), status: 403, error: { name: 'cannot-modify-protected-property' } }
        : { name: nameOf(op), status: 424 })),
    };
  }
  const next = new Map(current.map((p) => [propKey(p), p]));
  for (const op of ops) {
    if (op.op === 'set') next.set(propKey(op.prop), op.prop);
    else next.delete(propKey(op.name));
  }
  return { ok: true, props: [...next.values()], results: ops.map((op) => ({ name: nameOf(op), status: 200 })) };
}
