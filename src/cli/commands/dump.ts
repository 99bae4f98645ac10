/**
 * `ferry dump <meta-url> [file]`: writes the volume's metadata as JuiceFS dump JSON (spec §H) to
 * a file (gzip when it ends in .gz) or stdout. Read-only: registers no session, so the dumped
 * counters are exactly the engine's.
 */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { Command } from 'commander';
import { dumpVolume } from '../../meta/dump/dump.js';
import { note, withMeta } from '../io.js';
import { requireExistingDatabase } from '../volume.js';

interface DumpCliOptions {
  subdir?: string;
  keepSecretKey: boolean;
}

/** Runs `write` against a destination for `file`, finishing (and fsyncing via close) before it returns. */
async function toFile(file: string, write: (out: Writable) => Promise<void>): Promise<void> {
  const fileStream = createWriteStream(file);
  if (file.endsWith('.gz')) {
    const gz = createGzip();
    const done = pipeline(gz, fileStream);
    try {
      await write(gz);
      gz.end();
    } catch (err) {
      gz.destroy(err instanceof Error ? err : new Error(String(err)));
      await done.catch(() => undefined);
      throw err;
    }
    await done;
    return;
  }
  const done = new Promise<void>((resolve, reject) => {
    fileStream.once('finish', resolve);
    fileStream.once('error', reject);
  });
  try {
    await write(fileStream);
  } catch (err) {
    fileStream.destroy();
    throw err;
  }
  fileStream.end();
  await done;
}

export function dumpCommand(): Command {
  return new Command('dump')
    .description('export the metadata as JuiceFS dump JSON (stdout when no file is given)')
    .argument('<meta-url>', 'metadata engine URL')
    .argument('[file]', 'output file; .gz is compressed')
    .option('--subdir <path>', 'dump only this directory (no trash, no user/group quotas)')
    .option('--keep-secret-key', 'keep SecretKey/SessionToken instead of "removed"', false)
    .action(async (url: string, file: string | undefined, o: DumpCliOptions) => {
      requireExistingDatabase(url);
      await withMeta(url, { readOnly: true }, async (meta) => {
        const opts = { keepSecretKey: o.keepSecretKey, ...(o.subdir === undefined ? {} : { subdir: o.subdir }) };
        if (file === undefined) {
          await dumpVolume(meta, process.stdout, opts);
          return;
        }
        let entries = 0;
        await toFile(file, async (out) => {
          entries = (await dumpVolume(meta, out, opts)).entries;
        });
        note(`dumped ${entries} entries to ${file}`);
      });
    });
}
