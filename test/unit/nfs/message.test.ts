import assert from 'node:assert/strict';
import {
  AUTH_BADCRED, AUTH_NONE, AUTH_SYS, decodeReply, encodeCall, encodeReply, GARBAGE_ARGS, NULL_AUTH, parseCall,
  PROC_UNAVAIL, PROG_MISMATCH, PROG_UNAVAIL, SUCCESS, SYSTEM_ERR,
} from '../../../src/protocols/nfs/rpc/message.js';
import { XdrWriter } from '../../../src/protocols/nfs/xdr/writer.js';

describe('RPC messages (RFC 5531 §9)', () => {
  it('encodes a call header field by field', () => {
    const msg = encodeCall({ xid: 0x01020304, prog: 100003, vers: 3, proc: 1, cred: NULL_AUTH, verf: NULL_AUTH }, Buffer.from([0, 0, 0, 9]));
    assert.equal(msg.toString('hex'),
      '01020304' + '00000000' + '00000002' + '000186a3' + '00000003' + '00000001' +
      '00000000' + '00000000' + '00000000' + '00000000' + '00000009');
  });

  it('parses a call into header and a view of the argument bytes', () => {
    const cred = { flavor: AUTH_SYS, body: Buffer.from('12345678', 'hex') };
    const p = parseCall(encodeCall({ xid: 7, prog: 100005, vers: 3, proc: 1, cred, verf: NULL_AUTH }, Buffer.from('abcd')));
    assert.equal(p.kind, 'call');
    if (p.kind !== 'call') return;
    assert.deepEqual(p.header, { xid: 7, rpcvers: 2, prog: 100005, vers: 3, proc: 1, cred, verf: { flavor: AUTH_NONE, body: Buffer.alloc(0) } });
    assert.equal(p.args.toString(), 'abcd');
  });

  it('drops records too short for a header and replies sent to a server', () => {
    assert.equal(parseCall(Buffer.alloc(4)).kind, 'drop');
    assert.equal(parseCall(new XdrWriter().u32(1).u32(1).u32(0).view()).kind, 'drop');
  });

  it('answers a wrong RPC version with RPC_MISMATCH(2, 2)', () => {
    const p = parseCall(encodeCall({ xid: 9, rpcvers: 3, prog: 1, vers: 1, proc: 0, cred: NULL_AUTH, verf: NULL_AUTH }));
    assert.equal(p.kind, 'reject');
    if (p.kind !== 'reject') return;
    assert.deepEqual(decodeReply(Buffer.concat(encodeReply(p.reply))), { xid: 9, stat: 'rpc-mismatch', low: 2, high: 2 });
  });

  it('answers a credential over 400 bytes with AUTH_BADCRED and a truncated header with GARBAGE_ARGS', () => {
    const w = new XdrWriter().u32(5).u32(0).u32(2).u32(100000).u32(2).u32(0).u32(AUTH_SYS).opaque(Buffer.alloc(404));
    const p = parseCall(w.view());
    assert.equal(p.kind === 'reject' && p.reply.stat === 'auth-error' && p.reply.authStat === AUTH_BADCRED, true);
    const truncated = new XdrWriter().u32(6).u32(0).u32(2).u32(100000).view();
    const q = parseCall(truncated);
    assert.equal(q.kind === 'reject' && q.xid === 6 && q.reply.stat === GARBAGE_ARGS, true);
  });

  it('encodes and decodes every accepted and denied reply', () => {
    const cases = [
      { xid: 1, stat: PROG_UNAVAIL },
      { xid: 2, stat: PROC_UNAVAIL },
      { xid: 3, stat: GARBAGE_ARGS },
      { xid: 4, stat: SYSTEM_ERR },
    ] as const;
    for (const c of cases) assert.deepEqual(decodeReply(Buffer.concat(encodeReply(c))), { ...c, verf: NULL_AUTH });
    assert.deepEqual(decodeReply(Buffer.concat(encodeReply({ xid: 5, stat: PROG_MISMATCH, low: 1, high: 3 }))), { xid: 5, stat: PROG_MISMATCH, low: 1, high: 3, verf: NULL_AUTH });
    assert.deepEqual(decodeReply(Buffer.concat(encodeReply({ xid: 6, stat: 'auth-error', authStat: AUTH_BADCRED }))), { xid: 6, stat: 'auth-error', authStat: AUTH_BADCRED });
    const ok = decodeReply(Buffer.concat(encodeReply({ xid: 7, stat: SUCCESS, body: [Buffer.from('ab00', 'hex'), Buffer.from('cd000000', 'hex')] })));
    assert.equal(ok.stat === SUCCESS && ok.body.toString('hex'), 'ab00cd000000');
  });

  it('lays out a SUCCESS reply as xid, REPLY, MSG_ACCEPTED, null verifier, SUCCESS, results', () => {
    const wire = Buffer.concat(encodeReply({ xid: 0xaabbccdd, stat: SUCCESS, body: [Buffer.from('00000001', 'hex')] }));
    assert.equal(wire.toString('hex'), 'aabbccdd' + '00000001' + '00000000' + '00000000' + '00000000' + '00000000' + '00000001');
  });

  it('lays out AUTH_ERROR as xid, REPLY, MSG_DENIED, AUTH_ERROR, auth_stat', () => {
    const wire = Buffer.concat(encodeReply({ xid: 1, stat: 'auth-error', authStat: AUTH_BADCRED }));
    assert.equal(wire.toString('hex'), '00000001' + '00000001' + '00000001' + '00000001' + '00000001');
  });
});
