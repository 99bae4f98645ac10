/**
 * Takes pages of a file out of the page cache: rewrites them (same bytes) with O_DIRECT, which
 * drops their cached copies. The file's file system must support O_DIRECT (ext4 here, not tmpfs).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

export const PAGE = 4096;

/** Evicts `pages` pages of `path` from page `first` on (to the end of the file when `pages` is absent). */
export function evictPages(path: string, first: number, pages?: number): void {
  const count = pages === undefined ? [] : [`count=${pages}`];
  const dd = spawnSync('dd', [`if=${path}`, `of=${path}`, `bs=${PAGE}`, `skip=${first}`, `seek=${first}`, ...count, 'iflag=direct', 'oflag=direct', 'conv=notrunc'], { encoding: 'utf8' });
  assert.equal(dd.status, 0, `dd with O_DIRECT failed: ${dd.stderr}`);
}
