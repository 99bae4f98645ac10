/**
 * `ferry load <meta-url> <file>`: imports a JuiceFS dump JSON (spec §H; .gz accepted) into an
 * empty volume, recomputing counters, links and refcounts. Refuses a volume that has files.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Command } from 'commander';
import { loadVolume } from '../../meta/dump/load.js';
import { note, withMeta } from '../io.js';

export function loadCommand(): Command {
  return new Command('load')
    .description('import a JuiceFS dump JSON into an empty volume')
    .argument('<meta-url>', 'metadata engine URL')
    .argument('<file>', 'dump file; .gz is decompressed')
    .action(async (url: string, file: string) => {
      await withMeta(url, {}, async (_meta, engine) => {
        const raw = createReadStream(file);
        const input: Readable = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
        if (input !== raw) raw.once('error', (err) => input.destroy(err));
        try {
          const r = await loadVolume(engine, input);
          note(`loaded volume ${r.setting.Name}: ${r.inodes} inodes, ${r.counters.usedSpace} bytes used, ` +
            `next inode ${r.counters.nextInode}, next slice ${r.counters.nextChunk}`);
        } finally {
          input.destroy();
          raw.destroy();
        }
      });
    });
}
