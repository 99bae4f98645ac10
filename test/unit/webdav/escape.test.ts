import assert from 'node:assert/strict';
import fc from 'fast-check';
import { escapeText } from '../../../src/protocols/webdav/xml/escape.js';

/** escapeText spelled out character by character: the reference the fast paths must match. */
function referenceEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    const valid = c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || c >= 0x10000;
    if (!valid) out += '\uFFFD';
    else if (ch === '&') out += '&amp;';
    else if (ch === '<') out += '&lt;';
    else if (ch === '>') out += '&gt;';
    else if (ch === '\r') out += '&#13;';
    else out += ch;
  }
  return out;
}

describe('webdav xml escaping', () => {
  it('escapeText leaves plain names, numbers, dates and quoted etags as they are', () => {
    for (const s of ['f4711', '2026-11-25T03:42:32Z', 'Wed, 25 Nov 2026 03:42:32 GMT', '"1a-2b-0-3c"', "it's\tok\n", '']) {
      assert.equal(escapeText(s), s);
    }
  });

  it('escapeText escapes markup and CR and replaces characters XML cannot carry, like the spelled-out rules', () => {
    assert.equal(escapeText('a<b>&c\r'), 'a&lt;b&gt;&amp;c&#13;');
    assert.equal(escapeText('x\x01y\uFFFE'), 'x\uFFFDy\uFFFD');
    assert.equal(escapeText('a\uD800b'), referenceEscape('a\uD800b'));
    assert.equal(escapeText('grüße 你好 😀'), 'grüße 你好 😀');
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => escapeText(s) === referenceEscape(s)), { numRuns: 2000 });
  });
});
