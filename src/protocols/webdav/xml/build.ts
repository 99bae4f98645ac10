/**
 * Streaming writer of 207 Multi-Status bodies (RFC 4918 §13, §14.16 multistatus, §14.24 response,
 * §14.22 propstat). Responses are written one at a time and each write waits for 'drain' when
 * the destination is full, so a Depth: 1 PROPFIND over a million entries holds one batch in
 * memory, never the document. Dead-property namespaces get prefixes declared where they are used.
 */
import type { Writable } from 'node:stream';
import { writeWithBackpressure } from '../backpressure.js';
import { conditionXml, type DavCondition, statusLine } from '../status.js';
import { escapeAttr, escapeText } from './escape.js';
import { DAV_NS, MS_NS } from './types.js';

/** The value of one property inside `<D:prop>`. */
export type PropValue =
  /** Character data; the writer escapes it. */
  | { readonly kind: 'text'; readonly text: string }
  /**
   * Trusted, well-formed XML content: live values using the D prefix (bound to DAV: on the
   * multistatus root), or a dead property's self-contained inner XML.
   */
  | { readonly kind: 'xml'; readonly xml: string };

/** A property inside a propstat; without a value it is written empty (propname, 404 lists). */
export interface PropEntry {
  /** Namespace URI; DAV: is written with prefix D, '' without prefix. */
  readonly ns: string;
  readonly name: string;
  /** Absent: an empty element. */
  readonly value?: PropValue;
  /** xml:lang written on the property element (dead properties). */
  readonly lang?: string | null;
}

/** One `<D:propstat>`: properties sharing a status. */
export interface Propstat {
  /** Status shared by all `props`. */
  readonly status: number;
  readonly props: readonly PropEntry[];
  /** Condition written as `<D:error>` inside the propstat. */
  readonly error?: DavCondition;
  /** Text for `<D:responsedescription>`. */
  readonly description?: string;
}

/** One `<D:response>`: either propstats (PROPFIND/PROPPATCH) or a status for its hrefs. */
export type DavResponse =
  | { readonly href: string; readonly propstats: readonly Propstat[]; readonly description?: string }
  | { readonly hrefs: readonly string[]; readonly status: number; readonly error?: DavCondition; readonly description?: string };

/** Options of a MultistatusWriter. */
export interface MultistatusWriterOptions {
  /** Responses are batched into writes of about this many bytes (default 16 KiB). */
  readonly flushBytes?: number;
  /** Aborts pending waits for 'drain' (client went away). */
  readonly signal?: AbortSignal;
}

const WELL_KNOWN_PREFIXES = new Map([[MS_NS, 'Z']]);
const MAX_ALLOCATED_PREFIXES = 1024;

/** Writes `<D:multistatus>` incrementally; call write() per response, then end() once. */
export class MultistatusWriter {
  readonly #out: Writable;
  readonly #flushBytes: number;
  readonly #signal: AbortSignal | undefined;
  #pending = '';
  #started = false;
  #ended = false;
  readonly #prefixes = new Map<string, string>(WELL_KNOWN_PREFIXES);

  constructor(out: Writable, options: MultistatusWriterOptions = {}) {
    this.#out = out;
    this.#flushBytes = options.flushBytes ?? 16 * 1024;
    this.#signal = options.signal;
  }

  /** Appends one response; resolves once the destination accepted it or drained. */
  async write(response: DavResponse): Promise<void> {
    await this.add(response);
  }

  /**
   * write() without a promise per response: undefined when the response was only buffered, else
   * the flush to await before the next add (long listings skip most awaits this way).
   */
  add(response: DavResponse): Promise<void> | undefined {
    if (this.#ended) throw new Error('MultistatusWriter: write after end');
    this.#start();
    this.#pending += this.#renderResponse(response);
    return this.#pending.length >= this.#flushBytes ? this.#flush() : undefined;
  }

  /** Closes the document (with an optional responsedescription) and flushes; does not end `out`. */
  async end(description?: string): Promise<void> {
    if (this.#ended) return;
    this.#start();
    this.#ended = true;
    if (description !== undefined) this.#pending += `<D:responsedescription>${escapeText(description)}</D:responsedescription>\n`;
    this.#pending += '</D:multistatus>\n';
    await this.#flush();
  }

  #start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#pending = '<?xml version="1.0" encoding="utf-8"?>\n<D:multistatus xmlns:D="DAV:">\n';
  }

  async #flush(): Promise<void> {
    if (this.#pending === '') return;
    const chunk = this.#pending;
    this.#pending = '';
    await writeWithBackpressure(this.#out, chunk, this.#signal);
  }

  #renderResponse(r: DavResponse): string {
    let s = '<D:response>';
    if ('propstats' in r) {
      s += `<D:href>${escapeText(r.href)}</D:href>`;
      for (const ps of r.propstats) s += this.#renderPropstat(ps);
    } else {
      for (const h of r.hrefs) s += `<D:href>${escapeText(h)}</D:href>`;
      s += `<D:status>${statusLine(r.status)}</D:status>`;
      if (r.error !== undefined) s += `<D:error>${conditionXml(r.error)}</D:error>`;
    }
    if (r.description !== undefined) s += `<D:responsedescription>${escapeText(r.description)}</D:responsedescription>`;
    return `${s}</D:response>\n`;
  }

  #renderPropstat(ps: Propstat): string {
    let s = '<D:propstat><D:prop>';
    for (const p of ps.props) s += this.#renderProp(p);
    s += `</D:prop><D:status>${statusLine(ps.status)}</D:status>`;
    if (ps.error !== undefined) s += `<D:error>${conditionXml(ps.error)}</D:error>`;
    if (ps.description !== undefined) s += `<D:responsedescription>${escapeText(ps.description)}</D:responsedescription>`;
    return `${s}</D:propstat>`;
  }

  #renderProp(p: PropEntry): string {
    let qname: string;
    let decl = '';
    if (p.ns === DAV_NS) qname = `D:${p.name}`;
    else if (p.ns === '') qname = p.name;
    else {
      const prefix = this.#prefixFor(p.ns);
      qname = `${prefix}:${p.name}`;
      decl = ` xmlns:${prefix}="${escapeAttr(p.ns)}"`;
    }
    const lang = p.lang === undefined || p.lang === null ? '' : ` xml:lang="${escapeAttr(p.lang)}"`;
    const v = p.value;
    if (v === undefined || (v.kind === 'text' ? v.text : v.xml) === '') return `<${qname}${decl}${lang}/>`;
    const content = v.kind === 'text' ? escapeText(v.text) : v.xml;
    return `<${qname}${decl}${lang}>${content}</${qname}>`;
  }

  /** A stable prefix per namespace (ns0, ns1, ...); it is declared on each element using it. */
  #prefixFor(ns: string): string {
    const known = this.#prefixes.get(ns);
    if (known !== undefined) return known;
    if (this.#prefixes.size >= MAX_ALLOCATED_PREFIXES) return 'nsx';
    const prefix = `ns${this.#prefixes.size - WELL_KNOWN_PREFIXES.size}`;
    this.#prefixes.set(ns, prefix);
    return prefix;
  }
}
