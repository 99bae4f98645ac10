/**
 * The one root pino logger (STYLE.md §8). Modules take `logger.child({ module: '...' })`.
 * Structured JSON to stdout (stderr when FERRY_LOG_DEST=stderr, which the admin CLI sets so logs
 * never mix with a dump written to stdout); secrets are redacted by path, URLs go via redactUrl().
 */
import { pino, type Logger } from 'pino';

export type { Logger };

const level = process.env['FERRY_LOG_LEVEL'] ?? (process.env['NODE_ENV'] === 'test' ? 'silent' : 'info');

export const logger: Logger = pino({
  level,
  base: { pid: process.pid },
  redact: {
    paths: ['password', '*.password', 'secretKey', '*.secretKey', 'SecretKey', '*.SecretKey', 'accessKey', '*.accessKey', 'authorization', '*.authorization', 'headers.authorization'],
    censor: '[redacted]',
  },
}, process.env['FERRY_LOG_DEST'] === 'stderr' ? pino.destination({ fd: 2, sync: true }) : undefined);

/** Removes the password from a URL before it is logged (JuiceFS utils.RemovePassword). */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z0-9+]+:\/\/)([^:@/]*):([^@/]*)@/i, (_m, scheme: string, user: string) => `${scheme}${user}:****@`);
}
