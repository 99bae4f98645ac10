/**
 * A clean Debian 12 (bookworm) root for package install tests: made once with debootstrap
 * (minbase plus adduser, from deb.debian.org) into build/cache/bookworm-root, then copied per
 * test. Needs root (chroot) and the debootstrap package; fails with a clear message otherwise.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from './tmp.js';

const repo = new URL('../../../', import.meta.url).pathname;
const cached = join(repo, 'build/cache/bookworm-root');

/** Path of a fresh copy of a minimal bookworm root; removed with the other temp dirs. */
export function cleanDebianRoot(): string {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) throw new Error('the install test needs root (chroot, dpkg in a chroot)');
  if (!existsSync(cached)) {
    const tmp = `${cached}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    const r = spawnSync('debootstrap', ['--variant=minbase', '--include=adduser', 'bookworm', tmp, 'http://deb.debian.org/debian'], { encoding: 'utf8' });
    if (r.error !== undefined || r.status !== 0) throw new Error(`debootstrap failed (apt-get install -y debootstrap?): ${r.error?.message ?? r.stderr.slice(-2000)}`);
    renameSync(tmp, cached);
  }
  const root = join(tmpDir('ferry-chroot-'), 'root');
  execFileSync('cp', ['-a', cached, root]);
  return root;
}

const ROOT_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', DEBIAN_FRONTEND: 'noninteractive' };

/**
 * Starts a long-running command inside the root as `user` (chroot --userspec execs it, so the
 * child's PID is the command's and signals reach it directly). The root shares the host network.
 */
export function spawnInRoot(root: string, user: string, cmd: string[]): ChildProcess {
  return spawn('chroot', [`--userspec=${user}:${user}`, root, ...cmd], { env: { ...ROOT_ENV, HOME: '/' }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs a command inside the root; returns status and output. */
export function inRoot(root: string, cmd: string[]): { status: number | null; out: string } {
  const [bin, ...args] = cmd;
  if (bin === undefined) throw new Error('empty command');
  const r = spawnSync('chroot', [root, bin, ...args], { encoding: 'utf8', env: ROOT_ENV });
  if (r.error) throw r.error;
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}
