/**
 * `ferry config check [FILE]`: validates a configuration file (default /etc/ferry/ferry.yaml)
 * without starting anything. Exit code 0 when valid, 1 with one line per bad key otherwise.
 * It must not open the volume or bind ports.
 */
import { Command } from 'commander';
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig } from '../../daemon/config.js';

/** Output streams, replaceable for tests. */
export interface CheckIo { out: (s: string) => void; err: (s: string) => void }

/** Runs the check and returns the exit code. */
export function checkConfig(file: string | undefined, io: CheckIo): number {
  const path = file ?? DEFAULT_CONFIG_PATH;
  try {
    const cfg = loadConfig(path);
    const enabled = [cfg.nfs.enabled ? `nfs on ${cfg.nfs.host}:${cfg.nfs.port}` : undefined, cfg.webdav.enabled ? `webdav on ${cfg.webdav.listen.host}:${cfg.webdav.listen.port}` : undefined].filter((s) => s !== undefined);
    io.out(`${path}: OK (${enabled.length > 0 ? enabled.join(', ') : 'no protocol enabled'})\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.err(`${path}: invalid\n`);
    for (const i of err.issues) io.err(`  ${i.key === '' ? '(file)' : i.key}: ${i.message}\n`);
    return 1;
  }
}

/** The `config` command group. */
export function configCommand(): Command {
  const config = new Command('config').description('configuration tools');
  config.command('check')
    .argument('[file]', 'configuration file', DEFAULT_CONFIG_PATH)
    .description('validate a configuration file without starting the server (exit 0 when valid, 1 otherwise)')
    .action((file: string) => {
      process.exitCode = checkConfig(file, { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) });
    });
  return config;
}
