// The management point on loopback: information GETs, content and its signed manifest, registration and confirmation,
// a signature that does not match, and malformed messages answered with an error and a log line while serving on.
import { describe, it, expect, afterEach } from 'vitest';
import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { request } from 'undici';
import { startServerFixture, type ServerFixture } from './server-fixture.js';
import { ccmPost, confirmationBody, registrationBody, registrationMessage, smsIdFor, type ClientIdentity } from './client-messages.js';
import { listClients } from '../../src/site/registrations.js';
import { contentFiles, sha256Hex, verifyManifest } from '../../src/site/content.js';
import { activeCertificate } from '../../src/site/site-pki.js';
import { CCM_BOUNDARY } from '../../src/protocol/ccm-message.js';

let fx: ServerFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

async function get(url: string): Promise<{ status: number; text: string; headers: Record<string, unknown>; bytes: Buffer }> {
  const res = await request(url);
  const bytes = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, text: bytes.toString('utf8'), headers: res.headers, bytes };
}

const PC1: ClientIdentity = { smsId: smsIdFor(1), name: 'PC001', keyIndex: 3 };

describe('MP information and content', () => {
  it('answers MPLIST with the MP host and site code, paths case-insensitive as IIS', async () => {
    fx = await startServerFixture();
    const a = await get(`${fx.servers.mpUrl}/SMS_MP/.sms_aut?MPLIST`);
    expect(a.status).toBe(200);
    expect(a.text).toBe(
      '<MPList><MP Name="MP01.CONTOSO.COM" FQDN="mp01.contoso.com" SiteCode="ABC"><Version>9128</Version>' +
        '<Capabilities SchemaVersion="1.0"><Property Name="SSLState" Value="0"/></Capabilities></MP></MPList>',
    );
    const iis = readFileSync(fx.servers.logs.pathOf('CcmIsapi').replace(/SMS_CCM[\\/]Logs[\\/]CcmIsapi\.log$/, 'inetpub/logs/LogFiles/W3SVC1/u_ex260301.log'), 'utf8');
    expect(iis).toMatch(/^#Software: Microsoft Internet Information Services 10\.0\r\n#Version: 1\.0\r\n#Date: 2026-03-01 09:00:00\r\n#Fields: date time s-ip /);
    expect(iis).toMatch(new RegExp(`\\r\\n2026-03-01 09:00:00 127\\.0\\.0\\.1 GET /SMS_MP/\\.sms_aut MPLIST ${fx.servers.mpPort} - 127\\.0\\.0\\.1 \\S+ - 200 0 0 0\\r\\n`));
    const b = await get(`${fx.servers.mpUrl}/sms_mp/.SMS_AUT?mplist1&ABC`);
    expect(b.text).toBe(a.text);
    const key = await get(`${fx.servers.mpUrl}/SMS_MP/.sms_aut?MPKEYINFORMATION`);
    expect(key.text).toMatch(/^<MPKEYINFORMATION><FQDN>mp01\.contoso\.com<\/FQDN><SITECODE>ABC<\/SITECODE><SITESIGNCERT>[0-9A-F]+<\/SITESIGNCERT><\/MPKEYINFORMATION>$/);
    const cert = await get(`${fx.servers.mpUrl}/SMS_MP/.sms_aut?SITESIGNCERT`);
    const root = activeCertificate(fx.site.db, 'issuing-root');
    expect(Buffer.from(cert.text, 'hex').toString('base64')).toBe(root.pem.replace(/-----[A-Z ]+-----|\s/g, ''));
    expect((await get(`${fx.servers.mpUrl}/SMS_MP/.sms_aut?NOSUCH`)).status).toBe(404);
  });

  it('describes the site at /ccmsim/site so a remote agent needs only the MP URL', async () => {
    fx = await startServerFixture();
    const res = await get(`${fx.servers.mpUrl}/ccmsim/site`);
    const info = JSON.parse(res.text) as Record<string, unknown>;
    expect(info).toMatchObject({
      siteCode: 'ABC',
      mpHost: 'MP01.CONTOSO.COM',
      mpUrl: fx.servers.mpUrl,
      cmgHost: 'CONTOSO.CLOUDAPP.NET',
      cmgId: '72186325152220500',
      cmgAddress: '127.0.0.1',
      cmgPort: fx.servers.cmgPort,
      cmgMutualAuthUrl: 'https://CONTOSO.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500',
      rootCertificatePem: activeCertificate(fx.site.db, 'issuing-root').pem,
    });
  });

  it('serves the stand-in files with a manifest signed by the site root; --corrupt-manifest breaks the client.msi hash', async () => {
    fx = await startServerFixture();
    const rootPem = activeCertificate(fx.site.db, 'issuing-root').pem;
    const manifest = await get(`${fx.servers.mpUrl}/CCM_Client/ccmsetup.xml`);
    const entries = verifyManifest(manifest.text, rootPem);
    expect(entries.map((e) => e.url)).toEqual(['/CCM_Client/ccmsetup.cab', '/CCM_Client/x64/client.msi']);
    for (const entry of entries) {
      const file = await get(`${fx.servers.mpUrl}${entry.url.toLowerCase()}`);
      expect(file.status).toBe(200);
      expect(sha256Hex(file.bytes)).toBe(entry.sha256);
      expect(file.bytes.length).toBe(entry.size);
    }
    fx.site.updateConfig({ corruptManifest: true });
    const broken = verifyManifest((await get(`${fx.servers.mpUrl}/CCM_Client/manifest.xml`)).text, rootPem);
    const msi = contentFiles().find((f) => f.name === 'client.msi')!;
    expect(broken.find((e) => e.name === 'client.msi')!.sha256).not.toBe(sha256Hex(msi.bytes));
    expect(broken.find((e) => e.name === 'ccmsetup.cab')!.sha256).toBe(entries[0]!.sha256);
    // A tampered manifest fails the signature check.
    expect(() => verifyManifest(manifest.text.replace(/SHA256="./, 'SHA256="0'), rootPem)).toThrow(/signature/);
  });
});

describe('registration over the MP', () => {
  it('answers Registration with Status 1 (pending), then Confirmation with Status 0, SMSID and ApprovalStatus', async () => {
    fx = await startServerFixture();
    const now = fx.clock.now();
    const url = `${fx.servers.mpUrl}/ccm_system_windowsauth/request`;
    const first = await ccmPost(url, registrationMessage(PC1, registrationBody(PC1, { nowMs: now }), now));
    expect(first.status).toBe(200);
    expect(first.response).toMatchObject({ responseType: 'Registration', status: 1, smsId: PC1.smsId });
    expect(first.text).toMatch(/^<ClientRegistrationResponse ResponseType="Registration" TimeStamp="2026-03-01T09:00:00Z" Status="1" SMSID="GUID:/);

    const confirm = await ccmPost(url, registrationMessage(PC1, confirmationBody(PC1, { nowMs: now }), now));
    expect(confirm.response).toMatchObject({ responseType: 'Confirmation', status: 0, smsId: PC1.smsId, approvalStatus: 1 });

    // Idempotent: the same GUID and certificate again is already registered.
    const again = await ccmPost(`${fx.servers.mpUrl}/CCM_SYSTEM/request`, registrationMessage(PC1, registrationBody(PC1, { nowMs: now }), now));
    expect(again.response).toMatchObject({ status: 0, smsId: PC1.smsId, approvalStatus: 1 });
    const clients = listClients(fx.site);
    expect(clients).toHaveLength(1);
    expect(clients[0]).toMatchObject({ smsId: PC1.smsId, netbiosName: 'PC001', method: 'intranet', hardwareId: '2:5B6E4F1A0C0D' });

    const log = fx.log('MP_RegistrationManager');
    expect(log).toContain(`Processing Registration request from Client '${PC1.smsId}'`);
    expect(log).toMatch(/Begin validation of Certificate \[Thumbprint [0-9A-F]{40}\] issued to 'PC001'/);
    expect(log).toContain('MP Reg: Processing completed. Completion state = 0');
    expect(log).toContain(`MP Reg: Client '${PC1.smsId}' is registered. Approval status 1`);
    expect(log).toMatch(/^\uFEFF<!\[LOG\[Processing Registration request/);
    expect(log).toMatch(/component="MP_RegistrationManager" context="" type="1" thread="\d+" file="">\r\n/);
  });

  it('prints the server logs in the configured time zone (Windows bias: +480 for Pacific standard time)', async () => {
    fx = await startServerFixture({ timeZone: 'America/Los_Angeles' });
    const now = fx.clock.now();
    await ccmPost(`${fx.servers.mpUrl}/ccm_system/request`, registrationMessage(PC1, registrationBody(PC1, { nowMs: now }), now));
    expect(fx.log('MP_RegistrationManager')).toContain('time="01:00:00.000+480" date="03-01-2026" component="MP_RegistrationManager"');
  });

  it('gives a new SMSID when the client sends SMSID="" and answers Status 2 to a Confirmation for an unknown client', async () => {
    fx = await startServerFixture();
    const now = fx.clock.now();
    const url = `${fx.servers.mpUrl}/ccm_system/request`;
    const anon = { ...PC1, smsId: '' };
    const reply = await ccmPost(url, registrationMessage(anon, registrationBody(anon, { nowMs: now }), now));
    expect(reply.response?.status).toBe(1);
    expect(reply.response?.smsId).toMatch(/^GUID:[0-9A-F-]{36}$/);
    const stranger = { ...PC1, smsId: smsIdFor(99) };
    const unknown = await ccmPost(url, registrationMessage(stranger, confirmationBody(stranger, { nowMs: now }), now));
    expect(unknown.response).toMatchObject({ responseType: 'Confirmation', status: 2 });
  });

  it('refuses a Registration whose signature does not match its certificate (403), logs it, and keeps serving', async () => {
    fx = await startServerFixture();
    const now = fx.clock.now();
    const url = `${fx.servers.mpUrl}/ccm_system_windowsauth/request`;
    const forged = await ccmPost(url, registrationMessage(PC1, registrationBody(PC1, { nowMs: now, signWith: 4 }), now));
    expect(forged.status).toBe(403);
    expect(forged.error).toBe('CCMSIM_SIGNATURE_INVALID');
    expect(listClients(fx.site)).toHaveLength(0);
    const log = fx.log('MP_RegistrationManager');
    expect(log).toContain(`Signature verification failed for Registration request from Client '${PC1.smsId}'`);
    expect(log).toContain('MP Reg: Registration failed.');
    // A Confirmation signed with another key than the registered one is refused too.
    await ccmPost(url, registrationMessage(PC1, registrationBody(PC1, { nowMs: now }), now));
    const badConfirm = await ccmPost(url, registrationMessage(PC1, confirmationBody(PC1, { nowMs: now, signWith: 4 }), now));
    expect(badConfirm.status).toBe(403);
    expect(badConfirm.error).toBe('CCMSIM_SIGNATURE_INVALID');
  });

  it('answers malformed multipart, zlib, UTF-16 and XML with 400 and a log line each, and keeps serving', async () => {
    fx = await startServerFixture();
    const now = fx.clock.now();
    const url = `${fx.servers.mpUrl}/ccm_system/request`;
    const good = registrationMessage(PC1, registrationBody(PC1, { nowMs: now }), now);
    const part = (type: string, content: Buffer): Buffer =>
      Buffer.concat([Buffer.from(`--${CCM_BOUNDARY}\r\ncontent-type: ${type}\r\n\r\n`, 'ascii'), content, Buffer.from('\r\n', 'ascii')]);
    const header = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<Msg><TargetEndpoint>MP_ClientRegistration</TargetEndpoint></Msg>', 'utf16le')]);
    const message = (headerBytes: Buffer, bodyBytes: Buffer) => ({
      contentType: good.contentType,
      bytes: Buffer.concat([part('text/plain; charset=UTF-16', headerBytes), part('application/octet-stream', bodyBytes).subarray(0, -2), Buffer.from(`\r\n--${CCM_BOUNDARY}--`)]),
    });
    const cases: Array<[string, { contentType: string; bytes: Buffer }, RegExp]> = [
      ['multipart', { contentType: good.contentType, bytes: Buffer.from('no multipart delimiter in here') }, /multipart delimiter/],
      ['no boundary', { contentType: 'multipart/mixed', bytes: good.bytes }, /no boundary/],
      ['zlib', message(header, Buffer.from('definitely not zlib')), /zlib/],
      ['UTF-16', message(Buffer.from([0xff, 0xfe, 0x3c, 0x00, 0x4d]), deflateSync(Buffer.from('<a/>\0', 'utf16le'))), /UTF-16/],
      ['XML', message(header, deflateSync(Buffer.from('<ClientRegistrationRequest><Data>\0', 'utf16le'))), /XML/],
    ];
    let lines = 0;
    for (const [label, bad, reason] of cases) {
      const reply = await ccmPost(url, bad);
      expect(reply.status, label).toBe(400);
      expect(reply.error, label).toBe('CCMSIM_PROTOCOL_MALFORMED');
      expect(reply.text, label).toMatch(reason);
      const log = fx.log('CcmIsapi');
      const count = log.split('Failed to process CCM message').length - 1;
      expect(count, label).toBe(lines + 1);
      lines = count;
    }
    expect(fx.log('CcmIsapi')).toMatch(/Failed to process CCM message from 127\.0\.0\.1 on \/ccm_system\/request: CCMSIM_PROTOCOL_MALFORMED: /);
    const ok = await ccmPost(url, good);
    expect(ok.response?.status).toBe(1);
  });

  it('refuses other methods and unknown endpoints, and answers 404 for unknown paths', async () => {
    fx = await startServerFixture();
    const get405 = await request(`${fx.servers.mpUrl}/ccm_system/request`);
    expect(get405.statusCode).toBe(405);
    await get405.body.dump();
    const now = fx.clock.now();
    const other = registrationMessage(PC1, registrationBody(PC1, { nowMs: now }), now);
    const header = other.bytes.toString('latin1');
    // Re-encode with another TargetEndpoint.
    const { encodeCcmMessage } = await import('../../src/protocol/ccm-message.js');
    const policy = encodeCcmMessage({
      header: { id: 'X', sourceHost: 'PC001', targetHost: 'MP01', targetEndpoint: 'MP_PolicyManager', sentTime: new Date(now), bodyLength: 0 },
      body: '<RequestAssignments/>',
    });
    void header;
    const reply = await ccmPost(`${fx.servers.mpUrl}/ccm_system/request`, policy);
    expect(reply.status).toBe(404);
    expect(fx.log('CcmIsapi')).toContain("No endpoint 'MP_PolicyManager' on this management point");
    expect((await get(`${fx.servers.mpUrl}/nothing/here`)).status).toBe(404);
  });
});
