import { describe, it, expect } from 'vitest';
import { sign } from 'node:crypto';
import {
  buildConfirmationRequest,
  buildConfirmationRequestAsync,
  buildRegistrationRequest,
  buildRegistrationRequestAsync,
  buildRegistrationResponse,
  parseRegistrationRequest,
  parseRegistrationResponse,
  verifyRegistrationSignature,
} from '../../src/protocol/registration.js';
import { createClientCertificates } from '../../src/crypto/client-certificates.js';
import { decodeCcmMessage, encodeCcmMessage } from '../../src/protocol/ccm-message.js';
import { Random } from '../../src/clock/random.js';
import { testKeyPair } from '../helpers/test-keys.js';

const NOW = new Date(Date.UTC(2026, 10, 29, 4, 5, 6));
const SMS_ID = 'GUID:3358674C-7C33-44F2-8496-1A5D3116F7ED';
const signingKeys = testKeyPair(8);
const certs = createClientCertificates({ computerName: 'PC-0042', signingKeys, encryptionKeys: testKeyPair(9), now: NOW, random: new Random('reg') });

const REGISTRATION_OPTIONS: Parameters<typeof buildRegistrationRequest>[0] = {
  smsId: SMS_ID,
  timeStamp: NOW,
  netbiosName: 'PC-0042',
  fqName: 'pc-0042.contoso.com',
  localeId: 2057,
  internetFlag: 1,
  signingCertDer: certs.signing.der,
  encryptionCertDer: certs.encryption.der,
  signingKey: signingKeys.privateKey,
};

function registration(extra: Partial<Parameters<typeof buildRegistrationRequest>[0]> = {}): string {
  return buildRegistrationRequest({ ...REGISTRATION_OPTIONS, ...extra });
}

describe('registration request (protocol.md §1.5–1.6)', () => {
  it('follows the tools template, with certificates as upper-case hex DER', () => {
    const xml = registration();
    expect(xml.startsWith('<ClientRegistrationRequest><Data HashAlgorithm="1.2.840.113549.1.1.11" SMSID="GUID:3358674C-7C33-44F2-8496-1A5D3116F7ED" RequestType="Registration" TimeStamp="2026-11-29T04:05:06Z"><AgentInformation AgentIdentity="CCMSetup.exe" AgentVersion="5.00.8325.0000" AgentType="0" /><Certificates><Encryption Encoding="HexBinary" KeyType="1">')).toBe(true);
    expect(xml).toContain(`<Signing Encoding="HexBinary" KeyType="1">${certs.signing.der.toString('hex').toUpperCase()}</Signing>`);
    expect(xml).toContain('<DiscoveryProperties><Property Name="Netbios Name" Value="PC-0042" /><Property Name="FQ Name" Value="pc-0042.contoso.com" /><Property Name="Locale ID" Value="2057" /><Property Name="InternetFlag" Value="1" /></DiscoveryProperties></Data><Signature><SignatureValue>');
    expect(xml.endsWith('</SignatureValue></Signature></ClientRegistrationRequest>')).toBe(true);
  });

  it('signs UTF-16LE of the exact <Data> element: reversed SHA-256 PKCS#1 v1.5, upper hex', () => {
    const xml = registration();
    const data = xml.slice(xml.indexOf('<Data'), xml.indexOf('</Data>') + 7);
    const expected = Buffer.from(sign('sha256', Buffer.from(data, 'utf16le'), signingKeys.privateKey)).reverse().toString('hex').toUpperCase();
    expect(xml).toContain(`<SignatureValue>${expected}</SignatureValue>`);
  });

  it('parses back what it built and verifies the signature with the signing certificate', () => {
    const parsed = parseRegistrationRequest(registration({ hardwareId: '2:ABC', agentVersion: '5.00.9128.1000' }));
    expect(parsed).toMatchObject({
      requestType: 'Registration',
      smsId: SMS_ID,
      timeStamp: '2026-11-29T04:05:06Z',
      agentIdentity: 'CCMSetup.exe',
      agentVersion: '5.00.9128.1000',
      netbiosName: 'PC-0042',
      fqName: 'pc-0042.contoso.com',
      hardwareId: '2:ABC',
      properties: { 'Netbios Name': 'PC-0042', 'FQ Name': 'pc-0042.contoso.com', 'Locale ID': '2057', InternetFlag: '1', HardwareID1: '2:ABC' },
      signatureSmsId: undefined,
    });
    expect(parsed.signingCertDer?.equals(certs.signing.der)).toBe(true);
    expect(parsed.encryptionCertDer?.equals(certs.encryption.der)).toBe(true);
    expect(verifyRegistrationSignature(parsed, certs.signing.publicKey)).toBe(true);
    expect(verifyRegistrationSignature(parsed, certs.encryption.publicKey)).toBe(false);
  });

  it('escapes attribute values', () => {
    const xml = registration({ netbiosName: 'A"<&>' });
    expect(xml).toContain('Value="A&quot;&lt;&amp;&gt;"');
    const parsed = parseRegistrationRequest(xml);
    expect(parsed.netbiosName).toBe('A"<&>');
    expect(verifyRegistrationSignature(parsed, certs.signing.publicKey)).toBe(true);
  });

  it('keeps the signed <Data> text byte for byte, whitespace included (SCCMSecrets sends newlines)', () => {
    const data = `<Data HashAlgorithm="1.2.840.113549.1.1.11" SMSID="" RequestType="Registration" TimeStamp="2026-11-29T04:05:06Z">\n<AgentInformation AgentIdentity="CCMSetup.exe" AgentVersion="5.00.8325.0000" AgentType="0" />\n<Certificates><Signing Encoding="HexBinary" KeyType="1">${certs.signing.der.toString('hex').toUpperCase()}</Signing></Certificates>\n<DiscoveryProperties><Property Name="Netbios Name" Value="X" /></DiscoveryProperties>\n</Data>`;
    const sig = Buffer.from(sign('sha256', Buffer.from(data, 'utf16le'), signingKeys.privateKey)).reverse().toString('hex').toUpperCase();
    const xml = `<ClientRegistrationRequest>${data}<Signature><SignatureValue>${sig}</SignatureValue></Signature></ClientRegistrationRequest>\u0000`;
    const parsed = parseRegistrationRequest(xml);
    expect(parsed.dataXml).toBe(data);
    expect(parsed.smsId).toBe('');
    expect(parsed.encryptionCertDer).toBeUndefined();
    expect(verifyRegistrationSignature(parsed, certs.signing.publicKey)).toBe(true);
  });

  it('detects a tampered <Data> element', () => {
    const xml = registration().replace('Value="PC-0042"', 'Value="PC-0043"');
    expect(verifyRegistrationSignature(parseRegistrationRequest(xml), certs.signing.publicKey)).toBe(false);
  });

  it('survives the CCM message codec unchanged', () => {
    const xml = registration();
    const enc = encodeCcmMessage({ header: { id: '1', sourceHost: 'PC-0042', targetHost: 'MP01', targetEndpoint: 'MP_ClientRegistration', sentTime: NOW, bodyLength: 0 }, body: xml });
    const parsed = parseRegistrationRequest(decodeCcmMessage(enc.contentType, enc.bytes).body);
    expect(verifyRegistrationSignature(parsed, certs.signing.publicKey)).toBe(true);
  });

  it('builds a signed Confirmation with the SMSID on <Signature>', () => {
    const xml = buildConfirmationRequest({ smsId: SMS_ID, timeStamp: NOW, signingKey: signingKeys.privateKey });
    expect(xml).toMatch(/^<ClientRegistrationRequest><Data HashAlgorithm="1\.2\.840\.113549\.1\.1\.11" SMSID="GUID:3358674C-7C33-44F2-8496-1A5D3116F7ED" RequestType="Confirmation" TimeStamp="2026-11-29T04:05:06Z"><AgentInformation AgentIdentity="CCMSetup.exe" AgentVersion="5.00.8325.0000" AgentType="0" \/><\/Data><Signature SMSID="GUID:3358674C-7C33-44F2-8496-1A5D3116F7ED"><SignatureValue>[0-9A-F]{512}<\/SignatureValue><\/Signature><\/ClientRegistrationRequest>$/);
    const parsed = parseRegistrationRequest(xml);
    expect(parsed.requestType).toBe('Confirmation');
    expect(parsed.signatureSmsId).toBe(SMS_ID);
    expect(parsed.signingCertDer).toBeUndefined();
    expect(verifyRegistrationSignature(parsed, certs.signing.publicKey)).toBe(true);
  });

  const bad: Array<[string, string, RegExp]> = [
    ['another root', '<Foo/>', /ClientRegistrationRequest/],
    ['no Data', '<ClientRegistrationRequest><Signature><SignatureValue>AA</SignatureValue></Signature></ClientRegistrationRequest>', /no <Data>/],
    ['an unknown RequestType', '<ClientRegistrationRequest><Data RequestType="X"/><Signature><SignatureValue>AA</SignatureValue></Signature></ClientRegistrationRequest>', /RequestType/],
    ['no signature', '<ClientRegistrationRequest><Data RequestType="Confirmation"/></ClientRegistrationRequest>', /SignatureValue/],
    ['a certificate that is not hex', '<ClientRegistrationRequest><Data RequestType="Registration"><Certificates><Signing>XYZ</Signing></Certificates></Data><Signature><SignatureValue>AA</SignatureValue></Signature></ClientRegistrationRequest>', /not hex/],
    ['XML that is not well-formed', '<ClientRegistrationRequest><Data>', /not well-formed/],
  ];
  for (const [what, xml, reason] of bad) {
    it(`refuses ${what}`, () => {
      expect(() => parseRegistrationRequest(xml)).toThrow(expect.objectContaining({ code: 'CCMSIM_PROTOCOL_MALFORMED', message: expect.stringMatching(reason) }));
    });
  }
});

describe('registration response (protocol.md §1.7)', () => {
  it('builds the SDK shape and parses it back', () => {
    const xml = buildRegistrationResponse({ responseType: 'Registration', status: 0, smsId: SMS_ID, approvalStatus: 1, timeStamp: NOW });
    expect(xml).toBe('<ClientRegistrationResponse ResponseType="Registration" TimeStamp="2026-11-29T04:05:06Z" Status="0" SMSID="GUID:3358674C-7C33-44F2-8496-1A5D3116F7ED" ApprovalStatus="1"/>');
    expect(parseRegistrationResponse(`${xml}\u0000`)).toEqual({ responseType: 'Registration', status: 0, smsId: SMS_ID, approvalStatus: 1, timeStamp: '2026-11-29T04:05:06Z' });
  });

  it('omits what is not given and reads -1 approval (Metasploit: not approved)', () => {
    const xml = buildRegistrationResponse({ responseType: 'Confirmation', status: 1, timestamp: '2026-01-01T00:00:00Z' });
    expect(xml).toBe('<ClientRegistrationResponse ResponseType="Confirmation" TimeStamp="2026-01-01T00:00:00Z" Status="1"/>');
    expect(parseRegistrationResponse('<ClientRegistrationResponse ResponseType="Registration" Status="0" SMSID="GUID:x" ApprovalStatus="-1"/>').approvalStatus).toBe(-1);
  });

  it('refuses a response with a missing or unknown Status', () => {
    expect(() => parseRegistrationResponse('<ClientRegistrationResponse ResponseType="Registration"/>')).toThrow(expect.objectContaining({ code: 'CCMSIM_PROTOCOL_MALFORMED' }));
    expect(() => parseRegistrationResponse('<ClientRegistrationResponse ResponseType="Registration" Status="9"/>')).toThrow(/Status/);
  });
});

describe('registration requests signed off the main thread (the agent’s form)', () => {
  it('are the same text as the synchronous builders give', async () => {
    expect(await buildRegistrationRequestAsync(REGISTRATION_OPTIONS)).toBe(registration());
    const confirmation = { smsId: SMS_ID, timeStamp: NOW, signingKey: signingKeys.privateKey };
    const xml = await buildConfirmationRequestAsync(confirmation);
    expect(xml).toBe(buildConfirmationRequest(confirmation));
    expect(verifyRegistrationSignature(parseRegistrationRequest(xml), signingKeys.publicKey)).toBe(true);
  });
});
