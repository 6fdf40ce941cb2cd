// The site unreachable and a TLS failure: both are transient for ccmsetup, so it retries every /retry minutes until
// /downloadtimeout (on the virtual clock), then exits 6 with WinHTTP's HRESULT in ccmsetup.log.
import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { Random } from '../../src/clock/random.js';
import { fixedKeys } from '../../src/crypto/key-provider.js';
import { createSiteTransport } from '../../src/agent/site-transport.js';
import { createCcmSiteClient, refusalError } from '../../src/agent/ccm-site-client.js';
import { runCcmsetup } from '../../src/agent/ccmsetup-flow.js';
import { parseCcmsetupCommandLine } from '../../src/agent/command-line.js';
import { runOnClock } from '../../src/agent/run-on-clock.js';
import { RETURN_CODE } from '../../src/agent/outcome.js';
import { CCMSETUP_EXIT } from '../../src/cli/exit-codes.js';
import { testKeyPair } from '../helpers/test-keys.js';
import { activeCertificate } from '../../src/site/site-pki.js';
import { CMG, inOrder, messages, startWorld, type TestWorld } from './harness.js';

let w: TestWorld;
beforeAll(async () => {
  w = await startWorld();
});
afterAll(async () => {
  await w.close();
});

type SiteClient = ReturnType<typeof createCcmSiteClient>;

/** Installs `name` with `line` through `endpoints`; `wrapSite` may stand between the agent and the site. */
async function installWith(endpoints: Parameters<typeof createSiteTransport>[0], line: string, name: string, wrapSite: (s: SiteClient) => SiteClient = (s) => s) {
  const transport = createSiteTransport(endpoints);
  try {
    return await runOnClock(w.clock, () =>
      runCcmsetup({
        commandLine: parseCcmsetupCommandLine(line),
        machineDir: join(w.dir, name),
        computerName: name,
        timeZone: 'UTC',
        clock: w.clock,
        random: new Random(name),
        keys: fixedKeys([testKeyPair(12), testKeyPair(13)]),
        site: wrapSite(createCcmSiteClient(transport, w.clock)),
        siteNames: w.conn.siteNames,
      }),
    );
  } finally {
    await transport.close();
  }
}

describe('network failures', () => {
  it('site unreachable: retries, then return code 6 with 0x80072efd', async () => {
    const endpoints = { ...w.conn.endpoints, hostMap: { 'MP01.CONTOSO.COM': { address: '127.0.0.1', port: 1 } } };
    const before = w.clock.now();
    const out = await installWith(endpoints, '/mp:MP01.CONTOSO.COM SMSSITECODE=ABC /retry:10 /downloadtimeout:60', 'PC-UNREACH');
    expect(out.exitCode).toBe(6);
    expect(out.error).toMatchObject({ code: 'CCMSIM_SITE_UNREACHABLE', hresult: '0x80072efd' });
    expect(w.clock.now() - before).toBeGreaterThanOrEqual(50 * 60_000);
    const lines = messages(out.logs.ccmsetup);
    expect(lines.filter((l) => l === 'Next retry in 10 minute(s)...').length).toBe(5);
    inOrder(lines, [/^GET http:\/\/MP01\.CONTOSO\.COM\/SMS_MP\/\.sms_aut\?MPLIST failed with 0x80072efd\.$/, 'CcmSetup failed with error code 0x80072efd', 'CcmSetup is exiting with return code 6']);
  });

  it('an /mp list: an unreachable first MP hands over to the next at once, which serves the whole install', async () => {
    const endpoints = { ...w.conn.endpoints, hostMap: { ...w.conn.endpoints.hostMap, 'MP00.CONTOSO.COM': { address: '127.0.0.1', port: 1 } } };
    const before = w.clock.now();
    const out = await installWith(endpoints, '/mp:MP00.CONTOSO.COM;MP01.CONTOSO.COM SMSSITECODE=ABC /retry:10 /downloadtimeout:60', 'PC-MPLIST');
    expect(out.exitCode).toBe(0);
    // No wait: the next MP is tried at once ("If the computer fails to connect to the first one, it tries the next").
    expect(w.clock.now() - before).toBeLessThan(10 * 60_000);
    const lines = messages(out.logs.ccmsetup);
    expect(lines).not.toContain('Next retry in 10 minute(s)...');
    inOrder(lines, [
      /^GET http:\/\/MP00\.CONTOSO\.COM\/SMS_MP\/\.sms_aut\?MPLIST failed with 0x80072efd\.$/,
      'Failed to reach MP MP00.CONTOSO.COM. Trying the next MP in the list: MP01.CONTOSO.COM.',
      /Retrived site version '.*' from MP 'MP01\.CONTOSO\.COM'\./,
      'CcmSetup is exiting with return code 0',
    ]);
    // After the hand-over, MP00 is never asked again.
    expect(lines.slice(lines.indexOf('Failed to reach MP MP00.CONTOSO.COM. Trying the next MP in the list: MP01.CONTOSO.COM.') + 1).some((l) => l.includes('MP00'))).toBe(false);
  });

  it('an /mp list where every MP is unreachable: each round tries them all, then waits /retry minutes', async () => {
    const dead = { address: '127.0.0.1', port: 1 };
    const endpoints = { ...w.conn.endpoints, hostMap: { 'MP00.CONTOSO.COM': dead, 'MP01.CONTOSO.COM': dead } };
    const out = await installWith(endpoints, '/mp:MP00.CONTOSO.COM;MP01.CONTOSO.COM SMSSITECODE=ABC /retry:10 /downloadtimeout:30', 'PC-MPLIST-DEAD');
    expect(out.exitCode).toBe(6);
    const lines = messages(out.logs.ccmsetup);
    const rounds = lines.filter((l) => l === 'Failed to reach MP MP00.CONTOSO.COM. Trying the next MP in the list: MP01.CONTOSO.COM.').length;
    expect(rounds).toBe(lines.filter((l) => l === 'Next retry in 10 minute(s)...').length + 1);
    expect(rounds).toBeGreaterThanOrEqual(3);
  });

  it('TLS failure (the CMG certificate does not chain to the trusted root): return code 6 with 0x80072f8f', async () => {
    // Trust some other certificate than the site root: the agent must refuse the CMG's certificate.
    const otherRoot = activeCertificate(w.conn.site!.db, 'cmg-server').pem;
    const endpoints = { ...w.conn.endpoints, trustedRootPem: otherRoot };
    const out = await installWith(endpoints, `CCMHOSTNAME=${CMG} SMSSITECODE=ABC /regtoken:aaa.bbb.ccc /retry:10 /downloadtimeout:20`, 'PC-TLS');
    expect(out.exitCode).toBe(6);
    expect(out.error).toMatchObject({ code: 'CCMSIM_TLS_FAILURE', hresult: '0x80072f8f' });
  });
});

describe('refusalError', () => {
  it("takes a token service refusal's reason out of its XML (stderr showed the whole <CcmTokenResponse>)", () => {
    const body = Buffer.from('<CcmTokenResponse SchemaVersion="1.0" Status="1" ErrorCode="CCMSIM_SITE_STATE"><Error>cannot read the key &lt;pki/a.key&gt; &amp; more</Error></CcmTokenResponse>');
    const err = refusalError({ status: 500, headers: { 'x-ccmsim-error': 'CCMSIM_SITE_STATE' }, body }, 'http://MP01.CONTOSO.COM/CCM_STS', {});
    expect(err).toMatchObject({ code: 'CCMSIM_SITE_STATE', httpStatus: 500, message: 'cannot read the key <pki/a.key> & more' });
    const plain = refusalError({ status: 503, headers: {}, body: Buffer.from('Service Unavailable\r\nmore') }, 'http://MP01.CONTOSO.COM/x', {});
    expect(plain.message).toBe('http://MP01.CONTOSO.COM/x answered HTTP 503: Service Unavailable');
  });
});

describe('a failed download', () => {
  it('is logged as BITS logs it, retried, and a download that keeps failing ends with BITS\' HRESULT', async () => {
    let failures = 0;
    // The first `times` downloads answer 503, as a busy MP or CMG would.
    const failing =
      (times: number) =>
      (site: SiteClient): SiteClient => ({
        ...site,
        download: (route, auth, url) => {
          if (failures++ < times) return Promise.reject(refusalError({ status: 503, headers: {}, body: Buffer.alloc(0) }, url, auth));
          return site.download(route, auth, url);
        },
      });
    const run = (name: string, times: number, extra: string) =>
      installWith(w.conn.endpoints, `/mp:MP01.CONTOSO.COM SMSSITECODE=ABC /retry:10 ${extra}`, name, failing(times));
    const once = await run('PC-BITS-ONCE', 1, '');
    expect(once.exitCode).toBe(0);
    const lines = messages(once.logs.ccmsetup);
    const bits = lines.filter((l) => l.startsWith('Failed to download files through BITS.'));
    expect(bits).toEqual([
      'Failed to download files through BITS. Error: 0x801901f7, Description HTTP status 503: The service is temporarily overloaded.\r\n, Context: The error occurred while the remote file was being processed.\r\n.',
    ]);
    expect(lines.some((l) => l.startsWith('Post to ') && /client\.msi|ccmsetup\.cab/i.test(l))).toBe(false);
    inOrder(lines, [/^Failed to download files through BITS\./, 'Next retry in 10 minute(s)...', 'Download complete.']);

    failures = 0;
    const always = await run('PC-BITS-ALWAYS', 1_000, '/downloadtimeout:30');
    expect(always.exitCode).toBe(6);
    expect(always.error).toMatchObject({ httpStatus: 503, hresult: '0x801901f7' });
    inOrder(messages(always.logs.ccmsetup), ['CcmSetup failed with error code 0x801901f7', 'CcmSetup is exiting with return code 6']);
  });
});

describe('return codes', () => {
  it("the agent's return codes are the CLI's table (src/cli/exit-codes.ts)", () => {
    expect(RETURN_CODE).toEqual(CCMSETUP_EXIT);
  });
});
