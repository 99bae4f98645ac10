#!/usr/bin/env node
/**
 * The `ferry` command: one entry point for the server and the admin tools.
 * Subcommands live in src/cli/commands/*; this file only wires them up.
 */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { configCommand } from './commands/config.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('ferry').version(pkg.version).description('Ferry: a JuiceFS-format volume over NFSv3 and WebDAV');

program.addCommand(configCommand());

await program.parseAsync(process.argv);
