/**
 * Durations as Go's time.ParseDuration writes them, the syntax of JuiceFS URL options such as
 * `read-timeout=30s`: an optional sign, then one or more decimal numbers each with a unit (ns, us,
 * µs, ms, s, m, h), e.g. "300ms", "1.5h", "2h45m"; "0" alone needs no unit. Knows nothing of URLs.
 */
const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds (fractions kept), or undefined when `text` is not a Go duration. */
export function parseGoDuration(text: string): number | undefined {
  const m = /^([+-]?)(.*)$/s.exec(text);
  const body = m?.[2] ?? '';
  if (body === '0') return 0;
  if (body === '') return undefined;
  let ms = 0;
  let rest = body;
  while (rest !== '') {
    const part = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/.exec(rest);
    const unit = part?.[2];
    if (part?.[1] === undefined || unit === undefined) return undefined;
    ms += Number(part[1]) * (UNIT_MS[unit] ?? NaN);
    rest = rest.slice(part[0].length);
  }
  return m?.[1] === '-' ? -ms : ms;
}
