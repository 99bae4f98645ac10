/**
 * `ferry status [meta-url]`: the volume setting with every secret shown as "removed", the
 * counters (spec §B.4, §B.10) and the registered sessions (§B.7). Human text by default, `--json`
 * for scripts. Read-only: opens no session.
 */
import { Command } from 'commander';
import type { Counters } from '../../meta/engine.js';
import { goMarshal, type GoValue } from '../../meta/dump/go-json.js';
import { formatToGo, removeSecrets } from '../../meta/format-setting.js';
import type { Format, Session } from '../../meta/types.js';
import { out } from '../io.js';
import { humanBytes } from '../progress.js';
import { adminConfig, withFormattedMeta, withVolumeSource } from '../volume.js';

function countersGo(c: Counters): Map<string, GoValue> {
  return new Map<string, GoValue>([
    ['usedSpace', c.usedSpace], ['usedInodes', c.usedInodes], ['nextInode', c.nextInode],
    ['nextChunk', c.nextChunk], ['nextSession', c.nextSession], ['nextTrash', c.nextTrash],
  ]);
}

function sessionGo(s: Session): Map<string, GoValue> {
  const info = s.info === null ? null : new Map<string, GoValue>([
    ['Version', s.info.Version], ['HostName', s.info.HostName], ['IPAddrs', s.info.IPAddrs ?? []],
    ['MountPoint', s.info.MountPoint], ['MountTime', s.info.MountTime], ['ProcessID', s.info.ProcessID],
  ]);
  return new Map<string, GoValue>([
    ['Sid', s.sid], ['Expire', new Date(s.expire * 1000).toISOString()], ['Info', info], ['Sustained', [...s.sustained]],
  ]);
}

function bytes(n: number): string {
  return n < 1024 ? `${n} B` : `${humanBytes(n)} (${n} B)`;
}

function human(f: Format, c: Counters, sessions: Session[]): string[] {
  const lines = [
    `Volume:        ${f.Name} (${f.UUID})`,
    `Storage:       ${f.Storage} ${f.Bucket}`,
    `Block size:    ${f.BlockSize} KiB, compression ${f.Compression === undefined || f.Compression === '' ? 'none' : f.Compression}` +
      `${f.HashPrefix === true ? ', hash prefix' : ''}${(f.Shards ?? 0) > 1 ? `, ${f.Shards} shards` : ''}`,
    `Trash:         ${f.TrashDays > 0 ? `${f.TrashDays} day(s)` : 'off'}`,
    `Quota:         ${(f.Capacity ?? 0) > 0 ? bytes(f.Capacity ?? 0) : 'unlimited space'}, ${(f.Inodes ?? 0) > 0 ? `${f.Inodes} inodes` : 'unlimited inodes'}`,
    `Meta version:  ${f.MetaVersion ?? 0}${f.EnableACL ? ', ACL on' : ''}${f.DirStats === true ? ', dir stats' : ''}`,
    `Used:          ${bytes(c.usedSpace)} in ${c.usedInodes} inodes`,
    `Next ids:      inode ${c.nextInode}, slice ${c.nextChunk}, session ${c.nextSession}, trash ${c.nextTrash}`,
    `Sessions:      ${sessions.length}`,
  ];
  for (const s of sessions) {
    const i = s.info;
    const who = i === null ? 'no info' : `${i.HostName} ${i.MountPoint} pid ${i.ProcessID} version ${i.Version}`;
    lines.push(`  sid ${s.sid}: ${who}, expires ${new Date(s.expire * 1000).toISOString()}` +
      `${s.sustained.length > 0 ? `, ${s.sustained.length} sustained inode(s)` : ''}`);
  }
  return lines;
}

export function statusCommand(): Command {
  const cmd = new Command('status')
    .description('show the volume setting (without secrets), counters and sessions')
    .argument('[meta-url]', 'metadata engine URL (default: --meta, the config\'s meta.url, or the embedded volume in --data-dir)')
    .option('--json', 'print JSON for scripts', false);
  return withVolumeSource(cmd)
    .action(async (arg: string | undefined, o: { json: boolean; meta?: string; dataDir?: string; config?: string }) => {
      const url = arg ?? adminConfig(o).meta.url;
      await withFormattedMeta(url, { readOnly: true }, async (meta, loaded) => {
        const setting = removeSecrets(loaded, true);
        const [counters, sessions] = await Promise.all([meta.counters(), meta.sessions()]);
        sessions.sort((a, b) => a.sid - b.sid);
        if (o.json) {
          out(goMarshal(new Map<string, GoValue>([
            ['Setting', formatToGo(setting)], ['Counters', countersGo(counters)], ['Sessions', sessions.map(sessionGo)],
          ]), '  '));
        } else {
          for (const line of human(setting, counters, sessions)) out(line);
        }
      });
    });
}
