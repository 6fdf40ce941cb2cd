/**
 * Owns the small XML helpers the protocol codecs share: escaping, well-formedness checks (fast-xml-parser's
 * XMLValidator) and attribute-preserving parsing, all failing with CCMSIM_PROTOCOL_MALFORMED.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { CcmsimError } from '../errors.js';

export function escapeXml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

const XML_ENTITIES: Record<string, string> = { lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' };

/** The five predefined entities back to their characters (for text taken from XML without a parser). */
export function unescapeXml(value: string): string {
  return value.replace(/&(lt|gt|quot|apos|amp);/g, (_, e: string) => XML_ENTITIES[e]!);
}

export function malformed(reason: string, details?: Record<string, unknown>): CcmsimError {
  return new CcmsimError('CCMSIM_PROTOCOL_MALFORMED', reason, { httpStatus: 400, ...(details ? { details } : {}) });
}

// The last few texts found well-formed: a message header is checked when the envelope is read and again when it
// is parsed. Well-formedness depends on the text alone, so a remembered pass stays true; failures are not kept.
const RECENTLY_VALID_SIZE = 4;
const recentlyValid: string[] = [];

/** Throws CCMSIM_PROTOCOL_MALFORMED naming `what`, the line and the parser's reason when `xml` is not well-formed. */
export function assertWellFormedXml(xml: string, what: string): void {
  if (recentlyValid.includes(xml)) return;
  if (xml.trim().length === 0) throw malformed(`${what} is empty`);
  // No message of this protocol has a DTD; refusing one rules out entity-expansion tricks.
  if (/<!DOCTYPE/i.test(xml)) throw malformed(`${what} has a DOCTYPE, which CCM messages never carry`);
  const result = XMLValidator.validate(xml);
  if (result !== true) throw malformed(`${what} is not well-formed XML (line ${result.err.line}: ${result.err.msg})`);
  if (recentlyValid.length >= RECENTLY_VALID_SIZE) recentlyValid.shift();
  recentlyValid.push(xml);
}

export type XmlNode = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (name) => name === 'Property',
  // Callbacks get no path string (isArray reads the name only): building one per node was a tenth of each parse.
  jPath: false,
  // Opaque payloads (a JWT; certificates and signatures in hex) are taken as their raw text, not scanned character by
  // character: most of a registration request's or a token reply's bytes. None of them can hold markup or entities
  // (base64url and hex), so the raw text is their value; callers trim it (XMLValidator has checked the whole document).
  stopNodes: ['*.Token', '*.Signing', '*.Encryption', '*.SignatureValue'],
});

/** Validates, then parses; attributes appear as `@_Name`, text as `#text` (or a plain string). */
export function parseXml(xml: string, what: string): XmlNode {
  assertWellFormedXml(xml, what);
  try {
    return parser.parse(xml) as XmlNode;
  } catch (err) {
    throw malformed(`${what} could not be parsed: ${(err as Error).message}`);
  }
}

/** The single root element `name` of a parsed document, or a MALFORMED error naming what was found instead. */
export function rootElement(doc: XmlNode, name: string, what: string): XmlNode {
  const roots = Object.keys(doc).filter((k) => !k.startsWith('?'));
  const node = doc[name];
  if (roots.length !== 1 || node === undefined) throw malformed(`${what}: expected a <${name}> root element, found ${roots.map((r) => `<${r}>`).join(', ') || 'none'}`);
  return typeof node === 'object' && node !== null ? (node as XmlNode) : { '#text': String(node) };
}

export function attr(node: XmlNode | undefined, name: string): string | undefined {
  const value = node?.[`@_${name}`];
  return value === undefined ? undefined : String(value);
}

export function child(node: XmlNode | undefined, name: string): XmlNode | undefined {
  const value = node?.[name];
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return child({ [name]: value[0] }, name);
  return typeof value === 'object' ? (value as XmlNode) : { '#text': String(value) };
}

export function text(node: XmlNode | undefined, name: string): string | undefined {
  const value = node?.[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'object') {
    const inner = (value as XmlNode)['#text'];
    return inner === undefined ? '' : String(inner);
  }
  return String(value);
}
