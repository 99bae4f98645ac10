/**
 * Boolean options in JuiceFS URLs (`insecure-skip-verify`, `tls-insecure-skip-verify`): present
 * with no value or a true-ish one is on, an explicit false-ish one is off. Shared by the Redis URL
 * and the bucket URL parsers; knows nothing of either.
 */

/** true/false for a present option, false when absent (null), undefined when the value is neither. */
export function urlFlag(value: string | null): boolean | undefined {
  if (value === null) return false;
  if (/^(|1|t|true|yes|on)$/i.test(value)) return true;
  if (/^(0|f|false|no|off)$/i.test(value)) return false;
  return undefined;
}
