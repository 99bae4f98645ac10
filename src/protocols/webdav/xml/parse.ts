/**
 * Request bodies of PROPFIND, PROPPATCH and LOCK (RFC 4918 §9.1, §9.2, §9.10, §14) read into
 * typed structures. The parser is saxes: strict XML 1.0 + Namespaces, no DTD processing; on top
 * of it we refuse any DOCTYPE/ENTITY declaration before parsing (no entity expansion of any
 * kind, RFC 4918 §20.6), bound the body size by config (never by Content-Length) and the depth.
 * Unknown elements are ignored (RFC 4918 §17). Nothing here touches the file system.
 */
import type { Readable } from 'node:stream';
import { SaxesParser, type SaxesTagNS } from 'saxes';
import { HttpError, httpError } from '../status.js';
import { escapeAttr, escapeText } from './escape.js';
import { DAV_NS, type DeadProp, type PropName, propKey } from './types.js';

/** Elements nested deeper than this are refused (keeps every walk over the tree shallow). */
export const MAX_XML_DEPTH = 64;

const XML_NS = 'http://www.w3.org/XML/1998/namespace';

/** PROPFIND body (RFC 4918 §14.20); an empty body means allprop. */
export type PropfindRequest =
  | { readonly kind: 'allprop'; readonly include: readonly PropName[] }
  | { readonly kind: 'propname' }
  | { readonly kind: 'prop'; readonly props: readonly PropName[] };

/** One instruction of a PROPPATCH, in document order (RFC 4918 §9.2: applied in order). */
export type ProppatchOp =
  | { readonly op: 'set'; readonly prop: DeadProp }
  | { readonly op: 'remove'; readonly name: PropName };

/** PROPPATCH body (RFC 4918 §14.19 propertyupdate). */
export interface ProppatchRequest {
  /** At least one operation. */
  readonly ops: readonly ProppatchOp[];
}

/** LOCK body (RFC 4918 §14.11 lockinfo); null from parseLockInfo means a refresh (empty body). */
export interface LockInfo {
  /** DAV:exclusive or DAV:shared. */
  readonly scope: 'exclusive' | 'shared';
  /** DAV:write, the only lock type RFC 4918 defines. */
  readonly type: 'write';
  /** Inner XML of DAV:owner, self-contained; null when the client sent no owner. */
  readonly ownerXml: string | null;
}

interface XAttr {
  readonly qname: string;
  readonly prefix: string;
  readonly ns: string;
  readonly value: string;
}

/** A parsed element; namespace declarations are kept apart from ordinary attributes. */
export interface XElement {
  readonly kind: 'element';
  /** Resolved namespace URI, '' for none. */
  readonly ns: string;
  readonly local: string;
  /** Prefix as written ('' when unprefixed). */
  readonly prefix: string;
  /** Name as written, prefix:local. */
  readonly qname: string;
  /** Attributes other than xmlns declarations. */
  readonly attrs: readonly XAttr[];
  /** Namespace declarations made on this element: prefix ('' = default) -> URI. */
  readonly nsDecls: ReadonlyMap<string, string>;
  /** xml:lang in effect for this element, null when none. */
  readonly lang: string | null;
  readonly children: XNode[];
}

/** Character data (text and CDATA alike). */
export interface XText {
  readonly kind: 'text';
  /** Unescaped characters; adjacent text and CDATA are merged. */
  readonly text: string;
}

export type XNode = XElement | XText;

/**
 * Reads a request body of at most `maxBytes`. A Content-Length above the limit fails before any
 * byte is read; a body that grows past it fails as soon as it does. In both cases the error is
 * 413 BODY_TOO_LARGE and the stream is left paused: answer with `Connection: close`.
 */
export function readBody(stream: Readable, maxBytes: number, contentLength?: string): Promise<Buffer> {
  if (contentLength !== undefined && /^\d+$/.test(contentLength.trim()) && Number(contentLength) > maxBytes) {
    return Promise.reject(httpError('BODY_TOO_LARGE', `${contentLength} > ${maxBytes} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const cleanup = (): void => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const onData = (chunk: Buffer | string): void => {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      total += b.length;
      if (total > maxBytes) {
        cleanup();
        stream.pause();
        reject(httpError('BODY_TOO_LARGE', `more than ${maxBytes} bytes`));
        return;
      }
      chunks.push(b);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks, total));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onClose = (): void => {
      cleanup();
      reject(httpError('XML_MALFORMED', 'request body ended prematurely'));
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

/** Bytes to text: BOM first (UTF-8/UTF-16), then the XML declaration's encoding, else UTF-8. */
function decodeBody(body: Buffer): string {
  let encoding = 'utf-8';
  if (body[0] === 0xfe && body[1] === 0xff) encoding = 'utf-16be';
  else if (body[0] === 0xff && body[1] === 0xfe) encoding = 'utf-16le';
  else if (!(body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf)) {
    const decl = /^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(body.subarray(0, 256).toString('latin1'));
    const declared = decl?.[1]?.toLowerCase();
    if (declared !== undefined) {
      if (declared === 'iso-8859-1' || declared === 'latin1') encoding = 'latin1';
      else if (declared !== 'utf-8' && declared !== 'utf8' && declared !== 'us-ascii') {
        throw httpError('XML_ENCODING_UNSUPPORTED', declared);
      }
    }
  }
  try {
    return new TextDecoder(encoding, { fatal: true }).decode(body);
  } catch (err) {
    throw httpError('XML_MALFORMED', `invalid ${encoding} byte sequence`, { cause: err });
  }
}

const DECLARATION = /<!\s*(DOCTYPE|ENTITY)/i;

/**
 * Parses a whole body into an element tree; null when the body is empty or only whitespace.
 * Any DOCTYPE or ENTITY declaration is refused up front (400 XML_DOCTYPE_FORBIDDEN with the
 * no-external-entities condition), so no entity is ever defined, let alone expanded.
 */
export function parseXmlDocument(body: Buffer | string): XElement | null {
  const text = typeof body === 'string' ? body : decodeBody(body);
  if (text.trim() === '') return null;
  if (DECLARATION.test(text)) {
    throw httpError('XML_DOCTYPE_FORBIDDEN', undefined, { condition: { name: 'no-external-entities' } });
  }
  return parseXml(text);
}

function parseXml(text: string): XElement {
  const parser = new SaxesParser({ xmlns: true, position: false });
  const stack: XElement[] = [];
  let root: XElement | null = null;
  parser.on('doctype', () => {
    throw httpError('XML_DOCTYPE_FORBIDDEN', undefined, { condition: { name: 'no-external-entities' } });
  });
  parser.on('opentag', (tag: SaxesTagNS) => {
    if (stack.length >= MAX_XML_DEPTH) throw httpError('XML_TOO_DEEP', `more than ${MAX_XML_DEPTH} levels`);
    const parent = stack[stack.length - 1];
    const nsDecls = new Map<string, string>();
    const attrs: XAttr[] = [];
    let lang = parent?.lang ?? null;
    for (const a of Object.values(tag.attributes)) {
      if (a.prefix === 'xmlns') nsDecls.set(a.local, a.value.trim());
      else if (a.prefix === '' && a.local === 'xmlns') nsDecls.set('', a.value.trim());
      else {
        if (a.uri === XML_NS && a.local === 'lang') lang = a.value === '' ? null : a.value; // '' undoes an inherited language
        attrs.push({ qname: a.name, prefix: a.prefix, ns: a.uri, value: a.value });
      }
    }
    const el: XElement = {
      kind: 'element', ns: tag.uri, local: tag.local, prefix: tag.prefix, qname: tag.name,
      attrs, nsDecls, lang, children: [],
    };
    if (parent === undefined) root = el;
    else parent.children.push(el);
    stack.push(el);
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  const onText = (t: string): void => {
    const parent = stack[stack.length - 1];
    if (parent === undefined) return;
    const last = parent.children[parent.children.length - 1];
    if (last !== undefined && last.kind === 'text') parent.children[parent.children.length - 1] = { kind: 'text', text: last.text + t };
    else parent.children.push({ kind: 'text', text: t });
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  try {
    parser.write(text).close();
  } catch (err) {
    if (err instanceof HttpError) throw err;
    throw httpError('XML_MALFORMED', err instanceof Error ? err.message : String(err), { cause: err });
  }
  if (root === null) throw httpError('XML_MALFORMED', 'no root element');
  return root;
}

const isDav = (el: XElement, local: string): boolean => el.ns === DAV_NS && el.local === local;
const elements = (el: XElement): XElement[] => el.children.filter((c): c is XElement => c.kind === 'element');
const davChild = (el: XElement, local: string): XElement | undefined => elements(el).find((c) => isDav(c, local));

function expectRoot(body: Buffer | string, local: string): XElement | null {
  const root = parseXmlDocument(body);
  if (root !== null && !isDav(root, local)) {
    throw httpError('XML_INVALID_REQUEST', `expected DAV:${local}, got {${root.ns}}${root.local}`);
  }
  return root;
}

/** Property names in order, each once. */
function uniqueNames(names: readonly PropName[]): PropName[] {
  const seen = new Set<string>();
  const out: PropName[] = [];
  for (const p of names) {
    if (seen.has(propKey(p))) continue;
    seen.add(propKey(p));
    out.push(p);
  }
  return out;
}

const propNames = (prop: XElement): PropName[] => elements(prop).map((c) => ({ ns: c.ns, name: c.local }));

/** PROPFIND body -> request; empty body = allprop (RFC 4918 §9.1). 400 on anything else invalid. */
export function parsePropfind(body: Buffer | string): PropfindRequest {
  const root = expectRoot(body, 'propfind');
  if (root === null) return { kind: 'allprop', include: [] };
  const kids = elements(root);
  const allprop = kids.some((c) => isDav(c, 'allprop'));
  const propname = kids.some((c) => isDav(c, 'propname'));
  const props = kids.filter((c) => isDav(c, 'prop'));
  if (Number(allprop) + Number(propname) + Number(props.length > 0) !== 1) {
    throw httpError('XML_INVALID_REQUEST', 'propfind needs exactly one of allprop, propname, prop');
  }
  if (propname) return { kind: 'propname' };
  if (allprop) {
    return { kind: 'allprop', include: uniqueNames(kids.filter((c) => isDav(c, 'include')).flatMap(propNames)) };
  }
  return { kind: 'prop', props: uniqueNames(props.flatMap(propNames)) };
}

/** PROPPATCH body -> ordered set/remove operations; values are kept as self-contained XML. */
export function parseProppatch(body: Buffer | string): ProppatchRequest {
  const root = expectRoot(body, 'propertyupdate');
  if (root === null) throw httpError('XML_INVALID_REQUEST', 'PROPPATCH needs a body');
  const ops: ProppatchOp[] = [];
  for (const instr of elements(root)) {
    const isSet = isDav(instr, 'set');
    if (!isSet && !isDav(instr, 'remove')) continue;
    const props = elements(instr).filter((c) => isDav(c, 'prop'));
    if (props.length === 0) throw httpError('XML_INVALID_REQUEST', `DAV:${instr.local} without DAV:prop`);
    for (const p of props.flatMap(elements)) {
      if (isSet) ops.push({ op: 'set', prop: { ns: p.ns, name: p.local, lang: p.lang, innerXml: innerXml(p) } });
      else ops.push({ op: 'remove', name: { ns: p.ns, name: p.local } });
    }
  }
  if (ops.length === 0) throw httpError('XML_INVALID_REQUEST', 'propertyupdate names no property');
  return { ops };
}

/** LOCK body -> lock request; null for an empty body (a lock refresh, RFC 4918 §9.10.2). */
export function parseLockInfo(body: Buffer | string): LockInfo | null {
  const root = expectRoot(body, 'lockinfo');
  if (root === null) return null;
  const scopeEl = davChild(root, 'lockscope');
  const typeEl = davChild(root, 'locktype');
  if (scopeEl === undefined || typeEl === undefined) throw httpError('XML_INVALID_REQUEST', 'lockinfo needs lockscope and locktype');
  const exclusive = davChild(scopeEl, 'exclusive') !== undefined;
  const shared = davChild(scopeEl, 'shared') !== undefined;
  if (exclusive === shared) throw httpError('XML_INVALID_REQUEST', 'lockscope must be exclusive or shared');
  if (davChild(typeEl, 'write') === undefined) throw httpError('XML_INVALID_REQUEST', 'only write locks exist');
  const owner = davChild(root, 'owner');
  return { scope: exclusive ? 'exclusive' : 'shared', type: 'write', ownerXml: owner === undefined ? null : innerXml(owner) };
}

/**
 * Serialises the content of `el` so that it stands alone: each top-level child element declares
 * every prefix (and the default namespace, possibly as xmlns="") that its subtree uses but that
 * was bound outside `el`. Text is re-escaped; comments and processing instructions are dropped.
 */
export function innerXml(el: XElement): string {
  let out = '';
  for (const c of el.children) {
    if (c.kind === 'text') out += escapeText(c.text);
    else {
      const needed = new Map<string, string>();
      const body = serialize(c, [], needed);
      let decls = '';
      for (const [prefix, uri] of needed) decls += prefix === '' ? ` xmlns="${escapeAttr(uri)}"` : ` xmlns:${prefix}="${escapeAttr(uri)}"`;
      out += body.head + decls + body.tail;
    }
  }
  return out;
}

/**
 * `scopes` holds the declarations made inside the value (innermost last); a prefix found in none
 * of them was bound outside, so its URI is recorded in `needed` for the top-level child.
 */
function serialize(el: XElement, scopes: ReadonlyMap<string, string>[], needed: Map<string, string>): { head: string; tail: string } {
  const inner = [...scopes, el.nsDecls];
  const use = (prefix: string, uri: string): void => {
    if (prefix === 'xml') return;
    if (inner.some((s) => s.has(prefix))) return;
    needed.set(prefix, uri);
  };
  use(el.prefix, el.ns);
  let head = `<${el.qname}`;
  for (const [prefix, uri] of el.nsDecls) head += prefix === '' ? ` xmlns="${escapeAttr(uri)}"` : ` xmlns:${prefix}="${escapeAttr(uri)}"`;
  for (const a of el.attrs) {
    if (a.prefix !== '') use(a.prefix, a.ns);
    head += ` ${a.qname}="${escapeAttr(a.value)}"`;
  }
  if (el.children.length === 0) return { head, tail: '/>' };
  let tail = '>';
  for (const c of el.children) {
    if (c.kind === 'text') tail += escapeText(c.text);
    else {
      const s = serialize(c, inner, needed);
      tail += s.head + s.tail;
    }
  }
  return { head, tail: `${tail}</${el.qname}>` };
}

/**
 * Checks that a stored dead property (e.g. written by another JuiceFS client into the shared
 * xattr) is a valid name plus a self-contained, well-formed value before it is embedded in a
 * response. Returns false rather than throwing.
 */
export function isValidDeadProp(p: DeadProp): boolean {
  if (p.name.includes(':') || DECLARATION.test(p.innerXml)) return false;
  try {
    if (parseXml(`<${p.name}/>`).local !== p.name) return false;
    // The wrapper binds nothing, so a prefix the value does not declare itself fails here.
    parseXml(`<w>${p.innerXml}</w>`);
    return true;
  } catch {
    return false;
  }
}
