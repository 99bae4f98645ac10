/**
 * The `ferry` command tree: subcommands live in src/cli/commands/*; this module only wires them
 * up and turns a failed command into a message on stderr and exit status 1.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { configCommand } from './commands/config.js';
import { dumpCommand } from './commands/dump.js';
import { formatCommand } from './commands/format.js';
import { loadCommand } from './commands/load.js';
import { serveCommand } from './commands/serve.js';
import { statusCommand } from './commands/status.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

/** Parses `argv` and runs the chosen command; never throws. */
export async function run(argv: string[]): Promise<void> {
  const program = new Command('ferry').version(pkg.version).description('Ferry: a JuiceFS-format volume over NFSv3 and WebDAV');
  program.addCommand(formatCommand());
  program.addCommand(statusCommand());
  program.addCommand(dumpCommand());
  program.addCommand(loadCommand());
  program.addCommand(serveCommand());
  program.addCommand(configCommand());
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.stderr.write(`ferry: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
