/**
 * Value types shared by the WebDAV XML reader and writer: property names, dead property values
 * (RFC 4918 §4.3 property values, §14.18 prop) and the well-known namespaces.
 * Pure data; no parsing or I/O here.
 */

/** The WebDAV namespace URI (RFC 4918 §21). */
export const DAV_NS = 'DAV:';
/** Namespace of the Win32* dead properties Windows' WebDAV redirector sets. */
export const MS_NS = 'urn:schemas-microsoft-com:';

/** A property name: namespace URI ('' for no namespace) plus local name. */
export interface PropName {
  /** Namespace URI as resolved from the request, never a prefix. */
  readonly ns: string;
  /** Local name (an XML NCName). */
  readonly name: string;
}

/** A dead property as stored and returned verbatim (RFC 4918 §4.3). */
export interface DeadProp extends PropName {
  /** Effective xml:lang of the property element, null when none was in scope. */
  readonly lang: string | null;
  /**
   * Inner XML of the property element, self-contained: every prefix it uses is declared inside
   * it, so it can be embedded under any element of any document.
   */
  readonly innerXml: string;
}

/** Clark notation `{ns}name`: a map key that cannot confuse namespace and name. */
export function propKey(p: PropName): string {
  return `{${p.ns}}${p.name}`;
}
