import assert from 'node:assert/strict';
import { XdrDecodeError, XdrReader } from '../../../src/protocols/nfs/xdr/reader.js';
import { XdrWriter } from '../../../src/protocols/nfs/xdr/writer.js';

const hex = (w: XdrWriter): string => w.view().toString('hex');

describe('XDR codec (RFC 4506)', () => {
  it('encodes integers big-endian in 4-byte units and hypers in 8', () => {
    const w = new XdrWriter().u32(0xdeadbeef).i32(-2).u64(0x0102030405060708n).i64(-1n).bool(true).enum(7);
    assert.equal(hex(w), 'deadbeef' + 'fffffffe' + '0102030405060708' + 'ffffffffffffffff' + '00000001' + '00000007');
    const r = new XdrReader(w.view());
    assert.equal(r.u32(), 0xdeadbeef);
    assert.equal(r.i32(), -2);
    assert.equal(r.u64(), 0x0102030405060708n);
    assert.equal(r.i64(), -1n);
    assert.equal(r.bool(), true);
    assert.equal(r.enum(), 7);
    assert.equal(r.remaining, 0);
  });

  it('round-trips u64 values above 2^53 exactly (JuiceFS trash inodes)', () => {
    const big = 0xffffffffffffffffn;
    const trash = 0x7fffffff10000000n;
    const r = new XdrReader(new XdrWriter().u64(big).u64(trash).view());
    assert.equal(r.u64(), big);
    assert.equal(r.u64(), trash);
  });

  it('pads variable opaque and strings to a multiple of 4 with zero bytes', () => {
    const w = new XdrWriter().opaque(Buffer.from([1, 2, 3, 4, 5])).string('ab').opaqueFixed(Buffer.from([9]));
    assert.equal(hex(w), '00000005' + '0102030405000000' + '00000002' + '61620000' + '09000000');
    const r = new XdrReader(w.view());
    assert.deepEqual([...r.opaque(5)], [1, 2, 3, 4, 5]);
    assert.equal(r.string(10).toString(), 'ab');
    assert.deepEqual([...r.opaqueFixed(1)], [9]);
    assert.equal(r.remaining, 0);
  });

  it('keeps string bytes as they are, including non-UTF-8 names', () => {
    const name = Buffer.from([0x66, 0xff, 0xfe, 0x00, 0x80]);
    const r = new XdrReader(new XdrWriter().string(name).view());
    assert.deepEqual(r.string(255), name);
  });

  it('round-trips optional values and counted arrays and linked lists', () => {
    const w = new XdrWriter()
      .optional<number>(null, (x, v) => x.u32(v))
      .optional(5, (x, v) => x.u32(v))
      .array([1, 2, 3], (x, v) => x.u32(v))
      .list(['a', 'bc'], (x, v) => x.string(v));
    const r = new XdrReader(w.view());
    assert.equal(r.optional((x) => x.u32()), null);
    assert.equal(r.optional((x) => x.u32()), 5);
    assert.deepEqual(r.array(3, (x) => x.u32()), [1, 2, 3]);
    assert.deepEqual(r.list(10, (x) => x.string(10).toString()), ['a', 'bc']);
    assert.equal(r.remaining, 0);
  });

  it('throws XdrDecodeError with the offset on truncated input', () => {
    const r = new XdrReader(Buffer.from([0, 0, 0, 1, 0, 0]));
    r.u32();
    assert.throws(() => r.u32(), (e: unknown) => e instanceof XdrDecodeError && e.offset === 4 && e.code === 'ERR_XDR_DECODE');
    assert.throws(() => new XdrReader(Buffer.alloc(7)).u64(), XdrDecodeError);
  });

  it('rejects opaque and string lengths over their maximum and over the input', () => {
    const long = new XdrWriter().opaque(Buffer.alloc(65)).view();
    assert.throws(() => new XdrReader(long).opaque(64), /exceeds maximum 64/);
    const lying = new XdrWriter().u32(100).u32(0).view();
    assert.throws(() => new XdrReader(lying).opaque(1000), XdrDecodeError);
    const missingPad = Buffer.from([0, 0, 0, 1, 0x41]);
    assert.throws(() => new XdrReader(missingPad).string(10), XdrDecodeError);
  });

  it('rejects array counts over the maximum or larger than the input could hold', () => {
    const w = new XdrWriter().array([1, 2, 3], (x, v) => x.u32(v)).view();
    assert.throws(() => new XdrReader(w).array(2, (x) => x.u32()), /exceeds maximum 2/);
    const huge = new XdrWriter().u32(0x40000000).view();
    assert.throws(() => new XdrReader(huge).array(0xffffffff, (x) => x.u32()), /exceeds the input/);
  });

  it('rejects a bool other than 0 or 1, an enum outside its set, and a list past its maximum', () => {
    assert.throws(() => new XdrReader(new XdrWriter().u32(2).view()).bool(), /bool must be 0 or 1/);
    assert.throws(() => new XdrReader(new XdrWriter().i32(9).view()).enum(new Set([0, 1])), /enum value 9/);
    const list = new XdrWriter().list([1, 2, 3], (x, v) => x.u32(v)).view();
    assert.throws(() => new XdrReader(list).list(2, (x) => x.u32()), /list longer than 2/);
  });

  it('refuses to encode out-of-range values or unaligned raw bytes', () => {
    const w = new XdrWriter();
    assert.throws(() => w.u32(-1), RangeError);
    assert.throws(() => w.u32(2 ** 32), RangeError);
    assert.throws(() => w.i32(2 ** 31), RangeError);
    assert.throws(() => w.u64(-1n), RangeError);
    assert.throws(() => w.u64(1n << 64n), RangeError);
    assert.throws(() => w.opaque(Buffer.alloc(5), 4), RangeError);
    assert.throws(() => w.raw(Buffer.alloc(3)), RangeError);
    assert.equal(w.length, 0);
  });

  it('grows past its initial size and patches reserved length fields', () => {
    const w = new XdrWriter(16);
    const at = w.reserve();
    const payload = Buffer.alloc(10_000, 0xab);
    w.opaqueFixed(payload);
    w.patchU32(at, payload.length);
    const r = new XdrReader(w.view());
    assert.equal(r.u32(), 10_000);
    assert.deepEqual(r.opaqueFixed(10_000), payload);
    assert.throws(() => w.patchU32(w.length, 1), RangeError);
  });

  it('grows correctly whichever kind of write crosses the buffer end', () => {
    const w = new XdrWriter(16);
    const expected: string[] = [];
    for (let i = 0; i < 40; i++) {
      w.u32(i).i32(-i).u64(BigInt(i)).i64(BigInt(-i)).raw(Buffer.from([i, 0, 0, i])).opaqueFixed(Buffer.from([i]));
      expected.push(
        i.toString(16).padStart(8, '0'), (0x100000000 - i).toString(16).slice(-8).padStart(8, '0'),
        i.toString(16).padStart(16, '0'), i === 0 ? '0'.repeat(16) : (BigInt.asUintN(64, BigInt(-i))).toString(16),
        `${i.toString(16).padStart(2, '0')}0000${i.toString(16).padStart(2, '0')}`, `${i.toString(16).padStart(2, '0')}000000`,
      );
    }
    assert.equal(w.view().toString('hex'), expected.join(''));
  });

  it('returns opaque data as a view of the input, without copying', () => {
    const input = new XdrWriter().opaque(Buffer.from('abcd')).toBuffer();
    const got = new XdrReader(input).opaque(4);
    assert.equal(got.buffer, input.buffer);
  });
});
