#!/usr/bin/env node
/**
 * The `ferry` executable. Logs go to stderr here (stdout carries command output such as a dump),
 * warnings and errors only unless FERRY_LOG_LEVEL says otherwise; both are set before anything
 * that creates the logger is loaded.
 */
process.env['FERRY_LOG_DEST'] ??= 'stderr';
process.env['FERRY_LOG_LEVEL'] ??= 'warn';

const { run } = await import('./program.js');
await run(process.argv);
