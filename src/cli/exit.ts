/**
 * Exit codes of the admin commands (documented in docs/admin-cli.md) and the one function that
 * turns a failure into one of them. A command that completes sets process.exitCode for its result
 * (fsck: problems found); a command that fails throws, and program.ts maps the error here.
 * It must not print anything itself.
 */
import { CommanderError } from 'commander';
import { ConfigError } from '../daemon/config.js';
import { Errno, isFsError } from '../util/errno.js';

export const EXIT_OK = 0;
/** fsck found problems, or a command failed. */
export const EXIT_PROBLEMS = 1;
/** Bad command line or configuration. */
export const EXIT_USAGE = 2;
/** The metadata engine or the object store could not be reached, or the volume is not formatted. */
export const EXIT_UNREACHABLE = 3;

/** A failure that carries its exit code. */
export class CliError extends Error {
  readonly code = 'FERRY_CLI';
  constructor(readonly exitCode: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** Errnos of the layers below that mean "could not reach the engine or the store". */
const UNREACHABLE = new Set<Errno>([Errno.EIO, Errno.EACCES, Errno.ENXIO, Errno.EAGAIN, Errno.ETIMEDOUT]);

/** The exit code for an error thrown by a command. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof CliError) return err.exitCode;
  if (err instanceof ConfigError) return EXIT_USAGE;
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  if (isFsError(err) && UNREACHABLE.has(err.errno)) return EXIT_UNREACHABLE;
  return EXIT_PROBLEMS;
}
