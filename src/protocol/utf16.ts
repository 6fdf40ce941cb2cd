/**
 * Owns strict UTF-16LE decoding for the CCM codec: Node's decoder never fails, so odd lengths and unpaired
 * surrogates are checked here and reported as CCMSIM_PROTOCOL_MALFORMED.
 */
import { malformed } from './xml-util.js';

/** Decodes UTF-16LE (a leading FF FE BOM is dropped); throws on odd length or an unpaired surrogate. */
export function decodeUtf16leStrict(bytes: Buffer, what: string): string {
  let data = bytes;
  if (data.length >= 2 && data[0] === 0xff && data[1] === 0xfe) data = data.subarray(2);
  if (data.length % 2 !== 0) throw malformed(`${what} has an odd number of bytes (${data.length}) for UTF-16`);
  const out = data.toString('utf16le');
  for (let i = 0; i < out.length; i++) {
    const c = out.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = out.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) throw malformed(`${what} is not valid UTF-16 (unpaired high surrogate at byte ${i * 2})`);
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      throw malformed(`${what} is not valid UTF-16 (unpaired low surrogate at byte ${i * 2})`);
    }
  }
  return out;
}
