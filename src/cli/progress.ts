/**
 * Progress of long admin operations, written to stderr (stdout carries results and --json). On a
 * terminal one line is redrawn in place with `\r` (a bar when the total is known); otherwise plain
 * lines `<label>: <done>[/<total> (<pct>%)][, <bytes>]` at most every `intervalMs`, and a final
 * `<label>: ... done` line. Shared by every command; it knows nothing about volumes.
 */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** Default process.stderr. */
  stream?: ProgressStream;
  /** Redraw in place (default: stream.isTTY). */
  tty?: boolean;
  /** Minimum time between plain lines (default 5000 ms; 0 = a line per update); terminals redraw at most every 100 ms. */
  intervalMs?: number;
  /** Print nothing (--no-progress). */
  silent?: boolean;
  /** Clock (tests). */
  now?: () => number;
}

const TTY_REDRAW_MS = 100;
const BAR_WIDTH = 24;

/** Bytes for humans: `512 B`, `1.5 KiB`, `3.0 GiB`. */
export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** One counter (items and optionally bytes) with a known or unknown total. */
export class Progress {
  readonly #label: string;
  readonly #stream: ProgressStream;
  readonly #tty: boolean;
  readonly #intervalMs: number;
  readonly #silent: boolean;
  readonly #now: () => number;
  readonly #started: number;
  #total: number | undefined;
  #count = 0;
  #bytes = 0;
  #countsBytes = false;
  #lastDraw = -Infinity;
  #finished = false;

  constructor(label: string, total: number | undefined, opts: ProgressOptions = {}) {
    this.#label = label;
    this.#stream = opts.stream ?? process.stderr;
    this.#tty = opts.tty ?? this.#stream.isTTY === true;
    this.#intervalMs = opts.intervalMs ?? 5000;
    this.#silent = opts.silent ?? false;
    this.#now = opts.now ?? Date.now;
    this.#started = this.#now();
    this.#total = total;
  }

  get count(): number {
    return this.#count;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Raises (or sets) the expected total. */
  setTotal(total: number): void {
    this.#total = total;
    this.#maybeDraw();
  }

  /** Counts `n` more items and `bytes` more bytes. */
  add(n = 1, bytes?: number): void {
    this.#count += n;
    if (bytes !== undefined) {
      this.#countsBytes = true;
      this.#bytes += bytes;
    }
    this.#maybeDraw();
  }

  /** Final state: the last redraw plus a newline on a terminal, a `... done` line otherwise. Idempotent. */
  done(): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#silent) return;
    if (this.#tty) this.#stream.write(`${this.#ttyLine()}\n`);
    else this.#stream.write(`${this.#plainLine()} done\n`);
  }

  #maybeDraw(): void {
    if (this.#silent || this.#finished) return;
    const t = this.#now();
    if (t - this.#lastDraw < (this.#tty ? TTY_REDRAW_MS : this.#intervalMs)) return;
    this.#lastDraw = t;
    this.#stream.write(this.#tty ? this.#ttyLine() : `${this.#plainLine()}\n`);
  }

  #counts(): string {
    const total = this.#total;
    const pct = total === undefined || total === 0 ? '' : ` (${Math.floor((100 * this.#count) / total)}%)`;
    return `${this.#count}${total === undefined ? '' : `/${total}`}${pct}${this.#countsBytes ? `, ${humanBytes(this.#bytes)}` : ''}`;
  }

  #plainLine(): string {
    return `${this.#label}: ${this.#counts()}`;
  }

  #ttyLine(): string {
    const total = this.#total;
    let bar = '';
    if (total !== undefined && total > 0) {
      const filled = Math.min(BAR_WIDTH, Math.floor((BAR_WIDTH * this.#count) / total));
      bar = ` [${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
    }
    const secs = Math.max(0.001, (this.#now() - this.#started) / 1000);
    const rate = this.#countsBytes ? ` ${humanBytes(Math.round(this.#bytes / secs))}/s` : '';
    const line = `${this.#label}${bar} ${this.#counts()}${rate}`;
    const cols = this.#stream.columns;
    const width = cols !== undefined && cols > 0 ? cols : 120;
    return `\r${line.slice(0, Math.max(10, width - 1))}\x1b[K`;
  }
}

/** Makes Progress counters with shared options. */
export type ProgressFactory = (label: string, total?: number) => Progress;

export function progressFactory(opts: ProgressOptions = {}): ProgressFactory {
  return (label, total) => new Progress(label, total, opts);
}
