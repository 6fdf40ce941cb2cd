// The CMG over HTTPS and the token service: bulk-token registration, first token and renewal, every bulk-token
// refusal (status, X-CCMSim-Error and a log line), block then unblock, CMG disabled, MutualAuth without a client
// certificate, and a client token copied into another machine's request. No token part ever reaches a file.
import { describe, it, expect, afterEach, vi } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import { SignJWT } from 'jose';
import { request } from 'undici';
import { startServerFixture, type ServerFixture } from './server-fixture.js';
import { ccmPost, confirmationBody, registrationBody, registrationMessage, smsIdFor, type ClientIdentity } from './client-messages.js';
import { testKeyPair } from '../helpers/test-keys.js';
import { blockBulkToken, createBulkToken, unblockBulkToken } from '../../src/site/bulk-tokens.js';
import { getClient } from '../../src/site/registrations.js';
import { listClientTokens } from '../../src/site/client-tokens.js';
import { activeCertificate, privateKeyOf } from '../../src/site/site-pki.js';
import { statement } from '../../src/site/store.js';
import { buildClientAuthHeaders } from '../../src/protocol/client-auth.js';
import { buildStsRequest, parseStsResponse, type StsPurpose } from '../../src/protocol/sts.js';
import { signJwt, tokenIssuer, x5tOf } from '../../src/protocol/tokens.js';

let fx: ServerFixture | undefined;
const tokensSeen: string[] = [];
afterEach(async () => {
  await fx?.close();
  fx = undefined;
  tokensSeen.length = 0;
});

const PC1: ClientIdentity = { smsId: smsIdFor(11), name: 'PC011', keyIndex: 5 };
const PC2: ClientIdentity = { smsId: smsIdFor(12), name: 'PC012', keyIndex: 6 };

function tokenAuthUrl(f: ServerFixture): string {
  return `${f.cmgServerAuth}/ccm_system_tokenauth/request`;
}

/** Registers (and confirms) `client` through the CMG with a bulk token; returns the two replies. */
async function registerWithBulk(f: ServerFixture, client: ClientIdentity, token: string) {
  tokensSeen.push(token);
  const now = f.clock.now();
  const headers = { authorization: `Bearer ${token}` };
  const reg = await ccmPost(tokenAuthUrl(f), registrationMessage(client, registrationBody(client, { nowMs: now }), now), { headers, dispatcher: f.cmgDispatcher });
  const conf = await ccmPost(tokenAuthUrl(f), registrationMessage(client, confirmationBody(client, { nowMs: now }), now), { headers, dispatcher: f.cmgDispatcher });
  return { reg, conf };
}

interface StsReply {
  status: number;
  error: string | undefined;
  body: string;
  token?: string;
  tokenId?: string;
}

/** CCM_POST /CCM_STS, through the CMG (default) or the MP, with ClientToken headers signed by `signWith`. */
async function sts(
  f: ServerFixture,
  client: ClientIdentity,
  options: { token?: string; purpose?: StsPurpose; via?: 'cmg' | 'mp'; signWith?: number; claim?: string; unsigned?: boolean } = {},
): Promise<StsReply> {
  const via = options.via ?? 'cmg';
  const url = via === 'cmg' ? `${f.cmgServerAuth}/CCM_STS` : `${f.servers.mpUrl}/CCM_STS`;
  const auth = buildClientAuthHeaders({
    ...(options.token ? { token: options.token } : {}),
    smsId: options.claim ?? client.smsId,
    signingKey: testKeyPair(options.signWith ?? client.keyIndex).privateKey,
    now: f.clock.now(),
  });
  const headers: Record<string, string> = { 'content-type': 'text/xml; charset=utf-8' };
  for (const [k, v] of Object.entries(auth)) if (v !== undefined && (!options.unsigned || k === 'Authorization')) headers[k.toLowerCase()] = v;
  const res = await request(url, {
    method: 'CCM_POST',
    headers,
    body: buildStsRequest({ smsId: client.smsId, purpose: options.purpose ?? 'Issue' }),
    ...(via === 'cmg' ? { dispatcher: f.cmgDispatcher } : {}),
  });
  const body = await res.body.text();
  const reply: StsReply = { status: res.statusCode, error: res.headers['x-ccmsim-error'] as string | undefined, body };
  if (res.statusCode === 200) {
    const parsed = parseStsResponse(body);
    reply.token = parsed.token;
    reply.tokenId = parsed.tokenId;
    tokensSeen.push(parsed.token);
  }
  return reply;
}

/** A new site with PC1 enrolled through the CMG with a bulk token, holding its first client token, `days` later. */
async function enrolledWithFirstToken(days: number): Promise<{ f: ServerFixture; first: StsReply }> {
  const f = await startServerFixture();
  fx = f;
  const bulk = await createBulkToken(f.site);
  await registerWithBulk(f, PC1, bulk.token);
  const first = await sts(f, PC1, { token: bulk.token });
  await f.clock.advance(days * 24 * 3600 * 1000);
  return { f, first };
}

/** Every file under the site directory, as latin1 and UTF-16LE-decoded text. */
function siteFilesText(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else {
        const bytes = readFileSync(p);
        out.push(bytes.toString('latin1'), bytes.toString('utf16le'), bytes.subarray(1).toString('utf16le'));
      }
    }
  };
  walk(dir);
  return out;
}

function expectNoTokenInFiles(f: ServerFixture): void {
  const texts = siteFilesText(f.dir);
  for (const token of tokensSeen) {
    for (const part of token.split('.').filter((p) => p.length >= 8)) {
      expect(texts.some((t) => t.includes(part)), `a part of a token is in a site file`).toBe(false);
    }
  }
}

describe('token clients through the CMG', () => {
  it('registers with a bulk token, confirms, gets its first token, renews it, and the old one is refused', async () => {
    fx = await startServerFixture();
    const bulk = await createBulkToken(fx.site);
    const { reg, conf } = await registerWithBulk(fx, PC1, bulk.token);
    expect(reg.response).toMatchObject({ status: 1, smsId: PC1.smsId });
    expect(conf.response).toMatchObject({ status: 0, smsId: PC1.smsId, approvalStatus: 1 });
    expect(getClient(fx.site, PC1.smsId)).toMatchObject({ method: 'bulk', bulkTokenGuid: bulk.guid });

    const first = await sts(fx, PC1, { token: bulk.token });
    expect(first.status).toBe(200);
    expect(first.body).toMatch(/^<CcmTokenResponse SchemaVersion="1.0" Status="0"><Token>/);
    await fx.clock.advance(31 * 24 * 3600 * 1000);
    const renewed = await sts(fx, PC1, { token: first.token!, purpose: 'Renew' });
    expect(renewed.status).toBe(200);
    expect(renewed.tokenId).not.toBe(first.tokenId);
    const tokens = listClientTokens(fx.site, PC1.smsId);
    expect(tokens.map((t) => [t.tokenId, t.via, t.revokedMs !== undefined])).toEqual([
      [first.tokenId, 'cmg', true],
      [renewed.tokenId, 'cmg', false],
    ]);
    const stale = await sts(fx, PC1, { token: first.token!, purpose: 'Renew' });
    expect([stale.status, stale.error]).toEqual([401, 'CCMSIM_TOKEN_REVOKED']);
    expect(stale.body).toContain('ErrorCode="CCMSIM_TOKEN_REVOKED"');
    // The client token is good for messages too (a Confirmation through ccm_system_tokenauth).
    const now = fx.clock.now();
    const withToken = await ccmPost(tokenAuthUrl(fx), registrationMessage(PC1, confirmationBody(PC1, { nowMs: now }), now), {
      headers: Object.fromEntries(
        Object.entries(buildClientAuthHeaders({ token: renewed.token!, smsId: PC1.smsId, signingKey: testKeyPair(PC1.keyIndex).privateKey, now })).map(([k, v]) => [k.toLowerCase(), v!]),
      ),
      dispatcher: fx.cmgDispatcher,
    });
    expect(withToken.response).toMatchObject({ status: 0, smsId: PC1.smsId });

    const reglog = fx.log('MP_RegistrationManager');
    expect(reglog).toContain(`Registering device using bulk registration token: TokenId='${bulk.guid}'`);
    expect(reglog).toContain(`Validated bulk registration token. TokenId: ${bulk.guid}`);
    const stslog = fx.log('CCM_STS');
    for (const line of ['ProcessRequest - Start', 'Incoming request URL: http://MP01.CONTOSO.COM/CCM_STS', 'Issued token', 'Return token to client']) {
      expect(stslog).toContain(line);
    }
    expect(stslog).toContain(`Created SCCM token, token type: ClientAuthentication, hierarchyId: ${fx.site.config().tenantId.toLowerCase()}, deviceId: ${PC1.smsId}`);
    const cmglog = fx.log('CMGService');
    expect(cmglog).toMatch(/RequestUri: \/CCM_PROXY_SERVERAUTH\/72186325152220500\/CCM_STS {2}RequestCount: 3 {2}RequestSize: \d+ Bytes {2}ResponseCount: 3 {2}ResponseSize: \d+ Bytes {2}AverageElapsedTime: \d+ ms~~ {2}\$\$<CMGService><04-01-2026 09:00:00\.000\+00><thread=\d+ \(0x[0-9A-F]+\)>\r\n/);
    expect(fx.log('SMS_CLOUD_PROXYCONNECTOR')).toMatch(/MessageID: [0-9a-f-]{36} RequestURI: http:\/\/MP01\.CONTOSO\.COM\/CCM_STS EndpointName: CCM_STS ResponseHeader: HTTP\/1\.1 200/);
    expectNoTokenInFiles(fx);
  });

  it("reads the client's record once per renewal: the request's signed headers read it, the token checks and the issue reuse it", async () => {
    const { f, first } = await enrolledWithFirstToken(31);
    // The site's one prepared statement for a client's record (statements are kept per connection).
    const reads = vi.spyOn(statement(f.site.db, 'SELECT * FROM clients WHERE sms_id = ?'), 'get');
    const renewed = await sts(f, PC1, { token: first.token!, purpose: 'Renew' });
    expect(renewed.status).toBe(200);
    expect(reads).toHaveBeenCalledTimes(1);
    reads.mockClear();
    const again = await sts(f, PC1, { token: renewed.token!, purpose: 'Renew', via: 'mp' });
    expect(again.status).toBe(200);
    expect(reads).toHaveBeenCalledTimes(1);
    reads.mockRestore();
    expect(listClientTokens(f.site, PC1.smsId).filter((t) => t.revokedMs === undefined).map((t) => t.tokenId)).toEqual([again.tokenId]);
  });

  it('refuses an expired client token through the CMG and renews it only on the intranet MP', async () => {
    const { f, first } = await enrolledWithFirstToken(91);
    const viaCmg = await sts(f, PC1, { token: first.token!, purpose: 'Renew' });
    expect([viaCmg.status, viaCmg.error]).toEqual([401, 'CCMSIM_TOKEN_EXPIRED']);
    expect(f.log('CMGService')).toMatch(/Rejected request \/CCM_PROXY_SERVERAUTH\/72186325152220500\/CCM_STS: CCMSIM_TOKEN_EXPIRED/);
    const viaMp = await sts(f, PC1, { token: first.token!, purpose: 'Renew', via: 'mp' });
    expect(viaMp.status).toBe(200);
    expect(listClientTokens(f.site, PC1.smsId).at(-1)?.via).toBe('mp');
    expectNoTokenInFiles(f);
  });

  it('issues a token on the intranet MP on the strength of the signature, unless the site forbids it', async () => {
    fx = await startServerFixture();
    const now = fx.clock.now();
    await ccmPost(`${fx.servers.mpUrl}/ccm_system_windowsauth/request`, registrationMessage(PC2, registrationBody(PC2, { nowMs: now }), now));
    const issued = await sts(fx, PC2, { via: 'mp' });
    expect(issued.status).toBe(200);
    const forged = await sts(fx, PC2, { via: 'mp', signWith: 7 });
    expect([forged.status, forged.error]).toEqual([403, 'CCMSIM_SIGNATURE_INVALID']);
    expect(fx.log('ClientAuth')).toContain(`ClientTokenSignature for '${PC2.smsId}' does not verify with the registered certificate`);
    const unsigned = await sts(fx, PC2, { via: 'mp', unsigned: true });
    expect([unsigned.status, unsigned.error]).toEqual([403, 'CCMSIM_SIGNATURE_INVALID']);
    fx.site.updateConfig({ intranetTokens: false });
    const refused = await sts(fx, PC2, { via: 'mp' });
    expect([refused.status, refused.error]).toEqual([403, 'CCMSIM_REGISTRATION_REFUSED']);
    // Without a token the CMG forwards nothing.
    const noToken = await sts(fx, PC2, { via: 'cmg' });
    expect([noToken.status, noToken.error]).toEqual([401, 'CCMSIM_TOKEN_MALFORMED']);
    expectNoTokenInFiles(fx);
  });

  it('refuses a client token copied into another machine’s request', async () => {
    fx = await startServerFixture();
    const bulk = await createBulkToken(fx.site);
    await registerWithBulk(fx, PC1, bulk.token);
    await registerWithBulk(fx, PC2, bulk.token);
    const pc1Token = (await sts(fx, PC1, { token: bulk.token })).token!;
    // PC2 presents PC1's token with its own, valid ClientToken headers: the token names PC1's certificate.
    const copied = await sts(fx, PC2, { token: pc1Token, purpose: 'Renew' });
    expect([copied.status, copied.error]).toEqual([403, 'CCMSIM_TOKEN_CERT_MISMATCH']);
    // PC2 claims to be PC1 but can only sign with its own key.
    const posing = await sts(fx, PC1, { token: pc1Token, purpose: 'Renew', signWith: PC2.keyIndex });
    expect([posing.status, posing.error]).toEqual([403, 'CCMSIM_SIGNATURE_INVALID']);
    // The same on ccm_system_tokenauth/request.
    const now = fx.clock.now();
    const msg = await ccmPost(tokenAuthUrl(fx), registrationMessage(PC2, confirmationBody(PC2, { nowMs: now }), now), {
      headers: Object.fromEntries(
        Object.entries(buildClientAuthHeaders({ token: pc1Token, smsId: PC2.smsId, signingKey: testKeyPair(PC2.keyIndex).privateKey, now })).map(([k, v]) => [k.toLowerCase(), v!]),
      ),
      dispatcher: fx.cmgDispatcher,
    });
    expect([msg.status, msg.error]).toEqual([403, 'CCMSIM_TOKEN_CERT_MISMATCH']);
    expect(fx.log('ClientAuth')).toMatch(/Failed to validate client token \(TokenId: [0-9a-f-]{36}\) from 'GUID:[0-9A-F-]+'\. CCMSIM_TOKEN_CERT_MISMATCH/);
    expectNoTokenInFiles(fx);
  });
});

describe('re-registration', () => {
  it('lets a reinstalled client with new keys register again with the bulk token; its old tokens are revoked', async () => {
    fx = await startServerFixture();
    const bulk = await createBulkToken(fx.site);
    await registerWithBulk(fx, PC1, bulk.token);
    const old = await sts(fx, PC1, { token: bulk.token });
    const reinstalled = { ...PC1, keyIndex: 8 };
    const now = fx.clock.now();
    const headers = Object.fromEntries(
      Object.entries(buildClientAuthHeaders({ token: bulk.token, smsId: PC1.smsId, signingKey: testKeyPair(8).privateKey, now })).map(([k, v]) => [k.toLowerCase(), v!]),
    );
    const reply = await ccmPost(tokenAuthUrl(fx), registrationMessage(reinstalled, registrationBody(reinstalled, { nowMs: now }), now), { headers, dispatcher: fx.cmgDispatcher });
    expect(reply.response).toMatchObject({ status: 1, smsId: PC1.smsId });
    expect(fx.log('ClientAuth')).toContain('Ignoring the ClientToken headers of a bulk-token registration message. CCMSIM_SIGNATURE_INVALID');
    expect(fx.log('MP_RegistrationManager')).toContain(`MP Reg: Client '${PC1.smsId}' registered again with a new certificate`);
    const stale = await sts(fx, reinstalled, { token: old.token!, purpose: 'Renew' });
    expect([stale.status, stale.error]).toEqual([403, 'CCMSIM_TOKEN_CERT_MISMATCH']);
    tokensSeen.push(bulk.token);
    expectNoTokenInFiles(fx);
  });
});

describe('bulk token refusals over the CMG', () => {
  async function forged(f: ServerFixture, claims: Record<string, unknown>, key = privateKeyOf(f.site.paths, activeCertificate(f.site.db, 'token-signing'))): Promise<string> {
    const signer = activeCertificate(f.site.db, 'token-signing');
    return signJwt({ x5t: x5tOf(signer.thumbprint) }, claims, key);
  }

  it('refuses each bad token with its own code, HTTP 401, and a log line naming the token GUID only', async () => {
    fx = await startServerFixture();
    const f = fx;
    const good = await createBulkToken(f.site);
    const tenant = f.site.config().tenantId;
    const nowS = Math.floor(f.clock.now() / 1000);
    const base = {
      SCCMTokenCategory: 'SCCMPreAuthToken',
      Authority: 'SCCM',
      License: 'SCCM',
      Type: 'BulkRegistration',
      TenantId: tenant,
      UniqueId: good.guid,
      iss: tokenIssuer(tenant),
      aud: 'urn:sccm:service',
      exp: nowS + 3600,
      nbf: nowS - 60,
    };
    const [h, p] = good.token.split('.');
    const b64 = (v: object): string => Buffer.from(JSON.stringify(v)).toString('base64url');
    const doc = readFileSync('/work/shared/reference/seed-token-auth-cmg.txt', 'utf8');
    const microsoftExample = /\/regtoken:([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/.exec(doc)![1]!;
    const cases: Array<[string, string, string]> = [
      ['not a JWT', 'not-a-jwt', 'CCMSIM_TOKEN_MALFORMED'],
      ["Microsoft's example", microsoftExample, 'CCMSIM_TOKEN_MALFORMED'],
      ['alg none', `${b64({ typ: 'JWT', alg: 'none' })}.${p}.`, 'CCMSIM_TOKEN_ALGORITHM'],
      ['HS256', await new SignJWT(base).setProtectedHeader({ typ: 'JWT', alg: 'HS256' }).sign(Buffer.alloc(32, 7)), 'CCMSIM_TOKEN_ALGORITHM'],
      ['unknown x5t', await signJwt({ x5t: x5tOf('00'.repeat(20)) }, base, testKeyPair(9).privateKey), 'CCMSIM_TOKEN_UNKNOWN_KEY'],
      ['bad signature', `${h}.${p}.${Buffer.alloc(256, 1).toString('base64url')}`, 'CCMSIM_TOKEN_SIGNATURE'],
      ['signed by another key', await forged(f, base, testKeyPair(9).privateKey), 'CCMSIM_TOKEN_SIGNATURE'],
      ['wrong aud', await forged(f, { ...base, aud: 'urn:other' }), 'CCMSIM_TOKEN_CLAIMS'],
      ['wrong iss', await forged(f, { ...base, iss: 'urn:sccm:oauth2:other' }), 'CCMSIM_TOKEN_CLAIMS'],
      ['wrong Type', await forged(f, { ...base, Type: 'Something' }), 'CCMSIM_TOKEN_CLAIMS'],
      ['wrong tenant', await forged(f, { ...base, TenantId: '11111111-2222-3333-4444-555555555555' }), 'CCMSIM_TOKEN_CLAIMS'],
      ['not yet valid', await forged(f, { ...base, nbf: nowS + 3600, exp: nowS + 7200 }), 'CCMSIM_TOKEN_NOT_YET_VALID'],
      ['expired', await forged(f, { ...base, nbf: nowS - 7200, exp: nowS - 3600 }), 'CCMSIM_TOKEN_EXPIRED'],
      ['never issued', await forged(f, { ...base, UniqueId: '0a0b0c0d-1111-2222-3333-444455556666' }), 'CCMSIM_TOKEN_UNKNOWN'],
    ];
    const now = f.clock.now();
    for (const [label, token, code] of cases) {
      tokensSeen.push(token);
      const before = f.log('MP_RegistrationManager').split('\r\n').length;
      const reply = await ccmPost(tokenAuthUrl(f), registrationMessage(PC1, registrationBody(PC1, { nowMs: now }), now), {
        headers: { authorization: `Bearer ${token}` },
        dispatcher: f.cmgDispatcher,
      });
      expect([reply.status, reply.error], label).toEqual([401, code]);
      const newLines = f.log('MP_RegistrationManager').split('\r\n').slice(before - 1).join('\n');
      expect(newLines, label).toMatch(new RegExp(`Failed to validate the bulk registration token \\(TokenId: (?:[0-9a-f-]{36}|unknown)\\)\\. ${code}: `));
      expect(f.log('CMGService'), label).toContain(`CCM_SYSTEM_TOKENAUTH/REQUEST: ${code}`);
      // The same token is refused by the token service too.
      const viaSts = await sts(f, PC1, { token });
      expect([viaSts.status, viaSts.error], `${label} on CCM_STS`).toEqual([401, code]);
    }
    expect(getClient(f.site, PC1.smsId)).toBeUndefined();
    expect(f.log('MP_RegistrationManager')).toContain(`(TokenId: 0a0b0c0d-1111-2222-3333-444455556666). CCMSIM_TOKEN_UNKNOWN`);
    expectNoTokenInFiles(f);
  });

  it('refuses a blocked bulk token, and accepts it again once unblocked; an expired one is refused', async () => {
    fx = await startServerFixture();
    const bulk = await createBulkToken(fx.site, { lifetimeMinutes: 60 });
    blockBulkToken(fx.site, bulk.guid);
    const blocked = await registerWithBulk(fx, PC1, bulk.token);
    expect([blocked.reg.status, blocked.reg.error]).toEqual([401, 'CCMSIM_TOKEN_BLOCKED']);
    expect(fx.log('MP_RegistrationManager')).toContain(`Failed to validate the bulk registration token (TokenId: ${bulk.guid}). CCMSIM_TOKEN_BLOCKED`);
    unblockBulkToken(fx.site, bulk.guid);
    const ok = await registerWithBulk(fx, PC1, bulk.token);
    expect(ok.reg.response?.status).toBe(1);
    expect(ok.conf.response?.status).toBe(0);
    await fx.clock.advance(66 * 60 * 1000); // past exp + 5 minutes of skew
    const late = await registerWithBulk(fx, PC2, bulk.token);
    expect([late.reg.status, late.reg.error]).toEqual([401, 'CCMSIM_TOKEN_EXPIRED']);
    expectNoTokenInFiles(fx);
  });
});

describe('CMG gatekeeping', () => {
  it('refuses every request when client settings do not allow the CMG, and serves again when they do', async () => {
    fx = await startServerFixture();
    const bulk = await createBulkToken(fx.site);
    fx.site.updateConfig({ cmgEnabled: false });
    const reg = await registerWithBulk(fx, PC1, bulk.token);
    expect([reg.reg.status, reg.reg.error]).toEqual([403, 'CCMSIM_CMG_NOT_ALLOWED']);
    const tok = await sts(fx, PC1, { token: bulk.token });
    expect([tok.status, tok.error]).toEqual([403, 'CCMSIM_CMG_NOT_ALLOWED']);
    const list = await request(`${fx.cmgServerAuth}/SMS_MP/.sms_aut?MPLIST`, { dispatcher: fx.cmgDispatcher });
    expect(list.statusCode).toBe(403);
    await list.body.dump();
    expect(fx.log('CMGService')).toContain('client settings do not allow clients to use the cloud management gateway');
    fx.site.updateConfig({ cmgEnabled: true });
    const again = await registerWithBulk(fx, PC1, bulk.token);
    expect(again.reg.response?.status).toBe(1);
  });

  it('answers 404 for an unknown CMG id, 403 for MutualAuth without a client certificate, and serves GETs over ServerAuth', async () => {
    fx = await startServerFixture();
    const wrongId = await request(`${fx.cmgServerAuth.replace(/\/\d+$/, '/999')}/SMS_MP/.sms_aut?MPLIST`, { dispatcher: fx.cmgDispatcher });
    expect(wrongId.statusCode).toBe(404);
    await wrongId.body.dump();
    const mutual = await request(`${fx.cmgMutualAuth}/SMS_MP/.sms_aut?MPLIST`, { dispatcher: fx.cmgDispatcher });
    expect(mutual.statusCode).toBe(403);
    expect(mutual.headers['x-ccmsim-error']).toBe('CCMSIM_CLIENT_CERT_REQUIRED');
    await mutual.body.dump();
    const lower = fx.cmgServerAuth.replace('CCM_Proxy_ServerAuth', 'ccm_proxy_serverauth');
    const list = await request(`${lower}/SMS_MP/.sms_aut?MPLIST`, { dispatcher: fx.cmgDispatcher });
    expect(list.statusCode).toBe(200);
    expect(await list.body.text()).toContain('SiteCode="ABC"');
    const cab = await request(`${fx.cmgServerAuth}/CCM_Client/ccmsetup.cab`, { dispatcher: fx.cmgDispatcher });
    expect(cab.statusCode).toBe(200);
    await cab.body.dump();
    expect(fx.log('CMGService')).toContain('Rejected request /CCM_PROXY_SERVERAUTH/999/SMS_MP/.SMS_AUT: no management point is published with id 999.');
    // What the connection point forwarded reaches the MP's IIS log (on its port 80), what the CMG refused does not.
    const iis = readFileSync(fx.servers.logs.pathOf('CcmIsapi').replace(/SMS_CCM[\\/]Logs[\\/]CcmIsapi\.log$/, 'inetpub/logs/LogFiles/W3SVC1/u_ex260301.log'), 'utf8');
    const lines = iis.split('\r\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(lines.map((l) => l.split(' ').slice(3, 7).join(' '))).toEqual(['GET /SMS_MP/.sms_aut MPLIST 80', 'GET /CCM_Client/ccmsetup.cab - 80']);
  });

  it('logs s-port as the port the client addressed, 80 when its Host header names none', async () => {
    fx = await startServerFixture();
    const res = await request(`${fx.servers.mpUrl}/SMS_MP/.sms_aut?MPLIST`, { headers: { host: 'MP01.CONTOSO.COM' } });
    await res.body.dump();
    const iis = readFileSync(fx.servers.logs.pathOf('CcmIsapi').replace(/SMS_CCM[\\/]Logs[\\/]CcmIsapi\.log$/, 'inetpub/logs/LogFiles/W3SVC1/u_ex260301.log'), 'utf8');
    expect(iis).toMatch(/ GET \/SMS_MP\/\.sms_aut MPLIST 80 - 127\.0\.0\.1 /);
  });

  it('keeps tokens out of the IIS log: in the query, the path and the user agent, and the parts of a presented one', async () => {
    fx = await startServerFixture();
    const { token } = await createBulkToken(fx.site);
    const [, , signature] = token.split('.');
    for (const [path, headers] of [
      [`/SMS_MP/.sms_aut?MPLIST&t=${token}`, {}],
      [`/${token}`, { 'user-agent': token }],
      [`/SMS_MP/${signature}`, { authorization: `Bearer ${token}` }],
    ] as const) {
      const res = await request(`${fx.servers.mpUrl}${path}`, { headers });
      await res.body.dump();
    }
    const cmg = await request(`${fx.cmgServerAuth}/SMS_MP/.sms_aut?MPLIST&t=${token}`, { dispatcher: fx.cmgDispatcher });
    await cmg.body.dump();
    const iis = readFileSync(fx.servers.logs.pathOf('CcmIsapi').replace(/SMS_CCM[\\/]Logs[\\/]CcmIsapi\.log$/, 'inetpub/logs/LogFiles/W3SVC1/u_ex260301.log'), 'utf8');
    expect(iis.split('\r\n').filter((l) => l !== '' && !l.startsWith('#'))).toHaveLength(4);
    for (const part of token.split('.')) expect(iis).not.toContain(part);
  });

  it('refuses a request target with a control character (400) and logs it in the IIS log as %XX, not raw', async () => {
    fx = await startServerFixture();
    const answer = await new Promise<string>((resolve) => {
      let out = '';
      const socket = connect(fx!.servers.mpPort, '127.0.0.1', () => socket.write('GET /SMS_MP/\x00 HTTP/1.1\r\nHost: x\r\n\r\n'));
      socket.on('data', (d) => (out += d.toString('latin1')));
      socket.on('close', () => resolve(out));
      socket.setTimeout(2000, () => socket.destroy());
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).not.toContain('\x00');
    const iis = readFileSync(fx.servers.logs.pathOf('CcmIsapi').replace(/SMS_CCM[\\/]Logs[\\/]CcmIsapi\.log$/, 'inetpub/logs/LogFiles/W3SVC1/u_ex260301.log'), 'utf8');
    expect(iis).not.toContain('\x00');
    expect(iis).toMatch(/ GET \/SMS_MP\/%00 - 80 - 127\.0\.0\.1 - - 400 /);
  });

  it('presents a certificate chained to the site root for the CMG host name (a client trusting nothing else fails)', async () => {
    fx = await startServerFixture();
    const { Agent } = await import('undici');
    const untrusting = new Agent({ connect: { servername: fx.site.config().cmgHost, host: '127.0.0.1' } as never });
    try {
      await expect(request(`https://127.0.0.1:${fx.servers.cmgPort}/CCM_Proxy_ServerAuth/1/x`, { dispatcher: untrusting })).rejects.toThrow();
    } finally {
      await untrusting.close();
    }
    const ok = await request(`${fx.cmgServerAuth}/SMS_MP/.sms_aut?MPLIST`, { dispatcher: fx.cmgDispatcher });
    expect(ok.statusCode).toBe(200);
    await ok.body.dump();
  });
});

