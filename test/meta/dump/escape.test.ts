import assert from 'node:assert/strict';
import fc from 'fast-check';
import { escapeBytes, unescapeBytes, unescapeString } from '../../../src/meta/dump/escape.js';
import { goMarshal, goQuote, goQuoteBytes, type GoValue } from '../../../src/meta/dump/go-json.js';

const GBK_KEY = 'GBK%B9%FB֭%CA%FD%BEݿƼ%BC%D3%D0%CF޹%AB˾%CEļ%FE';
const GBK_TEXT = 'GBK果汁数据科技有限公司文件';

describe('dump name escaping (spec §H.3)', () => {
  it('GBK bytes escape exactly as the JuiceFS fixture key and come back as the same bytes', () => {
    const raw = unescapeString(GBK_KEY);
    assert.equal(new TextDecoder('gbk').decode(raw), GBK_TEXT);
    assert.equal(escapeBytes(raw), GBK_KEY);
  });

  it('valid UTF-8 names are copied untouched', () => {
    const name = 'UTF8果汁数据科技有限公司目录';
    assert.equal(escapeBytes(Buffer.from(name)), name);
    assert.deepEqual(unescapeString(name), Buffer.from(name));
  });

  it('% is escaped as %25, so an escaped value escapes again to %2525', () => {
    assert.equal(escapeBytes(Buffer.from('果汁%25')), '果汁%2525');
    assert.deepEqual(unescapeString('果汁%2525'), Buffer.from('果汁%25'));
  });

  it('space, control characters, quote and backslash become upper-case %XX', () => {
    assert.equal(escapeBytes(Buffer.from('a b\n"c\\\x00\x1f')), 'a%20b%0A%22c%5C%00%1F');
    assert.equal(escapeBytes(Buffer.from([0xff, 0x41, 0xfe])), '%FFA%FE');
  });

  it('each byte of an invalid UTF-8 sequence is escaped on its own (truncated, overlong, surrogate)', () => {
    assert.equal(escapeBytes(Buffer.from([0xe4, 0xb8])), '%E4%B8');
    assert.equal(escapeBytes(Buffer.from([0xc0, 0x80])), '%C0%80');
    assert.equal(escapeBytes(Buffer.from([0xed, 0xa0, 0x80])), '%ED%A0%80');
    assert.equal(escapeBytes(Buffer.from([0xf4, 0x90, 0x80, 0x80])), '%F4%90%80%80');
  });

  it('DEL and U+FFFD are ordinary characters', () => {
    assert.equal(escapeBytes(Buffer.from('a\x7f\ufffd')), 'a\x7f\ufffd');
  });

  it('unescape only decodes % followed by two upper-case hex digits', () => {
    assert.deepEqual(unescapeString('%2f%2F%4%'), Buffer.from('%2f/%4%'));
    assert.deepEqual(unescapeString('%G0%41'), Buffer.from('%G0A'));
    assert.deepEqual(unescapeString('no-percent'), Buffer.from('no-percent'));
    assert.deepEqual(unescapeBytes(Buffer.from('%41%')), Buffer.from('A%'));
  });

  it('unescape works on the UTF-8 bytes of the text, so escaped bytes mix with multi-byte characters', () => {
    assert.deepEqual(unescapeString('果%FF汁'), Buffer.concat([Buffer.from('果'), Buffer.from([0xff]), Buffer.from('汁')]));
  });

  it('any byte string survives escape then unescape, and the escaped text is valid UTF-8 with no " or \\', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const text = escapeBytes(bytes);
      assert.ok([...Buffer.from(text)].every((c) => c > 0x20 && c !== 0x22 && c !== 0x5c));
      assert.ok(Buffer.from(text, 'utf8').toString('utf8') === text);
      assert.deepEqual(unescapeString(text), Buffer.from(bytes));
    }), { numRuns: 500 });
  });
});

describe('Go-compatible JSON quoting', () => {
  it('escapes <, >, & and U+2028/U+2029 like encoding/json', () => {
    assert.equal(goQuote('<a&b>'), '"\\u003ca\\u0026b\\u003e"');
    assert.equal(goQuote('x\u2028y\u2029'), '"x\\u2028y\\u2029"');
  });

  it('writes control characters as \\u00xx except \\n \\r \\t, and invalid UTF-8 as \\ufffd', () => {
    assert.equal(goQuote('\x01\n\r\t"\\'), '"\\u0001\\n\\r\\t\\"\\\\"');
    assert.equal(goQuoteBytes(Buffer.from([0x61, 0xff, 0x62])), '"a\\ufffdb"');
  });

  it('MarshalIndent with an empty indent puts every field on its own line', () => {
    const v = new Map<string, GoValue>([['A', 1], ['B', new Map([['C', 'x']])], ['D', []]]);
    assert.equal(goMarshal(v, ''), '{\n"A": 1,\n"B": {\n"C": "x"\n},\n"D": []\n}');
    assert.equal(goMarshal(v), '{"A":1,"B":{"C":"x"},"D":[]}');
  });
});
