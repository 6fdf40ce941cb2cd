import { describe, it, expect } from 'vitest';
import { deflateSync, inflateSync } from 'node:zlib';
import { CCM_BOUNDARY, boundaryOf, ccmBodyLength, decodeCcmMessage, encodeCcmMessage } from '../../src/protocol/ccm-message.js';
import { buildMsgHeader, parseMsgHeader } from '../../src/protocol/msg-header.js';

const SENT = new Date(Date.UTC(2026, 10, 29, 4, 5, 6));
const HEADER_FIELDS = {
  id: '5DD100CD-DF1D-45F5-BA17-A327F43465F8',
  sourceHost: 'PC-0042',
  targetHost: 'MP01.CONTOSO.COM',
  targetEndpoint: 'MP_ClientRegistration',
  sentTime: SENT,
  bodyLength: 0,
};
const BODY = '<ClientRegistrationRequest><Data A="é"/></ClientRegistrationRequest>';
const CT = `multipart/mixed; boundary="${CCM_BOUNDARY}"`;

/** sccmwtf's sendRegistration, byte for byte (protocol.md §1.3), with the CRLF inside the zlib stream. */
function pythonLayout(header: string, body: string): Buffer {
  const request = Buffer.concat([Buffer.from(`${body}\u0000`, 'utf16le'), Buffer.from('\r\n', 'ascii')]);
  return Buffer.concat([
    Buffer.from(`--${CCM_BOUNDARY}\r\ncontent-type: text/plain; charset=UTF-16\r\n\r\n`, 'ascii'),
    Buffer.from([0xff, 0xfe]),
    Buffer.from(header, 'utf16le'),
    Buffer.from(`\r\n--${CCM_BOUNDARY}\r\ncontent-type: application/octet-stream\r\n\r\n`, 'ascii'),
    deflateSync(request),
    Buffer.from(`\r\n--${CCM_BOUNDARY}--`, 'ascii'),
  ]);
}

describe('encodeCcmMessage: byte layout (protocol.md §1.3)', () => {
  const encoded = encodeCcmMessage({ header: buildMsgHeader(HEADER_FIELDS), body: BODY });
  const bytes = encoded.bytes;

  it('announces the boundary in Content-Type', () => {
    expect(encoded.contentType).toBe('multipart/mixed; boundary="aAbBcCdDv1234567890VxXyYzZ"');
  });

  it('writes part 1 as ASCII part header, FF FE BOM, UTF-16LE <Msg>', () => {
    const head = `--${CCM_BOUNDARY}\r\ncontent-type: text/plain; charset=UTF-16\r\n\r\n`;
    expect(bytes.subarray(0, head.length).toString('ascii')).toBe(head);
    expect([...bytes.subarray(head.length, head.length + 4)]).toEqual([0xff, 0xfe, 0x3c, 0x00]); // BOM, '<' in UTF-16LE
  });

  it('writes part 2 as a zlib stream (78 9C) of UTF-16LE body + 00 00, then CRLF and the close delimiter', () => {
    const marker = Buffer.from(`\r\n--${CCM_BOUNDARY}\r\ncontent-type: application/octet-stream\r\n\r\n`, 'ascii');
    const at = bytes.indexOf(marker);
    expect(at).toBeGreaterThan(0);
    const zStart = at + marker.length;
    const close = Buffer.from(`\r\n--${CCM_BOUNDARY}--`, 'ascii');
    expect(bytes.subarray(bytes.length - close.length).equals(close)).toBe(true);
    const z = bytes.subarray(zStart, bytes.length - close.length);
    expect([z[0], z[1]]).toEqual([0x78, 0x9c]);
    const inflated = inflateSync(z);
    expect(inflated.equals(Buffer.concat([Buffer.from(BODY, 'utf16le'), Buffer.from([0, 0])]))).toBe(true);
    // Nothing but the header part sits between the two markers, and the header part ends in UTF-16LE '>'.
    expect([...bytes.subarray(at - 2, at)]).toEqual([0x3e, 0x00]);
  });

  it('sets Body Length to the UTF-16 bytes of the body including the NUL', () => {
    const { header } = decodeCcmMessage(encoded.contentType, bytes);
    expect(parseMsgHeader(header).bodyLength).toBe(BODY.length * 2 + 2);
    expect(ccmBodyLength(BODY)).toBe(BODY.length * 2 + 2);
  });

  it('matches the Python layout except for the CRLF sccmwtf keeps inside the zlib stream', () => {
    const header = buildMsgHeader({ ...HEADER_FIELDS, bodyLength: ccmBodyLength(BODY) });
    const ours = encodeCcmMessage({ header, body: BODY }).bytes;
    const python = pythonLayout(header, BODY);
    const prefix = python.indexOf(Buffer.from('application/octet-stream\r\n\r\n')) + 28;
    expect(ours.subarray(0, prefix).equals(python.subarray(0, prefix))).toBe(true);
    expect(decodeCcmMessage(CT, python)).toEqual(decodeCcmMessage(CT, ours));
  });

  it('builds the header from fields too, computing Body Length', () => {
    const enc = encodeCcmMessage({ header: HEADER_FIELDS, body: BODY });
    const msg = parseMsgHeader(decodeCcmMessage(enc.contentType, enc.bytes).header);
    expect(msg.bodyLength).toBe(ccmBodyLength(BODY));
    expect(msg.id).toBe('{5DD100CD-DF1D-45F5-BA17-A327F43465F8}');
  });
});

describe('decodeCcmMessage', () => {
  const good = encodeCcmMessage({ header: buildMsgHeader(HEADER_FIELDS), body: BODY });

  it('round-trips header and body', () => {
    const { header, body } = decodeCcmMessage(good.contentType, good.bytes);
    expect(body).toBe(BODY);
    expect(header).toBe(buildMsgHeader({ ...HEADER_FIELDS, bodyLength: ccmBodyLength(BODY) }));
  });

  it('accepts any boundary, unquoted, and part headers in any case', () => {
    const enc = encodeCcmMessage({ header: buildMsgHeader(HEADER_FIELDS), body: BODY, boundary: 'xYz-123' });
    const shouty = Buffer.from(enc.bytes.toString('latin1').replace(/content-type: text\/plain/, 'Content-Type: TEXT/PLAIN').replace(/content-type: application/, 'CONTENT-TYPE: Application'), 'latin1');
    expect(decodeCcmMessage('Multipart/Mixed; Boundary=xYz-123', shouty).body).toBe(BODY);
  });

  const cases: Array<[string, string, Buffer, RegExp]> = [
    ['no boundary', 'multipart/mixed', good.bytes, /no boundary/],
    ['not multipart', 'text/xml; boundary=a', good.bytes, /not multipart/],
    ['an invalid boundary', 'multipart/mixed; boundary="a\tb"', good.bytes, /boundary .* is invalid/],
    ['a boundary that is not in the body', 'multipart/mixed; boundary=other', good.bytes, /no multipart delimiter/],
    ['a missing body part', CT, Buffer.concat([good.bytes.subarray(0, good.bytes.indexOf(Buffer.from(`\r\n--${CCM_BOUNDARY}\r\ncontent-type: application`))), Buffer.from(`\r\n--${CCM_BOUNDARY}--`)]), /1 part\(s\)/],
    ['a missing close delimiter', CT, good.bytes.subarray(0, good.bytes.length - 2), /not followed by CRLF|closing delimiter/],
  ];
  for (const [what, ct, bytes, reason] of cases) {
    it(`refuses ${what}`, () => {
      expect(() => decodeCcmMessage(ct, bytes)).toThrow(expect.objectContaining({ code: 'CCMSIM_PROTOCOL_MALFORMED', message: expect.stringMatching(reason) }));
    });
  }

  const withBody = (zbytes: Buffer, header = buildMsgHeader(HEADER_FIELDS)): Buffer =>
    Buffer.concat([
      Buffer.from(`--${CCM_BOUNDARY}\r\ncontent-type: text/plain; charset=UTF-16\r\n\r\n`, 'ascii'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(header, 'utf16le'),
      Buffer.from(`\r\n--${CCM_BOUNDARY}\r\ncontent-type: application/octet-stream\r\n\r\n`, 'ascii'),
      zbytes,
      Buffer.from(`\r\n--${CCM_BOUNDARY}--`, 'ascii'),
    ]);
  const malformed = (bytes: Buffer, reason: RegExp) => () =>
    expect(() => decodeCcmMessage(CT, bytes)).toThrow(expect.objectContaining({ code: 'CCMSIM_PROTOCOL_MALFORMED', message: expect.stringMatching(reason) }));

  it('refuses a body that is not zlib', malformed(withBody(Buffer.from('not zlib at all')), /not a valid zlib stream/));
  it('refuses raw deflate (no RFC 1950 header)', malformed(withBody(deflateSync(Buffer.from(BODY, 'utf16le')).subarray(2)), /zlib/));
  it('refuses an odd-length UTF-16 body', malformed(withBody(deflateSync(Buffer.concat([Buffer.from(BODY, 'utf16le'), Buffer.from([0])]))), /odd number of bytes/));
  it('refuses an unpaired surrogate', malformed(withBody(deflateSync(Buffer.concat([Buffer.from('<a>', 'utf16le'), Buffer.from([0x00, 0xd8]), Buffer.from('</a>', 'utf16le')]))), /unpaired high surrogate/));
  it('refuses a body that is not well-formed XML', malformed(withBody(deflateSync(Buffer.from('<a><b></a>\u0000', 'utf16le'))), /message body is not well-formed XML/));
  it('refuses a header that is not well-formed XML', malformed(withBody(deflateSync(Buffer.from(`${BODY}\u0000`, 'utf16le')), '<Msg><ID>x</Msg>'), /message header is not well-formed XML/));
  it('refuses a body with a DOCTYPE (no entity expansion)', malformed(withBody(deflateSync(Buffer.from('<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>\u0000', 'utf16le'))), /DOCTYPE/));
  it('refuses an odd-length header', () => {
    const bytes = withBody(deflateSync(Buffer.from(`${BODY}\u0000`, 'utf16le')));
    const at = bytes.indexOf(Buffer.from(`\r\n--${CCM_BOUNDARY}\r\ncontent-type: application`));
    malformed(Buffer.concat([bytes.subarray(0, at), Buffer.from([0x20]), bytes.subarray(at)]), /header has an odd number of bytes/)();
  });

  it('parses the boundary out of quoted and unquoted parameters', () => {
    expect(boundaryOf('multipart/mixed; boundary="aAbBcCdDv1234567890VxXyYzZ"')).toBe(CCM_BOUNDARY);
    expect(boundaryOf('multipart/mixed;charset=x;BOUNDARY=abc')).toBe('abc');
  });
});

describe('msg header (protocol.md §1.4)', () => {
  it('builds the template in order, with SentTime as %Y-%m-%dT%H:%M:%SZ and no SourceID on registration', () => {
    const xml = buildMsgHeader({ ...HEADER_FIELDS, bodyLength: 1234 });
    expect(xml).toBe(
      '<Msg ReplyCompression="zlib" SchemaVersion="1.1"><Body Type="ByteRange" Length="1234" Offset="0" /><CorrelationID>{00000000-0000-0000-0000-000000000000}</CorrelationID><Hooks><Hook3 Name="zlib-compress" /></Hooks><ID>{5DD100CD-DF1D-45F5-BA17-A327F43465F8}</ID><Payload Type="inline" /><Priority>0</Priority><Protocol>http</Protocol><ReplyMode>Sync</ReplyMode><ReplyTo>direct:PC-0042:SccmMessaging</ReplyTo><SentTime>2026-11-29T04:05:06Z</SentTime><SourceHost>PC-0042</SourceHost><TargetAddress>mp:MP_ClientRegistration</TargetAddress><TargetEndpoint>MP_ClientRegistration</TargetEndpoint><TargetHost>MP01.CONTOSO.COM</TargetHost><Timeout>60000</Timeout></Msg>',
    );
  });

  it('parses every field back, with SourceID when present and escaped values', () => {
    const xml = buildMsgHeader({ ...HEADER_FIELDS, sourceHost: 'A&B', sourceId: 'GUID:3358674C-7C33-44F2-8496-1A5D3116F7ED', bodyLength: 10 });
    const msg = parseMsgHeader(xml);
    expect(msg).toMatchObject({
      id: '{5DD100CD-DF1D-45F5-BA17-A327F43465F8}',
      sourceHost: 'A&B',
      targetHost: 'MP01.CONTOSO.COM',
      targetEndpoint: 'MP_ClientRegistration',
      targetAddress: 'mp:MP_ClientRegistration',
      replyTo: 'direct:A&B:SccmMessaging',
      sentTime: '2026-11-29T04:05:06Z',
      sentTimeMs: SENT.getTime(),
      sourceId: 'GUID:3358674C-7C33-44F2-8496-1A5D3116F7ED',
      bodyLength: 10,
      hooks: ['zlib-compress'],
    });
  });

  it('refuses a document whose root is not <Msg> or whose Body Length is not a number', () => {
    expect(() => parseMsgHeader('<Other/>')).toThrow(expect.objectContaining({ code: 'CCMSIM_PROTOCOL_MALFORMED' }));
    expect(() => parseMsgHeader('<Msg><Body Length="x"/></Msg>')).toThrow(/Body Length/);
  });
});
