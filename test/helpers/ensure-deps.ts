/**
 * Run before the tests (npm pretest): checks that the Debian packages the tests drive exist and,
 * when running as root with apt-get available, installs the missing ones. Otherwise it fails and
 * names the packages. Never a silent skip.
 */
import { execFileSync, spawnSync } from 'node:child_process';

const needed: { bin: string; pkg: string }[] = [
  { bin: 'redis-server', pkg: 'redis-server' },
  // certificates for the TLS tests (Redis mutual TLS, WebDAV over HTTPS)
  { bin: 'openssl', pkg: 'openssl' },
  // reference codecs for the compression compatibility tests (spec §D.3)
  { bin: 'lz4', pkg: 'lz4' },
  { bin: 'zstd', pkg: 'zstd' },
  // an independent NFSv3 client for the e2e tests (test/e2e/nfs/libnfs.test.ts)
  { bin: 'nfs-ls', pkg: 'libnfs-utils' },
  // WebDAV conformance suite (test/e2e/webdav/litmus.test.ts)
  { bin: 'litmus', pkg: 'litmus' },
  // real WebDAV clients (test/e2e/webdav: rclone, cadaver, davfs2 FUSE mount)
  { bin: 'rclone', pkg: 'rclone' },
  { bin: 'cadaver', pkg: 'cadaver' },
  { bin: '/usr/sbin/mount.davfs', pkg: 'davfs2' },
  // binds the fake systemd notify socket (test/helpers/notify-socket.ts)
  { bin: 'python3', pkg: 'python3' },
  // compiles the Node-API addon (scripts/build-native.sh) and, for the .deb, better-sqlite3
  { bin: 'cc', pkg: 'build-essential' },
  // the package tests (test/e2e/package): lintian, systemd-analyze verify, a clean Debian root
  { bin: 'lintian', pkg: 'lintian' },
  { bin: 'systemd-analyze', pkg: 'systemd' },
  { bin: 'debootstrap', pkg: 'debootstrap' },
  // a system rpcbind, run in a private network namespace (test/e2e/nfs/rpcbind.test.ts)
  { bin: 'rpcbind', pkg: 'rpcbind' },
  { bin: 'ip', pkg: 'iproute2' },
];

// `ensure-deps.js kernel` (npm run test:kernel) also checks what the qemu guest of
// test/e2e/nfs/kernel-client.test.ts needs: the emulator, modprobe/depmod for its initramfs, and git
// for the POSIX suite (the kernel and busybox debs are fetched by nfs-vm setup).
if (process.argv.includes('kernel')) {
  needed.push(
    { bin: 'qemu-system-x86_64', pkg: 'qemu-system-x86' },
    { bin: 'depmod', pkg: 'kmod' },
    { bin: 'git', pkg: 'git' },
  );
}

const has = (bin: string): boolean => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;

const missing = needed.filter((n) => !has(n.bin)).map((n) => n.pkg);
if (missing.length > 0) {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root || !has('apt-get')) {
    process.stderr.write(`ferry tests need these Debian packages: ${missing.join(' ')}\n` +
      `install them with: apt-get install -y ${missing.join(' ')}\n`);
    process.exit(1);
  }
  process.stderr.write(`installing missing test dependencies: ${missing.join(' ')}\n`);
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  const still = needed.filter((n) => !has(n.bin)).map((n) => n.pkg);
  if (still.length > 0) {
    process.stderr.write(`could not install: ${still.join(' ')}\n`);
    process.exit(1);
  }
}
