#!/usr/bin/env node
/**
 * The `ferry` executable. For the admin tools, logs go to stderr (stdout carries command output
 * such as a dump), warnings and errors only unless FERRY_LOG_LEVEL says otherwise; `ferry serve`
 * keeps pino's JSON on stdout at info level for journald. Both are set before anything that
 * creates the logger is loaded.
 */
if (process.argv[2] !== 'serve') {
  process.env['FERRY_LOG_DEST'] ??= 'stderr';
  process.env['FERRY_LOG_LEVEL'] ??= 'warn';
}

const { run } = await import('./program.js');
await run(process.argv);
