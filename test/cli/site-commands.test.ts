import { describe, it, expect, afterEach, beforeEach } from 'vitest';
import { main } from '../../src/cli/ccmsim-main.js';
import { main as bulkTool } from '../../src/cli/bulkregtoken-sim-main.js';
import { captureIo } from '../../src/cli/io.js';
import { siteCliOverrides } from '../../src/cli/commands/site-common.js';
import { VirtualClock } from '../../src/clock/clock.js';
import { Random } from '../../src/clock/random.js';
import { openSite } from '../../src/site/site.js';
import { validateBulkToken } from '../../src/site/bulk-tokens.js';
import { registerClient } from '../../src/site/registrations.js';
import { issueClientToken } from '../../src/site/client-tokens.js';
import { clientCertDer, tempDir, testKeys } from '../site-state/site-fixture.js';

const START = Date.parse('2026-03-01T09:00:00Z');
let dir = '';
let clock: VirtualClock;
const cleanups: Array<() => void> = [];

beforeEach(() => {
  const t = tempDir('sitecli');
  cleanups.push(t.cleanup);
  dir = t.dir;
  clock = new VirtualClock(START);
  siteCliOverrides.keys = testKeys(0);
  siteCliOverrides.clock = clock;
  siteCliOverrides.random = new Random('sitecli');
});
afterEach(() => {
  delete siteCliOverrides.keys;
  delete siteCliOverrides.clock;
  delete siteCliOverrides.random;
  for (const c of cleanups.splice(0)) c();
});

async function ccmsim(...argv: string[]) {
  const io = captureIo({ env: { CCMSIM_SITE_DIR: dir } });
  const code = await main(argv, io);
  return { code, out: io.stdoutText, err: io.stderrText };
}

async function newToken(): Promise<{ guid: string; token: string }> {
  const io = captureIo({ env: { CCMSIM_SITE_DIR: dir } });
  expect(await bulkTool(['/new'], io, siteCliOverrides)).toBe(0);
  const lines = io.stdoutText.split('\n');
  return { guid: /Token GUID: (\S+)/.exec(io.stdoutText)![1]!, token: lines[4]! };
}

describe('ccmsim site', () => {
  it('init makes a site with the given names, and refuses to re-init it differently', async () => {
    const r = await ccmsim('site', 'init', '--site-code', 'xyz', '--cmg-host', 'cmg.example.net', '--cmg-id', '123', '--mp-host', 'mp.example.net', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ created: true, siteCode: 'XYZ', cmgHost: 'CMG.EXAMPLE.NET', cmgId: '123', mpHost: 'MP.EXAMPLE.NET' });
    const again = await ccmsim('site', 'init', '--site-code', 'XYZ');
    expect(again.code).toBe(0);
    expect(again.out).toContain('Already initialized');
    const clash = await ccmsim('site', 'init', '--site-code', 'ABC');
    expect(clash.code).toBe(1);
    expect(clash.err).toContain('already exists with site code XYZ');
    const bad = await ccmsim('site', 'init', '--site-dir', `${dir}/other`, '--site-code', 'TOOLONG');
    expect(bad.code).toBe(2);
    expect(bad.err.trimEnd().split('\n')).toHaveLength(1);
  });

  it('config prints the defaults on first use and changes the switches; another open site sees it at once', async () => {
    const first = await ccmsim('site', 'config');
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/Site code\s+: ABC/);
    expect(first.out).toMatch(/Enable clients to use a cloud management gateway\s+: Yes/);
    const running = await openSite({ siteDir: dir, clock, random: new Random('server') });
    try {
      const r = await ccmsim('site', 'config', '--passive', 'true', '--cmg-enabled', 'false', '--intranet-tokens', 'false', '--corrupt-manifest', 'true', '--json');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out)).toMatchObject({ serverMode: 'passive', cmgEnabled: false, intranetTokens: false, corruptManifest: true });
      expect(running.config()).toMatchObject({ serverMode: 'passive', cmgEnabled: false, intranetTokens: false, corruptManifest: true });
      expect((await ccmsim('site', 'config', '--passive', 'false')).out).toMatch(/Site server mode\s+: active/);
      expect(running.config().serverMode).toBe('active');
    } finally {
      running.close();
    }
    const bad = await ccmsim('site', 'config', '--passive', 'maybe');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--passive takes true or false');
  });

  it('tokens list shows certificates and bulk tokens; block and unblock change what a running site accepts', async () => {
    const made = await newToken();
    const running = await openSite({ siteDir: dir, clock, random: new Random('server') });
    try {
      const list = await ccmsim('site', 'tokens', 'list');
      expect(list.code).toBe(0);
      expect(list.out).toMatch(/^Type\s+GUID \/ Thumbprint\s+Created\s+Valid until\s+Status/);
      expect(list.out).toMatch(new RegExp(`Bulk Registration Token\\s+${made.guid}\\s+2026-03-01 09:00:00Z\\s+2026-03-04 09:00:00Z\\s+Active`));
      expect(list.out).toContain('SMS Token Signing');
      expect(list.out).toContain('SMS Issuing');

      const block = await ccmsim('site', 'tokens', 'block', made.guid);
      expect(block.code).toBe(0);
      await expect(validateBulkToken(running, made.token)).rejects.toMatchObject({ code: 'CCMSIM_TOKEN_BLOCKED' });
      const json = JSON.parse((await ccmsim('site', 'tokens', 'list', '--json')).out) as Array<{ id: string; status: string; type: string }>;
      expect(json.find((r) => r.id === made.guid)).toMatchObject({ type: 'Bulk Registration Token', status: 'Blocked' });
      expect(json.filter((r) => r.type !== 'Bulk Registration Token')).toHaveLength(3);

      expect((await ccmsim('site', 'tokens', 'unblock', made.guid)).code).toBe(0);
      expect((await validateBulkToken(running, made.token)).guid).toBe(made.guid);

      await clock.advance(4320 * 60_000 + 1);
      const expired = JSON.parse((await ccmsim('site', 'tokens', 'list', '--json')).out) as Array<{ id: string; status: string }>;
      expect(expired.find((r) => r.id === made.guid)!.status).toBe('Expired');
    } finally {
      running.close();
    }
  });

  it('blocking a GUID never issued exits 3; a malformed GUID exits 2', async () => {
    await ccmsim('site', 'init');
    const unknown = await ccmsim('site', 'tokens', 'block', '0b4a4b1e-1111-4222-8333-944445555666');
    expect(unknown.code).toBe(3);
    expect(unknown.err).toContain('CCMSIM_TOKEN_UNKNOWN');
    expect((await ccmsim('site', 'tokens', 'unblock', 'nope')).code).toBe(2);
  });

  it('clients list shows registered clients and how they registered', async () => {
    const made = await newToken();
    const site = await openSite({ siteDir: dir, clock, random: new Random('server') });
    try {
      registerClient(site, {
        smsId: 'GUID:3F2504E0-4F89-41D3-9A0C-0305E82C3301',
        netbiosName: 'PC001',
        fqName: 'PC001.contoso.com',
        signingCertDer: clientCertDer(10),
        method: 'bulk',
        bulkTokenGuid: made.guid,
      });
    } finally {
      site.close();
    }
    const r = await ccmsim('site', 'clients', 'list');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`GUID:3F2504E0-4F89-41D3-9A0C-0305E82C3301\\s+PC001\\s+bulk token ${made.guid}`));
    const json = JSON.parse((await ccmsim('site', 'clients', 'list', '--json')).out);
    expect(json).toHaveLength(1);
    expect(json[0]).toMatchObject({ netbiosName: 'PC001', approval: 'approved', tokenStatus: 'None' });
  });

  it('clients list tells a token signed by a retired certificate from a valid one', async () => {
    await ccmsim('site', 'init');
    const site = await openSite({ siteDir: dir, clock, random: new Random('server') });
    try {
      registerClient(site, { smsId: 'GUID:3F2504E0-4F89-41D3-9A0C-0305E82C3301', netbiosName: 'PC001', fqName: 'PC001.contoso.com', signingCertDer: clientCertDer(10), method: 'intranet' });
      await issueClientToken(site, 'GUID:3F2504E0-4F89-41D3-9A0C-0305E82C3301', { via: 'mp' });
    } finally {
      site.close();
    }
    const status = async (): Promise<string> => (JSON.parse((await ccmsim('site', 'clients', 'list', '--json')).out) as Array<{ tokenStatus: string }>)[0]!.tokenStatus;
    expect(await status()).toBe('Valid');
    expect((await ccmsim('site', 'rotate-token-signing')).code).toBe(0);
    expect(await status()).toBe('Signer retired');
  });

  it('rotate-token-signing retires the signing certificate', async () => {
    await ccmsim('site', 'init');
    const r = await ccmsim('site', 'rotate-token-signing');
    expect(r.code).toBe(0);
    const retired = /Retired SMS Token Signing certificate ([0-9A-F]{40})/.exec(r.out)![1]!;
    const json = JSON.parse((await ccmsim('site', 'tokens', 'list', '--json')).out) as Array<{ id: string; status: string; type: string }>;
    expect(json.find((c) => c.id === retired)).toMatchObject({ type: 'SMS Token Signing', status: 'Retired' });
    expect(json.filter((c) => c.type === 'SMS Token Signing' && c.status === 'Active')).toHaveLength(1);
  });

  it('a missing subcommand is a usage error', async () => {
    expect((await ccmsim('site')).code).toBe(2);
    expect((await ccmsim('site', 'tokens')).code).toBe(2);
  });
});
