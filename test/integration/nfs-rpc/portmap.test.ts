import assert from 'node:assert/strict';
import { IPPROTO_TCP, IPPROTO_UDP, PMAP_PROG, PMAP_VERS, PMAPPROC_CALLIT, PMAPPROC_DUMP, PMAPPROC_GETPORT, PMAPPROC_NULL, PMAPPROC_SET, decodeMapping, encodeMapping, type Mapping } from '../../../src/protocols/nfs/portmap/types.js';
import { portmapProgram } from '../../../src/protocols/nfs/portmap/index.js';
import { PortmapRegistry } from '../../../src/protocols/nfs/portmap/registry.js';
import { pmapDump, pmapGetport, pmapRegister, pmapSet, pmapUnset } from '../../../src/protocols/nfs/portmap/client.js';
import { logger } from '../../../src/observability/logger.js';
import { authenticate } from '../../../src/protocols/nfs/rpc/auth-unix.js';
import { NULL_AUTH, PROC_UNAVAIL, SUCCESS } from '../../../src/protocols/nfs/rpc/message.js';
import { RpcServer } from '../../../src/protocols/nfs/rpc/server.js';
import { XdrReader } from '../../../src/protocols/nfs/xdr/reader.js';
import { XdrWriter } from '../../../src/protocols/nfs/xdr/writer.js';
import { RpcTestClient, successBody, udpCall } from '../../helpers/rpc-client.js';

const NFS_PROG = 100003;
const MOUNT_PROG = 100005;
const mappingArgs = (m: Mapping): XdrWriter => {
  const w = new XdrWriter();
  encodeMapping(w, m);
  return w;
};

describe('portmapper v2 (RFC 1833)', () => {
  let server: RpcServer;
  let registry: PortmapRegistry;
  let tcpPort: number;
  let udpPort: number;
  let client: RpcTestClient;

  beforeEach(async () => {
    registry = new PortmapRegistry();
    server = new RpcServer().register(portmapProgram(registry));
    tcpPort = (await server.listenTcp(0)).port;
    udpPort = (await server.listenUdp(0)).port;
    registry.set({ prog: PMAP_PROG, vers: PMAP_VERS, prot: IPPROTO_TCP, port: tcpPort });
    registry.set({ prog: PMAP_PROG, vers: PMAP_VERS, prot: IPPROTO_UDP, port: udpPort });
    registry.set({ prog: NFS_PROG, vers: 3, prot: IPPROTO_TCP, port: 2049 });
    registry.set({ prog: MOUNT_PROG, vers: 3, prot: IPPROTO_TCP, port: 20048 });
    client = await RpcTestClient.connect(tcpPort);
  });

  afterEach(async () => {
    await client.close();
    await server.close();
  });

  const getport = (prog: number, vers: number, prot: number) =>
    ({ prog: PMAP_PROG, vers: PMAP_VERS, proc: PMAPPROC_GETPORT, args: mappingArgs({ prog, vers, prot, port: 0 }) });

  it('answers NULL over TCP and UDP', async () => {
    assert.equal((await client.call({ prog: PMAP_PROG, vers: PMAP_VERS, proc: PMAPPROC_NULL })).stat, SUCCESS);
    assert.equal((await udpCall(udpPort, { prog: PMAP_PROG, vers: PMAP_VERS, proc: PMAPPROC_NULL })).stat, SUCCESS);
  });

  it('GETPORT returns the registered port over TCP and UDP, and 0 for an unknown mapping', async () => {
    assert.equal(successBody(await client.call(getport(NFS_PROG, 3, IPPROTO_TCP))).u32(), 2049);
    assert.equal(successBody(await udpCall(udpPort, getport(MOUNT_PROG, 3, IPPROTO_TCP))).u32(), 20048);
    assert.equal(successBody(await udpCall(udpPort, getport(NFS_PROG, 3, IPPROTO_UDP))).u32(), 0);
    assert.equal(successBody(await client.call(getport(NFS_PROG, 4, IPPROTO_TCP))).u32(), 0);
  });

  it('DUMP lists every mapping over TCP and UDP', async () => {
    const expected = registry.dump();
    const tcp = successBody(await client.call({ prog: PMAP_PROG, vers: PMAP_VERS, proc: PMAPPROC_DUMP })).list(100, decodeMapping);
    const udp = successBody(await udpCall(udpPort, { prog: PMAP_PROG, vers: PMAP_VERS, proc: PMAPPROC_DUMP })).list(100, decodeMapping);
    assert.deepEqual(tcp, expected);
    assert.deepEqual(udp, expected);
    assert.equal(expected.length, 4);
  });

  it('SET refuses to replace an existing (prog, vers, prot) and UNSET removes all protocols', async () => {
    const target = { host: '127.0.0.1', port: udpPort, transport: 'udp' as const };
    assert.equal(await pmapSet({ prog: NFS_PROG, vers: 3, prot: IPPROTO_TCP, port: 9999 }, target), false);
    assert.equal(await pmapSet({ prog: NFS_PROG, vers: 3, prot: IPPROTO_UDP, port: 2049 }, target), true);
    assert.equal(await pmapGetport(NFS_PROG, 3, IPPROTO_UDP, target), 2049);
    assert.equal(await pmapUnset(NFS_PROG, 3, target), true);
    assert.equal(await pmapGetport(NFS_PROG, 3, IPPROTO_TCP, target), 0);
    assert.equal(await pmapGetport(NFS_PROG, 3, IPPROTO_UDP, target), 0);
    assert.equal(await pmapUnset(NFS_PROG, 3, target), false);
  });

  it('the registration client replaces stale mappings over TCP, as at start-up after a crash', async () => {
    const target = { host: '127.0.0.1', port: tcpPort, transport: 'tcp' as const };
    const mine = [
      { prog: NFS_PROG, vers: 3, prot: IPPROTO_TCP, port: 3049 },
      { prog: MOUNT_PROG, vers: 3, prot: IPPROTO_TCP, port: 3048 },
      { prog: MOUNT_PROG, vers: 3, prot: IPPROTO_UDP, port: 3048 },
    ];
    assert.deepEqual(await pmapRegister(mine, target), []);
    const dumped = await pmapDump(target);
    for (const m of mine) assert.ok(dumped.some((d) => d.prog === m.prog && d.vers === m.vers && d.prot === m.prot && d.port === m.port), JSON.stringify(m));
    assert.equal(dumped.filter((d) => d.prog === NFS_PROG).length, 1);
  });

  it('refuses SET and UNSET from a caller that is not on loopback', async () => {
    const program = portmapProgram(registry);
    const ctx = {
      xid: 1, prog: PMAP_PROG, vers: PMAP_VERS, proc: PMAPPROC_SET, cred: { uid: 0, gid: 0, gids: [] }, auth: authenticate(NULL_AUTH, NULL_AUTH),
      peer: { address: '192.0.2.7', port: 111 }, transport: 'udp' as const, signal: new AbortController().signal, log: logger,
    };
    const call = async (proc: number, m: Mapping): Promise<boolean> => {
      const p = program.procedures.get(proc);
      assert.ok(p !== undefined);
      const [body] = await p.call(new XdrReader(mappingArgs(m).toBuffer()), ctx);
      assert.ok(body !== undefined);
      return new XdrReader(body).bool();
    };
    assert.equal(await call(PMAPPROC_SET, { prog: 400000, vers: 1, prot: IPPROTO_TCP, port: 1 }), false);
    assert.equal(await call(2, { prog: NFS_PROG, vers: 3, prot: 0, port: 0 }), false);
    assert.equal(registry.getport(400000, 1, IPPROTO_TCP), 0);
    assert.equal(registry.getport(NFS_PROG, 3, IPPROTO_TCP), 2049);
  });

  it('answers CALLIT with PROC_UNAVAIL', async () => {
    assert.equal((await udpCall(udpPort, { prog: PMAP_PROG, vers: PMAP_VERS, proc: PMAPPROC_CALLIT })).stat, PROC_UNAVAIL);
  });
});
