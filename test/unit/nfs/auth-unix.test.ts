import assert from 'node:assert/strict';
import { ANONYMOUS_GID, ANONYMOUS_UID, authenticate, decodeAuthSys, encodeAuthSys, RpcAuthError } from '../../../src/protocols/nfs/rpc/auth-unix.js';
import { AUTH_BADCRED, AUTH_BADVERF, AUTH_DH, AUTH_NONE, AUTH_SYS, NULL_AUTH, RPCSEC_GSS } from '../../../src/protocols/nfs/rpc/message.js';
import { XdrWriter } from '../../../src/protocols/nfs/xdr/writer.js';

const sys = (over: Partial<{ machinename: Buffer; uid: number; gid: number; gids: number[] }> = {}) =>
  encodeAuthSys({ stamp: 42, machinename: Buffer.from('client'), uid: 1000, gid: 100, gids: [100, 27], ...over });

const badcred = (e: unknown): boolean => e instanceof RpcAuthError && e.authStat === AUTH_BADCRED;

describe('RPC credentials: AUTH_SYS and AUTH_NONE (RFC 5531 §10, Appendix A)', () => {
  it('turns AUTH_SYS into uid, gid and supplementary gids', () => {
    const a = authenticate(sys(), NULL_AUTH);
    assert.equal(a.flavor, AUTH_SYS);
    assert.deepEqual(a.cred, { uid: 1000, gid: 100, gids: [100, 27] });
    assert.equal(a.machinename.toString(), 'client');
  });

  it('lays out AUTH_SYS as stamp, machinename, uid, gid, gids', () => {
    const body = sys({ machinename: Buffer.from('h'), gids: [5] }).body;
    assert.equal(body.toString('hex'), '0000002a' + '00000001' + '68000000' + '000003e8' + '00000064' + '00000001' + '00000005');
    assert.deepEqual(decodeAuthSys(body), { stamp: 42, machinename: Buffer.from('h'), uid: 1000, gid: 100, gids: [5] });
  });

  it('accepts the limits: a 255-byte machinename and 16 gids', () => {
    const gids = Array.from({ length: 16 }, (_, i) => i);
    const a = authenticate(sys({ machinename: Buffer.alloc(255, 0x61), gids }), NULL_AUTH);
    assert.deepEqual(a.cred.gids, gids);
  });

  it('rejects a 256-byte machinename, 17 gids, truncation and trailing bytes with AUTH_BADCRED', () => {
    const longName = { flavor: AUTH_SYS, body: new XdrWriter().u32(1).opaque(Buffer.alloc(256)).u32(0).u32(0).u32(0).toBuffer() };
    assert.throws(() => authenticate(longName, NULL_AUTH), badcred);
    const manyGids = { flavor: AUTH_SYS, body: new XdrWriter().u32(1).string('h').u32(0).u32(0).array(Array(17).fill(1), (w, g: number) => w.u32(g)).toBuffer() };
    assert.throws(() => authenticate(manyGids, NULL_AUTH), badcred);
    const good = sys().body;
    assert.throws(() => authenticate({ flavor: AUTH_SYS, body: good.subarray(0, good.length - 4) }, NULL_AUTH), badcred);
    assert.throws(() => authenticate({ flavor: AUTH_SYS, body: Buffer.concat([good, Buffer.alloc(4)]) }, NULL_AUTH), badcred);
  });

  it('maps AUTH_NONE to the anonymous ids', () => {
    const a = authenticate(NULL_AUTH, NULL_AUTH);
    assert.equal(a.flavor, AUTH_NONE);
    assert.deepEqual(a.cred, { uid: ANONYMOUS_UID, gid: ANONYMOUS_GID, gids: [] });
  });

  it('rejects AUTH_DH and RPCSEC_GSS with AUTH_BADCRED and a non-null verifier with AUTH_BADVERF', () => {
    assert.throws(() => authenticate({ flavor: AUTH_DH, body: Buffer.alloc(8) }, NULL_AUTH), badcred);
    assert.throws(() => authenticate({ flavor: RPCSEC_GSS, body: Buffer.alloc(8) }, NULL_AUTH), badcred);
    assert.throws(() => authenticate(sys(), { flavor: AUTH_SYS, body: Buffer.alloc(4) }), (e: unknown) => e instanceof RpcAuthError && e.authStat === AUTH_BADVERF);
  });
});
