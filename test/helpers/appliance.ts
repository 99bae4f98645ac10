/**
 * `ferry serve --config FILE` as a child process for appliance tests: free loopback ports for NFS,
 * MOUNT, WebDAV and admin, a config file in a temp dir (extra YAML sections appended), waiting for
 * /readyz, scraping /metrics, and stopping by signal with the exit code. Logs are collected for
 * assertion messages. It kills the child by PID if a test leaves it running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.js';
import { tmpDir } from './tmp.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface AppliancePorts {
  nfs: number;
  mount: number;
  webdav: number;
  admin: number;
}

export interface RunningAppliance {
  /** Temp dir holding ferry.yaml and, by default, data-dir `<dir>/data`. */
  dir: string;
  config: string;
  ports: AppliancePorts;
  child: ChildProcess;
  /** stdout and stderr so far. */
  out(): string;
  /** Sends `signal` (default SIGTERM) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** The /metrics text. */
  metrics(): Promise<string>;
}

/** Polls /readyz until 200; fails with the collected output when the process exits or 20 s pass. */
export async function waitReady(adminPort: number, exited: () => boolean, out: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exited()) throw new Error(`ferry serve exited: ${out()}`);
    const status = await fetch(`http://127.0.0.1:${adminPort}/readyz`).then((r) => r.status, () => 0);
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`not ready in time: ${out()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** data-dir in `dir` and the nfs section: listeners on 127.0.0.1, no portmapper, / exported to loopback. */
export function nfsConfig(dir: string, ports: AppliancePorts, access: 'rw' | 'ro' = 'rw'): string[] {
  return [
    `data-dir: ${join(dir, 'data')}`,
    'nfs:',
    '  host: 127.0.0.1',
    `  port: ${ports.nfs}`,
    `  mount-port: ${ports.mount}`,
    '  portmap: none',
    '  exports:',
    '    - path: /',
    '      clients: ["127.0.0.0/8"]',
    '      squash: no_root_squash',
    `      access: ${access}`,
  ];
}

/** The admin section on 127.0.0.1. */
export const adminConfig = (ports: AppliancePorts): string[] => ['admin:', `  listen: 127.0.0.1:${ports.admin}`];

/** The base config: nfsConfig, anonymous read-write WebDAV on 127.0.0.1, adminConfig. */
export function baseConfig(dir: string, ports: AppliancePorts): string[] {
  return [...nfsConfig(dir, ports), 'webdav:', `  listen: 127.0.0.1:${ports.webdav}`, '  anonymous: read-write', ...adminConfig(ports)];
}

/**
 * Starts the appliance with baseConfig plus `extra` YAML lines (top-level sections such as
 * `cache:`), or with the lines `config(dir, ports)` returns; resolves once /readyz is 200.
 */
export async function startServeProcess(opts: { extra?: string[]; config?: (dir: string, ports: AppliancePorts) => string[]; env?: NodeJS.ProcessEnv } = {}): Promise<RunningAppliance> {
  const dir = tmpDir('ferry-appliance-');
  const ports: AppliancePorts = { nfs: await freePort(), mount: await freePort(), webdav: await freePort(), admin: await freePort() };
  const config = join(dir, 'ferry.yaml');
  const lines = opts.config?.(dir, ports) ?? [...baseConfig(dir, ports), ...(opts.extra ?? [])];
  writeFileSync(config, `${lines.join('\n')}\n`);
  const child = spawn(process.execPath, [main, 'serve', '--config', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FERRY_LOG_LEVEL: 'warn', ...opts.env },
  });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => { out += b.toString(); });
  child.stderr?.on('data', (b: Buffer) => { out += b.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const running: RunningAppliance = {
    dir, config, ports, child,
    out: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    async metrics() {
      const r = await fetch(`http://127.0.0.1:${ports.admin}/metrics`);
      if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`);
      return r.text();
    },
  };
  try {
    await waitReady(ports.admin, () => child.exitCode !== null, () => out);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return running;
}

/**
 * The value of one sample in Prometheus text: `name` with exactly `labels` (any order); undefined
 * when there is no such sample.
 */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',');
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const got = (m[2] ?? '').split(/,(?=[a-zA-Z_]+=")/).filter((l) => l !== '').sort().join(',');
    if (got === want) return Number(m[3]);
  }
  return undefined;
}
