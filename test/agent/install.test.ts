// Integration: the agent installs against the embedded site on loopback (real HTTP and HTTPS, the committed test keys,
// a virtual clock). Each test reads like a tester's session: a command line, its return code, and the log lines.
import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createBulkToken, blockBulkToken, unblockBulkToken } from '../../src/site/bulk-tokens.js';
import { listClients } from '../../src/site/registrations.js';
import { parseSmsCfg } from '../../src/agent/smscfg.js';
import { acquireMachineLock } from '../../src/agent/machine-lock.js';
import { machinePaths } from '../../src/agent/machine-dir.js';
import { allFiles, CMG, inOrder, messages, MS_LINE, readLog, startWorld, type TestWorld } from './harness.js';

/** The literal token in Microsoft's example (deploy-clients-cmg-token); deliberately corrupted by the docs. */
const MICROSOFT_EXAMPLE_TOKEN =
  'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsIng1dCI6Ik9Tbzh2Tmd5VldRUjlDYVh5T2lacHFlMDlXNCJ9.eyJTQ0NNVG9rZW5DYXRlZ29yeSI6IlN7Q01QcmVBdXRoVG9rZW4iLCJBdXRob3JpdHkiOiJTQ0NNIiwiTGljZW5zZSI6IlNDQ00iLCJUeXBlIjoiQnVsa1JlZ2lzdHJhdGlvbiIsIlRlbmFudElkIjoiQ0RDQzVFOTEtMEFERi00QTI0LTgyRDAtMTk2NjY3RjFDMDgxIiwiVW5pcXVlSWQiOiJkYjU5MWUzMy1wNmZkLTRjNWItODJmMy1iZjY3M2U1YmQwYTIiLCJpc3MiOiJ1cm46c2NjbTpvYXV0aDI6Y2RjYzVlOTEtMGFkZi00YTI0LTgyZDAtMTk2NjY3ZjFjMDgxIiwiYXVkIjoidXJuOnNjY206c2VydmljZSIsImV4cCI6MTU4MDQxNbUwNSwibmJmIjoxNTgwMTU2MzA1fQ.ZUJkxCX6lxHUZhMH_WhYXFm_tbXenEdpgnbIqI1h8hYIJw7xDk3wv625SCfNfsqxhAwRwJByfkXdVGgIpAcFshzArXUVPPvmiUGaxlbB83etUTQjrLIk-gvQQZiE5NSgJ63LCp5KtqFCZe8vlZxnOloErFIrebjFikxqAgwOO4i5ukJdl3KQ07YPRhwpuXmwxRf1vsiawXBvTMhy40SOeZ3mAyCRypQpQNa7NM3adCBwUtYKwHqiX3r1jQU0y57LvU_brBfLUL6JUpk3ri-LSpwPFarRXzZPJUu4-mQFIgrMmKCYbFk3AaEvvrJienfWSvFYLpIYA7lg-6EVYRcCAA';

let w: TestWorld;
beforeAll(async () => {
  w = await startWorld();
});
afterAll(async () => {
  await w.close();
});

describe("bulk registration with Microsoft's documented command line", () => {
  it('exits 0, leaves the three logs and SMSCFG.ini, and the site lists the client under the token GUID', async () => {
    const site = w.conn.site!;
    const bulk = await createBulkToken(site);
    const out = await w.install(`${MS_LINE}${bulk.token}`, { name: 'LAPTOP-BULK01' });
    expect(out.error).toBeUndefined();
    expect(out).toMatchObject({ exitCode: 0, result: 'installed', network: 'internet', via: 'cmg', registration: 'registered', registeredVia: 'bulk', assignedSiteCode: 'ABC' });
    const p = machinePaths(out.machineDir);
    for (const f of [p.ccmsetupLog, p.clientIdLog, p.clientLocationLog, p.smscfg]) expect(existsSync(f)).toBe(true);

    const cfg = parseSmsCfg(readFileSync(p.smscfg, 'utf8'));
    expect(cfg['SMS Unique Identifier']).toBe(out.smsId);
    expect(cfg['SMS Unique Identifier']).toMatch(/^GUID:[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
    expect(cfg['SMS Certificate Identifier']).toMatch(/^SMS;[0-9A-F]{40}$/);

    const client = listClients(site).find((c) => c.smsId === out.smsId);
    expect(client).toMatchObject({ method: 'bulk', bulkTokenGuid: bulk.guid, netbiosName: 'LAPTOP-BULK01' });

    inOrder(messages(p.ccmsetupLog), [
      /^==========\[ ccmsetup started in process \d+ \]==========$/,
      /^Ccmsetup command line: ccmsetup\.exe +\/mp:https:\/\/CONTOSO\.CLOUDAPP\.NET\/CCM_Proxy_MutualAuth\/72186325152220500 .*\/regtoken:/,
      'SslState value: 224',
      'No version of the client is currently detected.',
      /^MSI properties: {4}CCMFIRSTCERT="1" .*CCMHOSTNAME="CONTOSO\.CLOUDAPP\.NET\/CCM_Proxy_MutualAuth\/72186325152220500".*SMSSITECODE="ABC"/,
      'CCMSETUP bootstrap from Internet: 1',
      /^ccmsetup: Host=CONTOSO\.CLOUDAPP\.NET, Path=\/CCM_Proxy_ServerAuth\/72186325152220500\/SMS_MP\/\.sms_aut\?MPLIST, Port=443, Protocol=https, CcmTokenAuth=1/,
      `Found a valid online MP 'https://${CMG}'`,
      `Checking the URL 'https://${CMG}/CCM_Client/ccmsetup.cab'`,
      'is Microsoft trusted.',
      'Installation succeeded.',
      'CcmSetup is exiting with return code 0',
    ]);
    const ccm = messages(p.ccmsetupLog);
    expect(ccm.at(-1)).toBe('CcmSetup is exiting with return code 0');

    const cidm = messages(p.clientIdLog);
    inOrder(cidm, [
      '[----- STARTUP -----]',
      'Machine: LAPTOP-BULK01',
      `Generated new SMS Unique Identifier ${out.smsId}`,
      /^Computed HardwareID=2:[0-9A-F]{40}\r\n\tWin32_SystemEnclosure\.SerialNumber=.*\r\n\tWin32_SystemEnclosure\.SMBIOSAssetTag=.*\r\n\tWin32_BaseBoard\.SerialNumber=.*\r\n\tWin32_BIOS\.SerialNumber=.*\r\n\tWin32_NetworkAdapterConfiguration\.MACAddress=/,
      "Created self-signed certificate 'SMS Signing Certificate'",
      "Created self-signed certificate 'SMS Encryption Certificate'",
      `[RegTask] - Client is not registered. Sending registration request for ${out.smsId} ...`,
      `[RegTask] - Client registration is pending. Server assigned ClientID is ${out.smsId}`,
      new RegExp(`^\\[RegTask\\] - Client is registered\\. Server assigned ClientID is ${out.smsId}\\. Approval status \\d$`),
      `Getting CCM Token from STS server '${CMG}'`,
      /^Cached encrypted token for 'S-1-5-18'\. Will expire at '\d\d\/\d\d\/\d{4} \d\d:\d\d:\d\d'$/,
    ]);
    expect(readLog(p.clientIdLog).every((r) => r.component === 'ClientIDManagerStartup')).toBe(true);
    expect(messages(p.clientLocationLog)).toContain(
      `Rotating internet management point, new management point [1] is: https://${CMG} (0) with capabilities: <Capabilities SchemaVersion ="1.0"><Property Name="SSL" Version="1" /></Capabilities>`,
    );

    // Keys and the token are owner-only; the token carries its expiry.
    const keyFiles = allFiles(p.certStore).filter((f) => f.endsWith('.key'));
    expect(keyFiles).toHaveLength(2);
    for (const f of keyFiles) expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(statSync(p.clientToken).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(p.clientToken, 'utf8')).expiresAt).toBe(out.clientTokenExpiresAt);
  });

  it('without /mp (only CCMHOSTNAME, SMSSITECODE and /regtoken) works too', async () => {
    const bulk = await createBulkToken(w.conn.site!);
    const out = await w.install(`CCMHOSTNAME=${CMG} SMSSITECODE=ABC /regtoken:${bulk.token}`);
    expect(out).toMatchObject({ exitCode: 0, via: 'cmg', registeredVia: 'bulk', registration: 'registered' });
  });
});

describe('refusals', () => {
  it('a blocked token: non-zero, both sides say why; unblocked, the same command works', async () => {
    const site = w.conn.site!;
    const bulk = await createBulkToken(site);
    blockBulkToken(site, bulk.guid);
    const refused = await w.install(`${MS_LINE}${bulk.token}`, { name: 'PC-BLOCKED' });
    expect(refused.exitCode).toBe(6);
    expect(refused.error).toMatchObject({ code: 'CCMSIM_TOKEN_BLOCKED', hresult: '0x87d0027e', httpStatus: 401 });
    const p = machinePaths(refused.machineDir);
    inOrder(messages(p.clientIdLog), ['RegTask: Failed to send registration request message. Error: 0x87d0027e', /Registration was refused by the site: .*\(CCMSIM_TOKEN_BLOCKED\)/]);
    inOrder(messages(p.ccmsetupLog), [/Text=CCM_E_BAD_HTTP_STATUS_CODE/, 'CcmSetup failed with error code 0x87d0027e', 'CcmSetup is exiting with return code 6']);
    const siteLogs = allFiles(site.paths.root).filter((f) => /\.log$/.test(f)).map((f) => readFileSync(f, 'utf8')).join('\n');
    expect(siteLogs).toMatch(new RegExp(`${bulk.guid}.*CCMSIM_TOKEN_BLOCKED|CCMSIM_TOKEN_BLOCKED.*${bulk.guid}`));

    unblockBulkToken(site, bulk.guid);
    const ok = await w.install(`${MS_LINE}${bulk.token}`, { name: 'PC-BLOCKED' });
    expect(ok).toMatchObject({ exitCode: 0, registration: 'registered' });
  });

  it("Microsoft's literal example token is refused with a clear message and no crash", async () => {
    const out = await w.install(`${MS_LINE}${MICROSOFT_EXAMPLE_TOKEN}`);
    expect(out.exitCode).toBe(6);
    expect(out.error?.code).toBe('CCMSIM_TOKEN_MALFORMED');
    expect(out.error?.message).not.toMatch(/at .*\.ts:\d+/);
    expect(messages(machinePaths(out.machineDir).ccmsetupLog).at(-1)).toBe('CcmSetup is exiting with return code 6');
  });

  it('client settings that do not allow the CMG: refused, ClientLocation.log says so', async () => {
    const site = w.conn.site!;
    const bulk = await createBulkToken(site);
    site.updateConfig({ cmgEnabled: false });
    try {
      const out = await w.install(`${MS_LINE}${bulk.token}`);
      expect(out.exitCode).toBe(6);
      expect(out.error?.code).toBe('CCMSIM_CMG_NOT_ALLOWED');
      expect(messages(machinePaths(out.machineDir).clientLocationLog).join('\n')).toMatch(/do not allow this client to use a cloud management gateway/);
    } finally {
      site.updateConfig({ cmgEnabled: true });
    }
  });

  it('an internet client with no token and no earlier registration retries every /retry minutes until /downloadtimeout', async () => {
    const before = w.clock.now();
    const out = await w.install(`CCMHOSTNAME=${CMG} SMSSITECODE=ABC /retry:5 /downloadtimeout:30`);
    expect(out.exitCode).toBe(6);
    expect(out.error?.hresult).toBe('0x87d00455');
    const lines = messages(machinePaths(out.machineDir).ccmsetupLog);
    expect(lines.filter((l) => l === 'Next retry in 5 minute(s)...').length).toBeGreaterThanOrEqual(5);
    expect(w.clock.now() - before).toBeGreaterThanOrEqual(25 * 60_000);
    inOrder(lines, [/Failed to reach the site within \/downloadtimeout \(30 minute\(s\)\)\. Error 0x87d00455/, 'CcmSetup failed with error code 0x87d00455', 'CcmSetup is exiting with return code 6']);
  });
});

describe('the internal network', () => {
  it('registers with the MP and gets its own token without any bulk token', async () => {
    const out = await w.install('/mp:MP01.CONTOSO.COM SMSSITECODE=ABC', { name: 'WKS-NYC-0001' });
    expect(out).toMatchObject({ exitCode: 0, network: 'intranet', via: 'mp', registeredVia: 'intranet', registration: 'registered' });
    expect(out.clientTokenExpiresAt).toBeDefined();
    const p = machinePaths(out.machineDir);
    inOrder(messages(p.ccmsetupLog), ['Only one MP MP01.CONTOSO.COM is specified. Use it.', 'CCMSETUP bootstrap from Internet: 0', "Retrived site version '5.00.9128.1000' from MP 'MP01.CONTOSO.COM'."]);
    inOrder(messages(p.clientIdLog), ["Getting CCM Token from STS server 'MP01.CONTOSO.COM'", 'Getting CCM Token from http://MP01.CONTOSO.COM/CCM_STS', /^Cached encrypted token/]);
    expect(messages(p.clientLocationLog).join('\n')).toMatch(/Rotating assigned management point, new management point \[1\] is: MP01\.CONTOSO\.COM/);
  });

  it('accepts /mp:http://<MP>, and --network intranet sends even a CMG command line to the MP', async () => {
    const http = await w.install('/mp:http://MP01.CONTOSO.COM SMSSITECODE=ABC');
    expect(http).toMatchObject({ exitCode: 0, via: 'mp', registeredVia: 'intranet' });
    const forced = await w.install(`CCMHOSTNAME=${CMG} SMSSITECODE=ABC`, { network: 'intranet' });
    expect(forced).toMatchObject({ exitCode: 0, network: 'intranet', via: 'mp', registeredVia: 'intranet' });
  });

  it('a wrong site code installs (exit 0), stays unassigned and retries every 10 minutes', async () => {
    const out = await w.install('/mp:MP01.CONTOSO.COM SMSSITECODE=XYZ');
    expect(out).toMatchObject({ exitCode: 0, result: 'unassigned', assignedSiteCode: undefined, requestedSiteCode: 'XYZ', registration: 'none' });
    const p = machinePaths(out.machineDir);
    inOrder(messages(p.clientLocationLog), [
      "Assigning client to site 'XYZ'",
      /Failed to verify site code 'XYZ'.*Site assignment failed\. Error 0x80004005/,
      'The client is not assigned to a site. It retries every 10 minutes until it assigns to a site.',
    ]);
    expect(messages(p.ccmsetupLog).at(-1)).toBe('CcmSetup is exiting with return code 0');
  });
});

describe('return codes and existing clients', () => {
  it('7: a pending restart without /forcereboot; with /forcereboot the install goes on', async () => {
    const out = await w.install('/mp:MP01.CONTOSO.COM SMSSITECODE=ABC', { simulate: 'pending-reboot' });
    expect(out.exitCode).toBe(7);
    expect(messages(out.logs.ccmsetup).at(-1)).toBe('CcmSetup is exiting with return code 7');
    const forced = await w.install('/mp:MP01.CONTOSO.COM SMSSITECODE=ABC /forcereboot', { simulate: 'pending-reboot' });
    expect(forced.exitCode).toBe(0);
  });

  it('8: another ccmsetup holds the machine', async () => {
    const dir = join(w.dir, 'PC-LOCKED');
    const lock = await acquireMachineLock(machinePaths(dir).lockFile);
    try {
      const out = await w.install('/mp:MP01.CONTOSO.COM SMSSITECODE=ABC', { name: 'PC-LOCKED' });
      expect(out.exitCode).toBe(8);
      expect(messages(out.logs.ccmsetup).join('\n')).toMatch(/Another instance of ccmsetup \(process \d+\) is already running/);
    } finally {
      await lock.release();
    }
  });

  it('9: prerequisite evaluation fails', async () => {
    const out = await w.install('/mp:MP01.CONTOSO.COM SMSSITECODE=ABC', { simulate: 'prereq-failure' });
    expect(out.exitCode).toBe(9);
    expect(messages(out.logs.ccmsetup).at(-1)).toBe('CcmSetup is exiting with return code 9');
  });

  it("10: the site's manifest does not match the downloaded files", async () => {
    const site = w.conn.site!;
    site.updateConfig({ corruptManifest: true });
    try {
      const out = await w.install('/mp:MP01.CONTOSO.COM SMSSITECODE=ABC');
      expect(out.exitCode).toBe(10);
      expect(messages(out.logs.ccmsetup).join('\n')).toMatch(/Setup manifest hash validation failed\. Error 0x80096010/);
    } finally {
      site.updateConfig({ corruptManifest: false });
    }
  });

  it('a second run finds the client; /logon stops, /forceinstall reinstalls, /uninstall removes it', async () => {
    const name = 'PC-REPEAT';
    const first = await w.install('/mp:MP01.CONTOSO.COM SMSSITECODE=ABC', { name });
    expect(first.exitCode).toBe(0);

    const again = await w.install('/mp:MP01.CONTOSO.COM SMSSITECODE=ABC', { name });
    expect(again).toMatchObject({ exitCode: 0, smsId: first.smsId });
    expect(messages(again.logs.ccmsetup).join('\n')).toMatch(/Detected client version 5\.00\.9128\.1000 installed/);
    expect(messages(first.logs.clientIdManagerStartup!).filter((l) => l === '[RegTask] - Client is already registered. Exiting.')).toHaveLength(1);

    const logon = await w.install('/mp:MP01.CONTOSO.COM SMSSITECODE=ABC /logon', { name });
    expect(logon).toMatchObject({ exitCode: 0, result: 'client-exists' });
    expect(messages(logon.logs.ccmsetup).join('\n')).toMatch(/\/logon was specified\. Stop proceeding\./);

    const forced = await w.install('/mp:MP01.CONTOSO.COM SMSSITECODE=ABC /forceinstall', { name });
    expect(forced).toMatchObject({ exitCode: 0, result: 'installed', smsId: first.smsId });
    inOrder(messages(forced.logs.ccmsetup), ['/forceinstall was specified', 'Uninstalling the existing client.', 'was uninstalled successfully', 'Installation succeeded.']);

    const removed = await w.install('/uninstall', { name });
    expect(removed).toMatchObject({ exitCode: 0, result: 'uninstalled' });
    const p = machinePaths(removed.machineDir);
    expect(existsSync(p.clientState)).toBe(false);
    expect(existsSync(p.certStore)).toBe(false);
    expect(existsSync(p.smscfg)).toBe(true);
    const nothing = await w.install('/uninstall', { name });
    expect(nothing).toMatchObject({ exitCode: 0, result: 'nothing-to-uninstall' });
  });
});

describe('what is written', () => {
  it('every log under the test world parses with zero malformed records', () => {
    // CM-format logs only (the site also writes IIS W3C logs under inetpub/).
    const logs = allFiles(w.dir).filter((f) => /\.(log|lo_)$/.test(f) && !/inetpub/.test(f));
    expect(logs.length).toBeGreaterThan(10);
    for (const f of logs) expect(() => readLog(f)).not.toThrow();
  });
});
