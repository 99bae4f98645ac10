/**
 * XML 1.0 escaping for text and attribute values (XML 1.0 §2.2 Char, §2.4 character data).
 * Characters XML 1.0 cannot carry at all (C0 controls other than tab/LF/CR, U+FFFE/U+FFFF, lone
 * surrogates) become U+FFFD here; callers that must stay lossless (names) percent-encode first.
 */

const INVALID_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const INVALID_XML_CHARS = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
const TEXT_SPECIAL = /[&<>\r]/;
/** A character other than tab, LF and printable ASCII minus & < >: only then may text need escaping. */
const NOT_PLAIN_TEXT = /[^\t\n\x20-\x25\x27-\x3b\x3d\x3f-\x7e]/;
const ATTR_SPECIAL = /[&<>"\t\n\r]/;

/** True when every character of `s` may appear in an XML 1.0 document. */
export function isXmlSafe(s: string): boolean {
  return !INVALID_XML_CHAR.test(s);
}

function replaceInvalid(s: string): string {
  return INVALID_XML_CHAR.test(s) ? s.replace(INVALID_XML_CHARS, '\uFFFD') : s;
}

/** Escapes character data; CR is written as a reference so parsers do not fold it into LF. */
export function escapeText(s: string): string {
  if (!NOT_PLAIN_TEXT.test(s)) return s; // one cheap test for the usual names, numbers and dates
  const v = replaceInvalid(s);
  if (!TEXT_SPECIAL.test(v)) return v;
  return v.replace(/[&<>\r]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&#13;'));
}

/** Escapes an attribute value for use between double quotes; whitespace survives normalisation. */
export function escapeAttr(s: string): string {
  const v = replaceInvalid(s);
  if (!ATTR_SPECIAL.test(v)) return v;
  return v.replace(/[&<>"\t\n\r]/g, (c) => {
    switch (c) {
      case '&': return '&amp;';
      case '<': return '&lt;';
      case '>': return '&gt;';
      case '"': return '&quot;';
      case '\t': return '&#9;';
      case '\n': return '&#10;';
      default: return '&#13;';
    }
  });
}
