/**
 * HTML index of a collection for browsers (GET on a collection). Sorting by name, size or mtime
 * through `?sort=&order=` links, no JavaScript. Every name is HTML-escaped after displayName()
 * made non-UTF-8 bytes visible as %XX, and links are percent-encoded relative refs starting
 * with './', so no file name can inject markup or a javascript: URL. Rows stream to a Writable.
 */
import type { Writable } from 'node:stream';
import { writeWithBackpressure } from './backpressure.js';
import { displayName, encodeSegment } from './href.js';

/** One row of the listing. */
export interface ListingEntry {
  /** Raw name bytes. */
  readonly name: Uint8Array;
  /** Shown with a trailing '/' and no size. */
  readonly isCollection: boolean;
  /** Bytes. */
  readonly size: bigint | number;
  /** Modification time, seconds since the epoch (shown in UTC). */
  readonly mtimeSec: number;
}

export type ListingSortKey = 'name' | 'size' | 'mtime';

/** How the rows are ordered. */
export interface ListingOrder {
  /** null keeps the order entries arrive in (no buffering). */
  readonly sort: ListingSortKey | null;
  /** Direction of `sort`. */
  readonly order: 'asc' | 'desc';
}

/** Parses `?sort=name|size|mtime&order=asc|desc`; unknown values fall back to defaults. */
export function parseListingQuery(search: string): ListingOrder {
  const q = new URLSearchParams(search.startsWith('?') ? search.slice(1) : search);
  const s = q.get('sort');
  const sort = s === 'name' || s === 'size' || s === 'mtime' ? s : null;
  return { sort, order: q.get('order') === 'desc' ? 'desc' : 'asc' };
}

/** Headers a listing response should carry: no scripts, no plugins, no sniffing. */
export const LISTING_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
  'X-Content-Type-Options': 'nosniff',
};

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Options of writeListing. */
export interface ListingOptions {
  /** The collection's path as text for the title (e.g. displayName of each segment joined). */
  readonly title: string;
  /** Whether to show a link to the parent collection. */
  readonly hasParent: boolean;
  /** Row order, usually from parseListingQuery(). */
  readonly order: ListingOrder;
  /**
   * Sorting needs all rows in memory; above this many the rows are streamed unsorted and a note
   * says so (default 100 000).
   */
  readonly maxSortedEntries?: number;
  /** Aborts a write waiting for 'drain'. */
  readonly signal?: AbortSignal;
}

function humanSize(n: bigint | number): string {
  const v = Number(n);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  let x = v;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${x.toFixed(1)} ${units[i]}`;
}

const formatTime = (sec: number): string => new Date(sec * 1000).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC');

function compareEntries(key: ListingSortKey): (a: ListingEntry, b: ListingEntry) => number {
  const byName = (a: ListingEntry, b: ListingEntry): number => Buffer.compare(a.name, b.name);
  if (key === 'name') return byName;
  if (key === 'size') return (a, b) => (a.size < b.size ? -1 : a.size > b.size ? 1 : byName(a, b));
  return (a, b) => a.mtimeSec - b.mtimeSec || byName(a, b);
}

function headerCell(label: string, key: ListingSortKey, order: ListingOrder): string {
  const active = order.sort === key;
  const next = active && order.order === 'asc' ? 'desc' : 'asc';
  const mark = active ? (order.order === 'asc' ? ' \u25b2' : ' \u25bc') : '';
  return `<th><a href="?sort=${key}&amp;order=${next}">${label}${mark}</a></th>`;
}

function row(e: ListingEntry): string {
  const href = `./${encodeSegment(e.name)}${e.isCollection ? '/' : ''}`;
  const label = escapeHtml(displayName(e.name)) + (e.isCollection ? '/' : '');
  const size = e.isCollection ? '-' : `<span title="${BigInt(e.size).toString()} bytes">${humanSize(e.size)}</span>`;
  return `<tr><td><a href="${escapeHtml(href)}">${label}</a></td><td class="n">${size}</td><td>${formatTime(e.mtimeSec)}</td></tr>\n`;
}

/**
 * Writes the whole HTML document for `entries` to `out` (not ended afterwards). With a sort key
 * entries are collected up to maxSortedEntries first; without one each row is written as it comes.
 */
export async function writeListing(out: Writable, entries: AsyncIterable<ListingEntry> | Iterable<ListingEntry>, opts: ListingOptions): Promise<void> {
  const title = escapeHtml(opts.title);
  const limit = opts.maxSortedEntries ?? 100_000;
  let chunk = '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
    + '<meta name="viewport" content="width=device-width, initial-scale=1">'
    + `<title>Index of ${title}</title>`
    + '<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}'
    + 'td,th{padding:.2em 1em;text-align:left}td.n{text-align:right}</style></head><body>\n'
    + `<h1>Index of ${title}</h1>\n<table><thead><tr>${headerCell('Name', 'name', opts.order)}`
    + `${headerCell('Size', 'size', opts.order)}${headerCell('Modified', 'mtime', opts.order)}</tr></thead><tbody>\n`;
  if (opts.hasParent) chunk += '<tr><td><a href="../">../</a></td><td class="n">-</td><td></td></tr>\n';
  const flush = async (force: boolean): Promise<void> => {
    if (chunk.length >= 16 * 1024 || (force && chunk !== '')) {
      const c = chunk;
      chunk = '';
      await writeWithBackpressure(out, c, opts.signal);
    }
  };

  let note = '';
  if (opts.order.sort === null) {
    for await (const e of entries) {
      chunk += row(e);
      await flush(false);
    }
  } else {
    const held: ListingEntry[] = [];
    let overflow = false;
    for await (const e of entries) {
      if (overflow) {
        chunk += row(e);
        await flush(false);
      } else if (held.length < limit) {
        held.push(e);
      } else {
        overflow = true;
        note = `<p>More than ${limit} entries: shown unsorted.</p>\n`;
        for (const h of held) {
          chunk += row(h);
          await flush(false);
        }
        held.length = 0;
        chunk += row(e);
      }
    }
    if (!overflow) {
      const cmp = compareEntries(opts.order.sort);
      held.sort(opts.order.order === 'asc' ? cmp : (a, b) => cmp(b, a));
      for (const h of held) {
        chunk += row(h);
        await flush(false);
      }
    }
  }
  chunk += `</tbody></table>\n${note}</body></html>\n`;
  await flush(true);
}
