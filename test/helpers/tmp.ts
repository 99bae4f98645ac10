/** Temporary directories removed when the test run ends. */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

export function tmpDir(prefix = 'ferry-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/**
 * A temporary directory on another file system than tmpDir()'s (tmpfs /dev/shm), for cache dirs
 * that must not sit next to a file store: Ferry keeps no disk cache of a file store on the cache
 * dir's own file system.
 */
export function tmpDirOnOtherFs(prefix = 'ferry-test-'): string {
  const dir = mkdtempSync(join('/dev/shm', prefix));
  made.push(dir);
  if (statSync(dir).dev === statSync(tmpdir()).dev) throw new Error(`/dev/shm is on the same file system as ${tmpdir()}: these tests need a second one`);
  return dir;
}

export function removeTmpDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}
