/**
 * The NFS service of one appliance: NFSv3 (RFC 1813) over TCP on `nfsPort` with the duplicate
 * request cache, MOUNT v3 (+v1 for showmount) over TCP and UDP on `mountPort`, and optionally a
 * portmapper of our own on 111 ('own') or registration with the system rpcbind ('rpcbind'). NLM
 * is not served: lock calls get PROG_UNAVAIL, so clients mount with `nolock` (Linux) or
 * `locallocks` (macOS). Startup and shutdown only; the programs live in nfs3/, mount/, portmap/.
 */
import type { AddressInfo } from 'node:net';
import { logger as rootLogger, type Logger } from '../../observability/logger.js';
import type { OpObserver } from '../../observability/ops.js';
import { DuplicateRequestCache, type DrcOptions } from './drc.js';
import { ExportTable, type ExportConfig } from './exports.js';
import { ExportMountBackend } from './mount/export-backend.js';
import { mountProgram, mountProgramV1 } from './mount/index.js';
import { MOUNT_PROG, MOUNT_V1, MOUNT_V3 } from './mount/types.js';
import { Nfs3Context, type Nfs3Limits } from './nfs3/context.js';
import { FileHandleCodec } from './nfs3/filehandle.js';
import { nfs3Program } from './nfs3/index.js';
import { NFS_PROGRAM, NFS_V3 } from './nfs3/types.js';
import { VfsNfsFileSystem, type VfsApi } from './nfs3/vfs-adapter.js';
import { WriteVerifier } from './nfs3/write-verifier.js';
import { pmapRegister, pmapUnset, SYSTEM_PORTMAPPER } from './portmap/client.js';
import { portmapProgram } from './portmap/index.js';
import { PortmapRegistry } from './portmap/registry.js';
import { IPPROTO_TCP, IPPROTO_UDP, PMAP_PORT, PMAP_PROG, PMAP_VERS, type Mapping } from './portmap/types.js';
import { RpcServer } from './rpc/server.js';

export const DEFAULT_NFS_PORT = 2049;
export const DEFAULT_MOUNT_PORT = 20048;

export interface NfsServerOptions {
  /** The vfs every export serves a directory of. */
  vfs: VfsApi;
  /** UUID of the volume: file handles and fsid derive from it. */
  volumeUuid: string;
  /** Server secret mixed into the handle MAC key; the same on every appliance of the volume. */
  handleSecret?: string;
  /** The exports (at least one); see exports.ts for the options. */
  exports: readonly ExportConfig[];
  /** TCP port of NFS; 0 picks a free one. Default 2049. */
  nfsPort?: number;
  /** TCP and UDP port of MOUNT; 0 picks a free one. Default 20048. */
  mountPort?: number;
  /** Address to bind. Default '0.0.0.0'. */
  host?: string;
  /** 'own': run a portmapper on `portmapPort` (111); 'rpcbind': register with the system one; 'none'. Default 'none'. */
  portmap?: 'own' | 'rpcbind' | 'none';
  /** Port of our own portmapper ('own'). Default 111. */
  portmapPort?: number;
  /** Parent logger; the server logs under { module: 'nfs' }. */
  logger?: Logger;
  /** Duplicate request cache tuning (entries, bytes, TTL). */
  drc?: Partial<DrcOptions>;
  /** Transfer sizes advertised in FSINFO (default 1 MiB reads and writes). */
  limits?: Partial<Nfs3Limits>;
  /** Told about every NFSv3 call (procedure, latency, failure status), e.g. for metrics. */
  observer?: OpObserver;
  /** Told about every MOUNT call (v1 and v3), e.g. for metrics. */
  mountObserver?: OpObserver;
  /** Idle time after which an open handle the server holds for an inode is released (written files are flushed). */
  handleIdleMs?: number;
  /** Calls processed at once over all TCP connections of NFS (and, separately, of MOUNT); 0 no bound. Default 256. */
  maxInFlight?: number;
  /** A TCP connection idle this long with nothing in flight is closed; 0 never. Default 6 min. */
  idleTimeoutMs?: number;
  /** How old the attributes of READ and WRITE replies may be (VfsAdapterOptions.dataAttrMs). */
  dataAttrMs?: number;
}

export interface NfsServer {
  /** The bound ports (portmap null unless 'own'). */
  readonly ports: { nfs: number; mount: number; portmap: number | null };
  /** The WRITE/COMMIT verifier; change() it when buffered data was lost. */
  readonly verifier: WriteVerifier;
  /**
   * Replaces the export table (SIGHUP reload). Throws, keeping the old table, when the new one is
   * invalid. Handles of an export that keeps its name stay valid; those of a removed one go stale.
   */
  setExports(exports: readonly ExportConfig[]): void;
  /** Unregisters from rpcbind, stops listening, closes connections. */
  close(): Promise<void>;
}

export async function startNfsServer(o: NfsServerOptions): Promise<NfsServer> {
  const log = (o.logger ?? rootLogger).child({ module: 'nfs' });
  const host = o.host ?? '0.0.0.0';
  const verifier = new WriteVerifier();
  const fs = new VfsNfsFileSystem(o.vfs, {
    log,
    onDataLost: () => verifier.change(),
    ...(o.handleIdleMs === undefined ? {} : { idleMs: o.handleIdleMs }),
    ...(o.dataAttrMs === undefined ? {} : { dataAttrMs: o.dataAttrMs }),
  });
  const ctx = new Nfs3Context({
    fs,
    exports: new ExportTable(o.exports),
    handles: new FileHandleCodec(o.volumeUuid, o.handleSecret ?? ''),
    verifier,
    log,
    ...(o.limits === undefined ? {} : { limits: o.limits }),
  });
  const backend = new ExportMountBackend(ctx);
  const limits = {
    ...(o.maxInFlight === undefined ? {} : { maxInFlight: o.maxInFlight }),
    ...(o.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: o.idleTimeoutMs }),
  };
  const nfs = new RpcServer({ ...limits, drc: new DuplicateRequestCache(o.drc), log: log.child({ service: 'nfs' }), observer: o.observer }).register(nfs3Program(ctx));
  const mount = new RpcServer({ ...limits, log: log.child({ service: 'mount' }), observer: o.mountObserver }).register(mountProgram(backend)).register(mountProgramV1(backend));
  const servers: RpcServer[] = [nfs, mount];
  let registered: Mapping[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all(servers.map((s) => s.close()));
    await fs.close();
  };
  try {
    const nfsPort = (await nfs.listenTcp(o.nfsPort ?? DEFAULT_NFS_PORT, host)).port;
    const mountPort = (await mount.listenTcp(o.mountPort ?? DEFAULT_MOUNT_PORT, host)).port;
    await mount.listenUdp(mountPort, host);
    const mappings: Mapping[] = [
      { prog: NFS_PROGRAM, vers: NFS_V3, prot: IPPROTO_TCP, port: nfsPort },
      ...[MOUNT_V3, MOUNT_V1].flatMap((vers) => [
        { prog: MOUNT_PROG, vers, prot: IPPROTO_TCP, port: mountPort },
        { prog: MOUNT_PROG, vers, prot: IPPROTO_UDP, port: mountPort },
      ]),
    ];
    let portmapPort: number | null = null;
    if (o.portmap === 'own') {
      const registry = new PortmapRegistry();
      const pmap = new RpcServer({ log: log.child({ service: 'portmap' }) }).register(portmapProgram(registry));
      servers.push(pmap);
      const addr: AddressInfo = await pmap.listenTcp(o.portmapPort ?? PMAP_PORT, host);
      portmapPort = addr.port;
      await pmap.listenUdp(portmapPort, host);
      registry.set({ prog: PMAP_PROG, vers: PMAP_VERS, prot: IPPROTO_TCP, port: portmapPort });
      registry.set({ prog: PMAP_PROG, vers: PMAP_VERS, prot: IPPROTO_UDP, port: portmapPort });
      for (const m of mappings) registry.set(m);
    } else if (o.portmap === 'rpcbind') {
      try {
        const refused = await pmapRegister(mappings);
        registered = mappings.filter((m) => !refused.includes(m));
        if (refused.length > 0) log.warn({ refused }, 'rpcbind refused some registrations');
      } catch (err) {
        log.warn({ err }, 'could not register with the system rpcbind; clients must give port= and mountport=');
      }
    }
    log.info({ nfsPort, mountPort, portmapPort, exports: ctx.exports.list().map((e) => ({ name: e.name, path: e.path, ro: e.readOnly })) }, 'nfs server started');
    return {
      ports: { nfs: nfsPort, mount: mountPort, portmap: portmapPort },
      verifier,
      setExports(exports: readonly ExportConfig[]) {
        if (exports.length === 0) throw new Error('at least one export is needed');
        ctx.exports = new ExportTable(exports);
        log.info({ exports: ctx.exports.list().map((e) => ({ name: e.name, path: e.path, ro: e.readOnly })) }, 'exports reloaded');
      },
      async close() {
        if (registered.length > 0) {
          for (const prog of [NFS_PROGRAM, MOUNT_PROG]) {
            for (const vers of prog === NFS_PROGRAM ? [NFS_V3] : [MOUNT_V3, MOUNT_V1]) {
              await pmapUnset(prog, vers, SYSTEM_PORTMAPPER).catch((err: unknown) => log.debug({ err }, 'rpcbind unset failed'));
            }
          }
        }
        await closeAll();
        log.info('nfs server stopped');
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
