import assert from 'node:assert/strict';
import { MemoryMountBackend } from '../../../src/protocols/nfs/mount/memory-backend.js';
import { mountProgram, mountProgramV1 } from '../../../src/protocols/nfs/mount/index.js';
import {
  decodeExports, decodeMountList, decodeMountRes3, MNT3_OK, MNT3ERR_ACCES, MNT3ERR_NOENT, MNTPATHLEN, MOUNT_PROG, MOUNT_V1, MOUNT_V3,
  MOUNTPROC3_DUMP, MOUNTPROC3_EXPORT, MOUNTPROC3_MNT, MOUNTPROC3_NULL, MOUNTPROC3_UMNT, MOUNTPROC3_UMNTALL,
} from '../../../src/protocols/nfs/mount/types.js';
import { AUTH_NONE, AUTH_SYS, GARBAGE_ARGS, PROC_UNAVAIL, PROG_MISMATCH, SUCCESS } from '../../../src/protocols/nfs/rpc/message.js';
import { RpcServer } from '../../../src/protocols/nfs/rpc/server.js';
import { XdrWriter } from '../../../src/protocols/nfs/xdr/writer.js';
import { RpcTestClient, successBody, sysCred, udpCall, type CallSpec } from '../../helpers/rpc-client.js';

const volFh = Buffer.alloc(32, 0xa1);
const localFh = Buffer.alloc(32, 0xb2);

describe('MOUNT v3 (RFC 1813 §5) over an in-memory export table', () => {
  let server: RpcServer;
  let tcpPort: number;
  let udpPort: number;
  let client: RpcTestClient;

  beforeEach(async () => {
    const backend = new MemoryMountBackend([
      { path: '/vol', fh: volFh },
      { path: '/private', fh: Buffer.alloc(32, 0xc3), allow: ['10.9.9.0/24', '192.0.2.1'] },
      { path: '/local', fh: localFh, allow: ['127.0.0.0/8'], authFlavors: [AUTH_SYS] },
    ]);
    server = new RpcServer().register(mountProgram(backend)).register(mountProgramV1(backend));
    tcpPort = (await server.listenTcp(0)).port;
    udpPort = (await server.listenUdp(0)).port;
    client = await RpcTestClient.connect(tcpPort);
  });

  afterEach(async () => {
    await client.close();
    await server.close();
  });

  const mountCall = (proc: number, path?: string | Buffer, vers = MOUNT_V3): CallSpec => ({
    prog: MOUNT_PROG, vers, proc, cred: sysCred(0, 0), ...(path === undefined ? {} : { args: new XdrWriter().string(path) }),
  });
  const mnt = async (path: string) => decodeMountRes3(successBody(await client.call(mountCall(MOUNTPROC3_MNT, path))));
  const dump = async () => decodeMountList(successBody(await client.call(mountCall(MOUNTPROC3_DUMP))));

  it('answers NULL', async () => {
    assert.equal((await client.call(mountCall(MOUNTPROC3_NULL))).stat, SUCCESS);
  });

  it('MNT of an open export returns its root handle and [AUTH_SYS, AUTH_NONE]', async () => {
    assert.deepEqual(await mnt('/vol'), { status: MNT3_OK, fh: volFh, authFlavors: [AUTH_SYS, AUTH_NONE] });
  });

  it('MNT from an address outside the allow-list returns MNT3ERR_ACCES', async () => {
    assert.deepEqual(await mnt('/private'), { status: MNT3ERR_ACCES });
  });

  it('MNT from an allowed network returns the handle and the export\'s flavors', async () => {
    assert.deepEqual(await mnt('/local'), { status: MNT3_OK, fh: localFh, authFlavors: [AUTH_SYS] });
  });

  it('MNT of an unknown path returns MNT3ERR_NOENT', async () => {
    assert.deepEqual(await mnt('/nope'), { status: MNT3ERR_NOENT });
  });

  it('MNT of a path longer than MNTPATHLEN is GARBAGE_ARGS', async () => {
    assert.equal((await client.call(mountCall(MOUNTPROC3_MNT, Buffer.alloc(MNTPATHLEN + 1, 0x61)))).stat, GARBAGE_ARGS);
  });

  it('EXPORT lists every export with its allowed groups', async () => {
    const list = decodeExports(successBody(await client.call(mountCall(MOUNTPROC3_EXPORT))));
    assert.deepEqual(list.map((e) => ({ dir: e.dir.toString(), groups: e.groups })), [
      { dir: '/vol', groups: [] },
      { dir: '/private', groups: ['10.9.9.0/24', '192.0.2.1'] },
      { dir: '/local', groups: ['127.0.0.0/8'] },
    ]);
  });

  it('DUMP shows successful mounts; UMNT and UMNTALL remove them', async () => {
    assert.deepEqual(await dump(), []);
    await mnt('/vol');
    await mnt('/local');
    await mnt('/private');
    assert.deepEqual((await dump()).map((m) => `${m.hostname}:${m.directory.toString()}`), ['127.0.0.1:/vol', '127.0.0.1:/local']);
    const umnt = await client.call(mountCall(MOUNTPROC3_UMNT, '/vol'));
    assert.equal(successBody(umnt).remaining, 0);
    assert.deepEqual((await dump()).map((m) => m.directory.toString()), ['/local']);
    assert.equal((await client.call(mountCall(MOUNTPROC3_UMNTALL))).stat, SUCCESS);
    assert.deepEqual(await dump(), []);
  });

  it('serves MNT and EXPORT over UDP', async () => {
    const res = decodeMountRes3(successBody(await udpCall(udpPort, mountCall(MOUNTPROC3_MNT, '/vol'))));
    assert.equal(res.status, MNT3_OK);
    assert.deepEqual(res.fh, volFh);
    const list = decodeExports(successBody(await udpCall(udpPort, mountCall(MOUNTPROC3_EXPORT))));
    assert.equal(list.length, 3);
  });

  it('serves EXPORT on version 1 for showmount, without MNT, and answers version 2 with PROG_MISMATCH(1, 3)', async () => {
    const list = decodeExports(successBody(await client.call(mountCall(MOUNTPROC3_EXPORT, undefined, MOUNT_V1))));
    assert.equal(list.length, 3);
    assert.equal((await client.call(mountCall(MOUNTPROC3_MNT, '/vol', MOUNT_V1))).stat, PROC_UNAVAIL);
    const v2 = await client.call(mountCall(MOUNTPROC3_NULL, undefined, 2));
    assert.equal(v2.stat === PROG_MISMATCH && `${v2.low}-${v2.high}`, '1-3');
  });
});
