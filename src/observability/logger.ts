/**
 * The one root pino logger (STYLE.md §8). Modules take `logger.child({ module: '...' })`.
 * Structured JSON to stdout (stderr when FERRY_LOG_DEST=stderr, which the admin CLI sets so logs
 * never mix with a dump written to stdout); secrets are redacted by path, URLs go via redactUrl().
 * configureLogger() applies the config's level and `pretty` (pino-pretty, for people at a
 * terminal; journald wants JSON). Children follow later level changes of the root.
 */
import { createRequire } from 'node:module';
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

const level = process.env['FERRY_LOG_LEVEL'] ?? (process.env['NODE_ENV'] === 'test' ? 'silent' : 'info');

interface LineSink { write(line: string): unknown }

const stdout: LineSink = pino.destination({ fd: process.env['FERRY_LOG_DEST'] === 'stderr' ? 2 : 1, sync: true });
/** Every log line goes through here, so configureLogger() can switch to pretty output later. */
const sink = { target: stdout, write(line: string): unknown { return this.target.write(line); } };

export const logger: Logger = pino({
  level,
  base: { pid: process.pid },
  redact: {
    paths: ['password', '*.password', 'secretKey', '*.secretKey', 'SecretKey', '*.SecretKey', 'accessKey', '*.accessKey', 'sessionToken', '*.sessionToken', 'authorization', '*.authorization', 'headers.authorization', 'handleSecret', '*.handleSecret', 'nfsHandleSecret', '*.nfsHandleSecret'],
    censor: '[redacted]',
  },
}, sink);

/** Sets the root level and switches between JSON (pretty=false) and pino-pretty lines. */
export function configureLogger(opts: { level?: LevelWithSilent | undefined; pretty?: boolean | undefined }): void {
  if (opts.level !== undefined && process.env['FERRY_LOG_LEVEL'] === undefined) logger.level = opts.level;
  if (opts.pretty === true) {
    const require = createRequire(import.meta.url);
    const { prettyFactory } = require('pino-pretty') as typeof import('pino-pretty');
    const prettify = prettyFactory({ colorize: process.stdout.isTTY, translateTime: 'SYS:standard', ignore: 'pid,hostname' });
    sink.target = { write: (line: string) => stdout.write(prettify(line)) };
  } else if (opts.pretty === false) {
    sink.target = stdout;
  }
}

/** Removes the password from a URL before it is logged (JuiceFS utils.RemovePassword). */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z0-9+]+:\/\/)([^:@/]*):([^@/]*)@/i, (_m, scheme: string, user: string) => `${scheme}${user}:****@`);
}
