import assert from 'node:assert/strict';
import { encodeRecord, RecordDecoder, recordMark, RecordPool, RecordTooLargeError } from '../../../src/protocols/nfs/rpc/record-marking.js';

const body = (n: number, seed = 0): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff));
const cat = (parts: Buffer[]): Buffer => Buffer.concat(parts);

describe('RPC record marking (RFC 5531 §11)', () => {
  it('marks the last fragment with the top bit and the length in the low 31 bits', () => {
    assert.equal(recordMark(8).toString('hex'), '80000008');
    assert.equal(recordMark(8, false).toString('hex'), '00000008');
    assert.equal(cat(encodeRecord(Buffer.from('abcd'))).toString('hex'), '80000004' + '61626364');
  });

  it('decodes one single-fragment record', () => {
    const d = new RecordDecoder(1024);
    const records = d.push(cat(encodeRecord(body(12))));
    assert.deepEqual(records, [body(12)]);
    assert.equal(d.idle, true);
  });

  it('reassembles a multi-fragment record', () => {
    const b = body(1000);
    const wire = cat(encodeRecord(b, 300));
    assert.equal(wire.readUInt32BE(0), 300);
    const d = new RecordDecoder(4096);
    assert.deepEqual(d.push(wire), [b]);
  });

  it('accepts empty fragments, including an empty last fragment', () => {
    const wire = cat([recordMark(0, false), recordMark(4, false), Buffer.from('wxyz'), recordMark(0, true)]);
    assert.deepEqual(new RecordDecoder(64).push(wire), [Buffer.from('wxyz')]);
  });

  it('reassembles records split across many chunks, down to one byte per chunk', () => {
    const records = [body(33, 1), body(100, 2), body(4, 3)];
    const wire = cat(records.flatMap((r) => encodeRecord(r, 16)));
    const d = new RecordDecoder(1024);
    const got: Buffer[] = [];
    for (let i = 0; i < wire.length; i++) got.push(...d.push(wire.subarray(i, i + 1)));
    assert.deepEqual(got, records);
    assert.equal(d.idle, true);
  });

  it('returns many records from one chunk, in order', () => {
    const records = Array.from({ length: 50 }, (_, i) => body(4 * (i + 1), i));
    const d = new RecordDecoder(1024);
    assert.deepEqual(d.push(cat(records.flatMap((r) => encodeRecord(r)))), records);
  });

  it('splits chunks at odd places: header halves, fragment boundaries, record boundaries', () => {
    const records = [body(20, 1), body(9 * 4, 2)];
    const wire = cat(records.flatMap((r) => encodeRecord(r, 8)));
    for (let cut = 1; cut < wire.length; cut++) {
      const d = new RecordDecoder(1024);
      const got = [...d.push(wire.subarray(0, cut)), ...d.push(wire.subarray(cut))];
      assert.deepEqual(got, records, `cut at ${cut}`);
    }
  });

  it('reports a partial record as not idle', () => {
    const d = new RecordDecoder(64);
    d.push(Buffer.from([0x80, 0, 0]));
    assert.equal(d.idle, false);
  });

  it('throws RecordTooLargeError as soon as a fragment header pushes the record over the limit', () => {
    const d = new RecordDecoder(100);
    assert.throws(() => d.push(recordMark(101)), (e: unknown) => e instanceof RecordTooLargeError && e.recordBytes === 101);
    const multi = new RecordDecoder(100);
    multi.push(cat([recordMark(60, false), body(60)]));
    assert.throws(() => multi.push(recordMark(41)), RecordTooLargeError);
  });

  it('accepts a record of exactly the limit', () => {
    assert.deepEqual(new RecordDecoder(100).push(cat(encodeRecord(body(100)))), [body(100)]);
  });

  it('frames a body given as several buffers into fragments of the given size', () => {
    const parts = [body(5, 1), body(7, 2), body(13, 3)];
    const framed = encodeRecord(parts, 8);
    assert.deepEqual(new RecordDecoder(64).push(cat(framed)), [cat(parts)]);
    const marks = [];
    const wire = cat(framed);
    for (let pos = 0; pos < wire.length;) {
      const m = wire.readUInt32BE(pos);
      marks.push(m);
      pos += 4 + (m & 0x7fffffff);
    }
    assert.deepEqual(marks, [8, 8, 8, 0x80000001]);
  });

  describe('with a RecordPool', () => {
    const chunked = (wire: Buffer, size: number): Buffer[] => Array.from({ length: Math.ceil(wire.length / size) }, (_, i) => wire.subarray(i * size, (i + 1) * size));

    it('assembles a record spanning chunks in a pool buffer, and reuses it once given back', () => {
      const pool = new RecordPool(16, 256, 2);
      const d = new RecordDecoder(1024, pool);
      const first = chunked(cat(encodeRecord(body(100, 1))), 7).flatMap((c) => d.push(c));
      assert.deepEqual(first, [body(100, 1)]);
      const r1 = first[0];
      assert.ok(r1 !== undefined);
      assert.equal(r1.buffer.byteLength, 256, 'the record lives in a pool buffer');
      pool.give(r1);
      const second = chunked(cat(encodeRecord(body(90, 2))), 5).flatMap((c) => d.push(c));
      assert.deepEqual(second, [body(90, 2)]);
      assert.equal(second[0]?.buffer, r1.buffer, 'the given-back buffer holds the next record');
      assert.equal(d.idle, true);
    });

    it('does not hand out a buffer twice when it is given back twice', () => {
      const pool = new RecordPool(1, 64, 4);
      const a = pool.take(10);
      assert.ok(a !== undefined);
      pool.give(a);
      pool.give(a);
      const b = pool.take(10);
      const c = pool.take(10);
      assert.equal(b?.buffer, a.buffer);
      assert.notEqual(c?.buffer, a.buffer);
    });

    it('ignores buffers it did not hand out, and sizes outside its range', () => {
      const pool = new RecordPool(16, 64, 4);
      pool.give(Buffer.alloc(64));
      assert.equal(pool.take(8), undefined);
      assert.equal(pool.take(65), undefined);
      assert.equal(pool.take(64)?.length, 64);
    });

    it('keeps records inside one chunk as views and multi-fragment records as before', () => {
      const pool = new RecordPool(1, 4096, 4);
      const d = new RecordDecoder(4096, pool);
      const wire = cat([...encodeRecord(body(40, 3)), ...encodeRecord(body(1000, 4), 300)]);
      const got = chunked(wire, 44).flatMap((c) => d.push(c));
      assert.deepEqual(got, [body(40, 3), body(1000, 4)]);
      assert.notEqual(got[1]?.buffer.byteLength, 4096);
    });
  });

  it('in transient mode hands back copies: records survive the reuse of the read buffer', () => {
    const pool = new RecordPool(512, 4096, 4);
    const d = new RecordDecoder(8192, pool, true);
    const records = [body(40, 1), body(3000, 2), body(100, 3), body(1200, 4)];
    // the third record in two fragments, the others whole
    const wire = cat([...encodeRecord(records[0] ?? body(0)), ...encodeRecord(records[1] ?? body(0)), ...encodeRecord(records[2] ?? body(0), 60), ...encodeRecord(records[3] ?? body(0))]);
    const readBuffer = Buffer.alloc(700);
    const got: Buffer[] = [];
    for (let at = 0; at < wire.length; at += readBuffer.length) {
      const n = wire.copy(readBuffer, 0, at, Math.min(wire.length, at + readBuffer.length));
      got.push(...d.push(readBuffer.subarray(0, n)));
      readBuffer.fill(0xee); // the next read lands here
    }
    assert.deepEqual(got, records);
    assert.equal(got[1]?.buffer.byteLength, 4096, 'a pooled size is assembled in a pool buffer');
  });
});
