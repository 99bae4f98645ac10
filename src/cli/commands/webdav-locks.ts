/**
 * `ferry webdav-locks [meta-url]`: the WebDAV locks held on the volume (Ferry's lock table in the
 * metadata engine, shared by every appliance), and `--remove <token...>` / `--remove-all` to
 * break locks whose clients went away before the locks time out. Human text by default, `--json`
 * for scripts. Listing opens the volume read-only; removing changes only the lock table.
 */
import { Command } from 'commander';
import type { Meta } from '../../meta/meta.js';
import { encodeHref } from '../../protocols/webdav/href.js';
import { EngineLockStore, LockManager, type LockRecord } from '../../protocols/webdav/locks.js';
import { CliError, EXIT_PROBLEMS } from '../exit.js';
import { out, toJson } from '../io.js';
import { adminConfig, withFormattedMeta, withVolumeSource } from '../volume.js';

interface LocksOptions {
  json: boolean;
  remove?: string[];
  removeAll: boolean;
  meta?: string;
  dataDir?: string;
  config?: string;
}

/** The lock as --json prints it: the lock root as the href clients use. */
function lockJson(l: LockRecord, locks: LockManager): Record<string, unknown> {
  return {
    token: l.token, href: encodeHref(l.root, false), scope: l.scope, depth: l.depth, owner: l.ownerXml, principal: l.principal,
    timeoutSec: l.timeoutSec, expiresAt: new Date(l.expiresAtMs).toISOString(), remainingSec: locks.remainingSec(l),
  };
}

function lockLine(l: LockRecord, locks: LockManager): string {
  return `  ${l.token}  ${l.scope}, depth ${l.depth}  ${encodeHref(l.root, false)}` +
    `${l.principal === '' ? '' : `  user ${l.principal}`}${l.ownerXml === null ? '' : `  owner ${l.ownerXml.replace(/\s+/g, ' ').trim()}`}` +
    `  expires ${new Date(l.expiresAtMs).toISOString()} (in ${locks.remainingSec(l)} s)`;
}

async function run(meta: Meta, o: LocksOptions): Promise<void> {
  const locks = new LockManager(new EngineLockStore(meta));
  const remove = o.remove ?? [];
  if (remove.length > 0) {
    const held = new Set((await locks.all()).map((l) => l.token));
    const unknown = remove.filter((t) => !held.has(t));
    if (unknown.length > 0) throw new CliError(EXIT_PROBLEMS, `no lock with token ${unknown.join(', ')} (nothing removed)`);
    for (const token of remove) await locks.unlock(token);
  }
  if (o.removeAll) await locks.dropTree([]);
  const held = (await locks.all()).sort((a, b) => a.expiresAtMs - b.expiresAtMs);
  if (o.json) {
    out(toJson(held.map((l) => lockJson(l, locks))));
    return;
  }
  out(`${held.length} WebDAV lock(s)`);
  for (const l of held) out(lockLine(l, locks));
}

export function webdavLocksCommand(): Command {
  const cmd = new Command('webdav-locks')
    .description('list the WebDAV locks held on the volume; break locks of clients that went away with --remove or --remove-all')
    .argument('[meta-url]', 'metadata engine URL (default: --meta, the config\'s meta.url, or the embedded volume in --data-dir)')
    .option('--json', 'print JSON for scripts', false)
    .option('--remove <token...>', 'remove the locks with these tokens (urn:uuid:…); none is removed when one is unknown')
    .option('--remove-all', 'remove every lock', false);
  return withVolumeSource(cmd)
    .action(async (arg: string | undefined, o: LocksOptions) => {
      const url = arg ?? adminConfig(o).meta.url;
      const changing = (o.remove ?? []).length > 0 || o.removeAll;
      await withFormattedMeta(url, { readOnly: !changing }, (meta) => run(meta, o));
    });
}
