/**
 * The `ferry` command tree: subcommands live in src/cli/commands/*; this module only wires them
 * up and turns a failed command into a message on stderr and an exit status (exit.ts: 1 failure,
 * 2 usage or configuration, 3 volume unreachable).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { benchCommand } from './commands/bench.js';
import { configCommand } from './commands/config.js';
import { dumpCommand } from './commands/dump.js';
import { formatCommand } from './commands/format.js';
import { fsckCommand } from './commands/fsck.js';
import { gcCommand } from './commands/gc.js';
import { infoCommand } from './commands/info.js';
import { loadCommand } from './commands/load.js';
import { serveCommand } from './commands/serve.js';
import { statusCommand } from './commands/status.js';
import { warmupCommand } from './commands/warmup.js';
import { webdavLocksCommand } from './commands/webdav-locks.js';
import { exitCodeOf } from './exit.js';

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
  program.addCommand(infoCommand());
  program.addCommand(fsckCommand());
  program.addCommand(gcCommand());
  program.addCommand(warmupCommand());
  program.addCommand(webdavLocksCommand());
  program.addCommand(benchCommand());
  // usage errors (commander already printed them) exit 2 instead of commander's process.exit(1)
  const override = (c: Command): void => {
    c.exitOverride();
    c.commands.forEach(override);
  };
  override(program);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (!(err instanceof CommanderError)) process.stderr.write(`ferry: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = exitCodeOf(err);
  }
}
