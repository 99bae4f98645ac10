/**
 * The metadata layer's one clock: wall time in seconds + nanoseconds (spec §B.5.1 stores both).
 * Date.now() anchors the epoch once; process.hrtime adds ns resolution and keeps it monotonic
 * within the process. Nothing else in meta reads the clock for attribute times.
 */
import type { Timespec } from './types.js';

const NS_PER_SEC = 1_000_000_000n;
const originNs = BigInt(Date.now()) * 1_000_000n;
const originHr = process.hrtime.bigint();

/** Current wall time with nanoseconds. */
export function now(): Timespec {
  const ns = originNs + (process.hrtime.bigint() - originHr);
  return { sec: Number(ns / NS_PER_SEC), nsec: Number(ns % NS_PER_SEC) };
}

/** Milliseconds from `a` to `b` (negative when b is earlier). */
export function diffMs(a: Timespec, b: Timespec): number {
  return (b.sec - a.sec) * 1000 + (b.nsec - a.nsec) / 1e6;
}

/** Unix seconds of now(). */
export function nowSec(): number {
  return now().sec;
}
