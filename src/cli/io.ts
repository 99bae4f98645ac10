/**
 * Small helpers shared by the admin commands: opening a volume for one command and closing it,
 * integer option parsing, and printing to stdout/stderr (the CLI's output, not logging).
 * No volume logic lives here.
 */
import { InvalidArgumentError } from 'commander';
import { openMeta } from '../meta/open.js';
import type { MetaEngine } from '../meta/engine.js';
import type { Meta } from '../meta/meta.js';

/** Opens the volume at `url`, runs `fn`, and always closes the connections. */
export async function withMeta<T>(url: string, opts: { readOnly?: boolean }, fn: (meta: Meta, engine: MetaEngine) => Promise<T>): Promise<T> {
  const { meta, engine } = await openMeta(url, opts);
  try {
    return await fn(meta, engine);
  } finally {
    await meta.close();
  }
}

/** Commander argument parser for a non-negative integer option. */
export function nonNegativeInt(value: string): number {
  if (!/^[0-9]+$/.test(value)) throw new InvalidArgumentError('expected a non-negative integer');
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('number too large');
  return n;
}

/** Writes a line to stdout. */
export function out(line: string): void {
  process.stdout.write(line.endsWith('\n') ? line : `${line}\n`);
}

/** Writes a line to stderr. */
export function note(line: string): void {
  process.stderr.write(line.endsWith('\n') ? line : `${line}\n`);
}

const BIG = '\u0000big:';

/**
 * JSON text of `value` for --json output: bigints (inode and slice ids, which may exceed 2^53)
 * are written as plain JSON numbers, as JuiceFS prints its uint64s.
 */
export function toJson(value: unknown, indent = 2): string {
  const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${BIG}${v}` : v), indent);
  return text.replace(new RegExp(`"\\\\u0000big:(-?\\d+)"`, 'g'), '$1');
}
