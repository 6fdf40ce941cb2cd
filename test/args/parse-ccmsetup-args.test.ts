// The ccmsetup command-line grammar and every documented rule (cli.md §1–3): what is accepted and normalized,
// what is refused with CCMSIM_BAD_ARGUMENT naming the argument and the rule, and what is only a warning.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCcmsetupArgs, printableCommandLine } from '../../src/args/parse-ccmsetup-args.js';
import { CCMSETUP_PARAMETERS } from '../../src/args/ccmsetup-parameters.js';
import { CLIENT_PROPERTIES } from '../../src/args/client-properties.js';
import { tokenizeWindowsCommandLine } from '../../src/args/windows-command-line.js';
import { isCcmsimError } from '../../src/errors.js';

const CMG = 'CONTOSO.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500';

/** A working directory holding `/config` files whose names have spaces (the parser reads the file). */
const configDir = mkdtempSync(join(tmpdir(), 'ccmsim-args-'));
for (const name of ['configuration file name.txt', 'my file.txt']) writeFileSync(join(configDir, name), '[Client Install]\nInstall=INSTALL=ALL\n');

function refusal(args: string[]): string {
  try {
    parseCcmsetupArgs(args);
  } catch (err) {
    expect(isCcmsimError(err, 'CCMSIM_BAD_ARGUMENT')).toBe(true);
    const message = (err as Error).message;
    expect(message).not.toMatch(/\n/);
    return message;
  }
  throw new Error(`accepted: ${args.join(' ')}`);
}

describe('the tables', () => {
  it('hold the 22 documented parameters and the 44 documented client.msi properties', () => {
    expect(CCMSETUP_PARAMETERS).toHaveLength(22);
    expect(CLIENT_PROPERTIES).toHaveLength(44);
    for (const name of ['?', 'AllowMetered', 'AlwaysExcludeUpgrade', 'BITSPriority', 'config', 'downloadtimeout', 'ExcludeFeatures', 'forceinstall', 'forcereboot', 'logon', 'mp', 'NoCRLCheck', 'noservice', 'regtoken', 'retry', 'service', 'skipprereq', 'source', 'uninstall', 'UsePKICert', 'IgnoreSkipUpgrade', 'UpgradeToLatest']) {
      expect(CCMSETUP_PARAMETERS.map((p) => p.name)).toContain(name);
    }
    for (const spec of [...CCMSETUP_PARAMETERS, ...CLIENT_PROPERTIES]) expect(spec.description.length).toBeGreaterThan(10);
  });
});

describe("Microsoft's token example", () => {
  it('accepts /regtoken after the properties, mixed case, and keeps each value', () => {
    const cl = parseCcmsetupArgs([`/mp:https://${CMG}`, `CCMHOSTNAME=${CMG}`, 'SMSSiteCode=ABC', 'SMSMP=https://mp1.contoso.com', '/RegToken:aaa.bbb.ccc']);
    expect(cl.parameters.mp).toEqual([`https://${CMG}`]);
    expect(cl.parameters.regtoken).toBe('aaa.bbb.ccc');
    expect(cl.properties).toEqual({ CCMHOSTNAME: CMG, SMSSITECODE: 'ABC', SMSMP: 'https://mp1.contoso.com' });
    expect(cl.warnings).toEqual([]);
    expect(cl.maskedCommandLine).toBe(`ccmsetup.exe /mp:https://${CMG} CCMHOSTNAME=${CMG} SMSSiteCode=ABC SMSMP=https://mp1.contoso.com /RegToken:aa…(11 chars)`);
  });
});

describe('parameters', () => {
  it('defaults: retry 10, downloadtimeout 1440, BITSPriority NORMAL, AlwaysExcludeUpgrade FALSE, no flags', () => {
    const p = parseCcmsetupArgs([]).parameters;
    expect(p).toMatchObject({ retry: 10, downloadtimeout: 1440, bitspriority: 'NORMAL', alwaysexcludeupgrade: false, forceinstall: false, usepkicert: false });
    expect(p.mp).toBeUndefined();
    expect(p.regtoken).toBeUndefined();
  });

  it('every flag parameter, any case, sets its boolean; given a value it is refused', () => {
    for (const spec of CCMSETUP_PARAMETERS.filter((s) => s.type === 'flag')) {
      const key = spec.name === '?' ? 'help' : spec.name.toLowerCase();
      const upper = `/${spec.name.toUpperCase()}`;
      expect((parseCcmsetupArgs([upper]).parameters as unknown as Record<string, unknown>)[key], upper).toBe(true);
      expect(refusal([`/${spec.name}:yes`])).toBe(`/${spec.name}:yes: /${spec.name} takes no value`);
    }
  });

  it('every value parameter given no value is refused, naming the syntax', () => {
    for (const spec of CCMSETUP_PARAMETERS.filter((s) => s.type !== 'flag')) {
      expect(refusal([`/${spec.name.toUpperCase()}`])).toMatch(new RegExp(`^/${spec.name.toUpperCase()} needs a value \\(/${spec.name}:`));
    }
  });

  it('/retry and /downloadtimeout: positive whole minutes', () => {
    expect(parseCcmsetupArgs(['/retry:5', '/DownloadTimeout:0120']).parameters).toMatchObject({ retry: 5, downloadtimeout: 120 });
    expect(refusal(['/retry:0'])).toBe('/retry:0: must be a whole number from 1 to 4294967295');
    expect(refusal(['/retry:-3'])).toMatch(/must be a whole number/);
    expect(refusal(['/downloadtimeout:1.5'])).toMatch(/^\/downloadtimeout:1\.5: must be a whole number/);
    expect(refusal(['/downloadtimeout:ten'])).toMatch(/must be a whole number/);
  });

  it('/retry and /downloadtimeout: at most 4294967295 (a 32-bit DWORD), never a rounded huge number', () => {
    expect(parseCcmsetupArgs(['/retry:4294967295', '/downloadtimeout:4294967295']).parameters).toMatchObject({ retry: 4294967295, downloadtimeout: 4294967295 });
    for (const arg of ['/retry:99999999999999999999', '/retry:4294967296', '/downloadtimeout:99999999999999999999']) {
      expect(refusal([arg])).toBe(`${arg}: must be a whole number from 1 to 4294967295`);
    }
    expect(refusal(['CCMLOGMAXSIZE=99999999999999999999'])).toBe('CCMLOGMAXSIZE=99999999999999999999: must be a whole number from 10000 to 4294967295');
  });

  it('/BITSPriority: FOREGROUND, HIGH, NORMAL or LOW, case-insensitive', () => {
    for (const v of ['FOREGROUND', 'high', 'Normal', 'LOW']) expect(parseCcmsetupArgs([`/BITSPriority:${v}`]).parameters.bitspriority).toBe(v.toUpperCase());
    expect(refusal(['/BITSPriority:FAST'])).toBe('/BITSPriority:FAST: must be FOREGROUND, HIGH, NORMAL or LOW');
  });

  it('/ExcludeFeatures: ClientUI only', () => {
    expect(parseCcmsetupArgs(['/excludefeatures:clientui']).parameters.excludefeatures).toEqual(['ClientUI']);
    expect(refusal(['/ExcludeFeatures:Other'])).toBe('/ExcludeFeatures:Other: must be ClientUI');
  });

  it('/AlwaysExcludeUpgrade: TRUE or FALSE', () => {
    expect(parseCcmsetupArgs(['/AlwaysExcludeUpgrade:true']).parameters.alwaysexcludeupgrade).toBe(true);
    expect(parseCcmsetupArgs(['/AlwaysExcludeUpgrade:FALSE']).parameters.alwaysexcludeupgrade).toBe(false);
    expect(refusal(['/AlwaysExcludeUpgrade:maybe'])).toBe('/AlwaysExcludeUpgrade:maybe: must be TRUE or FALSE');
  });

  it('/mp: a ; list, tried in order; repeating adds; a CMG URL must start with https://', () => {
    expect(parseCcmsetupArgs(['/mp:mp1.contoso.com;MP2;', '/MP:https://mp3']).parameters.mp).toEqual(['mp1.contoso.com', 'MP2', 'https://mp3']);
    expect(parseCcmsetupArgs([`/mp:https://${CMG}`]).parameters.mp).toEqual([`https://${CMG}`]);
    expect(refusal([`/mp:${CMG}`])).toBe(`/mp:${CMG}: the CMG address ${CMG} must start with https://`);
    expect(refusal([`/mp:http://${CMG}`])).toMatch(/must start with https:\/\//);
    expect(refusal(['/mp:ftp://mp1'])).toMatch(/only http:\/\/ or https:\/\//);
    expect(refusal(['/mp:;'])).toMatch(/needs at least one value/);
  });

  it('/mp: every entry names a server, and a CMG address carries its numeric id', () => {
    expect(parseCcmsetupArgs(['/mp:http://MP01.CONTOSO.COM:8080;MP02']).parameters.mp).toEqual(['http://MP01.CONTOSO.COM:8080', 'MP02']);
    expect(refusal(['/mp:https://'])).toBe('/mp:https://: https:// names no server');
    expect(refusal(['/mp:http://;MP02'])).toMatch(/http:\/\/ names no server/);
    expect(refusal(['/mp:bad_host!'])).toBe('/mp:bad_host!: bad_host! is not a server name');
    expect(refusal(['/mp:https://CONTOSO.CLOUDAPP.NET/CCM_Proxy_MutualAuth/'])).toMatch(/must be https:\/\/<host>\/CCM_Proxy_MutualAuth\/<id>, the id being digits/);
    expect(refusal(['/mp:https://CONTOSO.CLOUDAPP.NET/CCM_Proxy_MutualAuth/abc'])).toMatch(/the id being digits/);
  });

  it('/skipprereq: a ; list', () => {
    expect(parseCcmsetupArgs(['/skipprereq:silverlight.exe;dotnetfx.exe']).parameters.skipprereq).toEqual(['silverlight.exe', 'dotnetfx.exe']);
  });

  it('/source: repeatable, UNC paths, and the docs\' typo with a space after the colon', () => {
    const cl = parseCcmsetupArgs(['/source:\\\\server\\share', '/Source:', 'D:\\Clients', '/logon']);
    expect(cl.parameters.source).toEqual(['\\\\server\\share', 'D:\\Clients']);
    expect(cl.parameters.logon).toBe(true);
    expect(cl.warnings).toEqual(['a space follows /Source: took "D:\\Clients" as its value']);
    expect(refusal(['/source:', '/logon'])).toBe('/source needs a value (/source:<path>)');
    expect(refusal(['/source:'])).toMatch(/needs a value/);
  });

  it('/config: a file name, quoted when it holds spaces', () => {
    const cl = parseCcmsetupArgs(tokenizeWindowsCommandLine('/config:"configuration file name.txt"'), { cwd: configDir });
    expect(cl.parameters.config).toBe('configuration file name.txt');
    expect(cl.properties['INSTALL']).toBe('ALL');
  });

  it('/regtoken: a value shaped like a JWT, never echoed when refused', () => {
    expect(parseCcmsetupArgs(['/regtoken:eyJh.eyJi.c2ln']).parameters.regtoken).toBe('eyJh.eyJi.c2ln');
    const m = refusal(['/regtoken:hunter2-secret']);
    expect(m).toMatch(/^\/regtoken: must be a bulk registration token .*got 14 characters/);
    expect(m).not.toContain('hunter2');
    expect(refusal(['/regtoken:', '/mp:MP01'])).toMatch(/needs a value/);
  });

  it('an unknown /switch is a warning and is ignored, not passed on', () => {
    const cl = parseCcmsetupArgs(['/mp:MP01', '/frobnicate:1', '/Quiet']);
    expect(cl.unknownParameters).toEqual(['/frobnicate:1', '/Quiet']);
    expect(cl.warnings).toEqual(['unknown parameter /frobnicate ignored', 'unknown parameter /Quiet ignored']);
    expect(cl.properties).toEqual({});
  });

  it('a parameter given twice: the last counts, with a warning', () => {
    const cl = parseCcmsetupArgs(['/retry:5', '/retry:7']);
    expect(cl.parameters.retry).toBe(7);
    expect(cl.warnings).toEqual(['/retry is given more than once; the last one counts']);
  });
});

describe('properties', () => {
  it('SMSSITECODE: three characters A-Z/0-9 or AUTO, case-insensitive, normalized to upper case', () => {
    expect(parseCcmsetupArgs(['SMSSITECODE=abc']).properties['SMSSITECODE']).toBe('ABC');
    expect(parseCcmsetupArgs(['smssitecode=P01']).properties['SMSSITECODE']).toBe('P01');
    expect(parseCcmsetupArgs(['SMSSITECODE=auto']).properties['SMSSITECODE']).toBe('AUTO');
    expect(refusal(['SMSSITECODE=ABCD'])).toBe('SMSSITECODE=ABCD: must be three characters A-Z or 0-9, or AUTO');
    expect(refusal(['SMSSITECODE=A_C'])).toMatch(/three characters/);
    expect(refusal(['SMSSITECODE=sms'])).toBe('SMSSITECODE=sms: SMS is a reserved name, or AUTO');
    expect(refusal(['SMSSITECODE='])).toMatch(/^SMSSITECODE=: /);
  });

  it('CCMHOSTNAME: no scheme; not with SMSSITECODE=AUTO', () => {
    expect(parseCcmsetupArgs([`CCMHOSTNAME=${CMG}`, 'SMSSITECODE=ABC']).properties['CCMHOSTNAME']).toBe(CMG);
    expect(refusal([`CCMHOSTNAME=https://${CMG}`])).toMatch(/^CCMHOSTNAME=https:\/\/.*: must not start with a scheme/);
    expect(refusal(['SMSSITECODE=AUTO', 'CCMHOSTNAME=ibcm.contoso.com'])).toBe('CCMHOSTNAME=ibcm.contoso.com: not allowed with SMSSITECODE=AUTO (give the three-character site code)');
    expect(refusal(['CCMHOSTNAME=ibcm.contoso.com', 'SMSSITECODE=auto'])).toMatch(/not allowed with SMSSITECODE=AUTO/);
  });

  const ranges: Array<[string, string[], string[], string]> = [
    ['CCMLOGLEVEL', ['0', '3'], ['4', '-1', 'x'], 'from 0 to 3'],
    ['CCMLOGMAXSIZE', ['10000', '250000'], ['9999', '0', '4294967296'], 'from 10000 to 4294967295'],
    ['CCMLOGMAXHISTORY', ['0', '5'], ['-1', 'one'], 'from 0 to 4294967295'],
    ['CCMEVALINTERVAL', ['1', '1440'], ['0', '1441'], 'from 1 to 1440'],
    ['CCMEVALHOUR', ['0', '23'], ['24', '-1'], 'from 0 to 23'],
    ['CCMHTTPPORT', ['80', '65535'], ['0', '65536'], 'from 1 to 65535'],
    ['CCMHTTPSPORT', ['443'], ['70000'], 'from 1 to 65535'],
    ['SMSCACHESIZE', ['5120'], ['0', 'big'], 'from 1 to 4294967295'],
  ];
  for (const [name, good, badValues, rule] of ranges) {
    it(`${name}: whole number ${rule}`, () => {
      for (const v of good) expect(parseCcmsetupArgs([`${name.toLowerCase()}=${v}`]).properties[name]).toBe(v);
      for (const v of badValues) expect(refusal([`${name}=${v}`])).toBe(`${name}=${v}: must be a whole number ${rule}`);
    });
  }

  const enums: Array<[string, string, string]> = [
    ['CCMENABLELOGGING', 'false', 'MAYBE'],
    ['CCMDEBUGLOGGING', '1', '2'],
    ['CCMALWAYSINF', '1', 'yes'],
    ['CCMCERTNAMECHECK', '0', '2'],
    ['CCMFIRSTCERT', '1', '2'],
    ['DISABLESITEOPT', 'TRUE', '1'],
    ['DISABLECACHEOPT', 'true', 'Y'],
    ['IGNOREAPPVVERSIONCHECK', 'TRUE', 'ON'],
    ['MANAGEDINSTALLER', '1', 'TRUE'],
    ['NOTIFYONLY', 'TRUE', 'no'],
    ['RESETKEYINFORMATION', 'TRUE', 'X'],
    ['SITEREASSIGN', 'TRUE', '2'],
    ['SMSDIRECTORYLOOKUP', 'nowins', 'DNS'],
  ];
  for (const [name, good, badValue] of enums) {
    it(`${name}: documented values only`, () => {
      expect(parseCcmsetupArgs([`${name}=${good}`]).properties[name]).toBe(good.toUpperCase());
      expect(refusal([`${name}=${badValue}`])).toMatch(new RegExp(`^${name}=${badValue}: must be `));
    });
  }

  it('CCMADMINS, SMSMPLIST: ; lists, kept in order', () => {
    const cl = parseCcmsetupArgs(tokenizeWindowsCommandLine('CCMADMINS="domain\\account1;domain\\group1;" SMSMPLIST=https://a;b;https://c'));
    expect(cl.properties['CCMADMINS']).toBe('domain\\account1;domain\\group1');
    expect(cl.properties['SMSMPLIST']).toBe('https://a;b;https://c');
    expect(refusal(['SMSMPLIST=ftp://a'])).toMatch(/only http:\/\/ or https:\/\//);
    expect(refusal(['SMSMP=ldap://mp1'])).toMatch(/only http:\/\/ or https:\/\//);
  });

  it('SMSCACHEFLAGS: a ; list of the documented flags; PERCENTFREEDISKSPACE not with PERCENTDISKSPACE', () => {
    expect(parseCcmsetupArgs(['SMSCACHEFLAGS=ntfsonly;Compress']).properties['SMSCACHEFLAGS']).toBe('NTFSONLY;COMPRESS');
    expect(refusal(['SMSCACHEFLAGS=NTFSONLY;FAST'])).toBe('SMSCACHEFLAGS=NTFSONLY;FAST: "FAST" is not one of PERCENTDISKSPACE, PERCENTFREEDISKSPACE, MAXDRIVE, MAXDRIVESPACE, NTFSONLY, COMPRESS, FAILIFNOSPACE');
    expect(refusal(['SMSCACHEFLAGS=PERCENTDISKSPACE;PERCENTFREEDISKSPACE'])).toMatch(/cannot be combined/);
  });

  it('SMSCONFIGSOURCE: letters R, P, M, U', () => {
    expect(parseCcmsetupArgs(['SMSCONFIGSOURCE=RPMU']).properties['SMSCONFIGSOURCE']).toBe('RPMU');
    expect(refusal(['SMSCONFIGSOURCE=RPX'])).toMatch(/R, P, M and U/);
  });

  it('AADCLIENTAPPID, AADTENANTID: GUIDs', () => {
    expect(parseCcmsetupArgs(['AADCLIENTAPPID=aa28e7f1-b88a-43cd-a2e3-f88b257c863b']).properties['AADCLIENTAPPID']).toBe('aa28e7f1-b88a-43cd-a2e3-f88b257c863b');
    expect(refusal(['AADTENANTID=contoso'])).toBe('AADTENANTID=contoso: must be a GUID');
  });

  it('CCMCERTSEL: Subject:, SubjectStr: or SubjectAttr:', () => {
    expect(parseCcmsetupArgs(tokenizeWindowsCommandLine('CCMCERTSEL="Subject:computer1.contoso.com"')).properties['CCMCERTSEL']).toBe('Subject:computer1.contoso.com');
    expect(refusal(['CCMCERTSEL=computer1'])).toMatch(/must start with Subject:/);
  });

  it('PROVISIONTS: a task sequence deployment ID', () => {
    expect(parseCcmsetupArgs(['PROVISIONTS=PRI20001']).properties['PROVISIONTS']).toBe('PRI20001');
    expect(refusal(['PROVISIONTS=my ts'])).toMatch(/deployment ID/);
  });

  it('paths and free text keep their spaces (CCMINSTALLDIR, SMSCACHEDIR)', () => {
    const cl = parseCcmsetupArgs(tokenizeWindowsCommandLine('CCMINSTALLDIR="C:\\Config Mgr" SMSCACHEDIR=D:\\cache'));
    expect(cl.properties).toEqual({ CCMINSTALLDIR: 'C:\\Config Mgr', SMSCACHEDIR: 'D:\\cache' });
  });

  it('the bare flag property CCMALLOWSILENTREBOOT; a valued property given bare is refused', () => {
    expect(parseCcmsetupArgs(['ccmallowsilentreboot']).properties).toEqual({ CCMALLOWSILENTREBOOT: 'TRUE' });
    expect(refusal(['smsmp'])).toBe('smsmp needs a value (SMSMP=<MP>)');
  });

  it('an unknown PROPERTY=value is passed on as given; a stray word is a warning', () => {
    const cl = parseCcmsetupArgs(['PATCH=C:\\fix.msp', 'Custom_Prop=a=b;c', 'stray']);
    expect(cl.properties).toEqual({ PATCH: 'C:\\fix.msp', CUSTOM_PROP: 'a=b;c' });
    expect(cl.unknownParameters).toEqual(['stray']);
    expect(cl.warnings).toEqual(['argument "stray" ignored: not a /parameter, a PROPERTY=value or a flag property']);
  });

  it('REGTOKEN= is an ordinary property, with a hint, and is masked when printed', () => {
    const cl = parseCcmsetupArgs(['regtoken=aaa.bbb.ccc', 'SMSSITECODE=ABC']);
    expect(cl.parameters.regtoken).toBeUndefined();
    expect(cl.properties['REGTOKEN']).toBe('aaa.bbb.ccc');
    expect(cl.warnings[0]).toMatch(/REGTOKEN= is passed to client.msi as an ordinary property/);
    expect(cl.maskedCommandLine).toBe('ccmsetup.exe regtoken=aa…(11 chars) SMSSITECODE=ABC');
    const printed = JSON.stringify(printableCommandLine(cl));
    expect(printed).not.toContain('aaa.bbb.ccc');
    expect(printed).toContain('"REGTOKEN":"aa…(11 chars)"');
  });
});

describe('order, case and quoting', () => {
  it('gives the same result in any order and any case', () => {
    const a = parseCcmsetupArgs(['/mp:MP01', '/logon', 'SMSSITECODE=P01', 'CCMLOGLEVEL=0', '/BITSPriority:HIGH']);
    const b = parseCcmsetupArgs(['ccmloglevel=0', '/BITSPRIORITY:high', 'smssitecode=p01', '/LOGON', '/MP:MP01']);
    expect(b.parameters).toEqual(a.parameters);
    expect(b.properties).toEqual(a.properties);
  });

  it('values may hold :, /, = and ; (from one raw line)', () => {
    const cl = parseCcmsetupArgs(tokenizeWindowsCommandLine('/mp:https://mp1.contoso.com:8443/x;mp2 CCMCERTISSUERS="CN=Root CA; OU=Servers | CN=Other" FSP=fsp01'));
    expect(cl.parameters.mp).toEqual(['https://mp1.contoso.com:8443/x', 'mp2']);
    expect(cl.properties['CCMCERTISSUERS']).toBe('CN=Root CA; OU=Servers | CN=Other');
  });

  it('the masked command line quotes values with spaces and masks real tokens', () => {
    const jwt = 'eyJ0eXAiOiJKV1QifQ.eyJUeXBlIjoiQnVsayJ9.c2lnbmF0dXJl';
    const cl = parseCcmsetupArgs(['/config:my file.txt', `/regtoken:${jwt}`, `NOTE=${jwt}`], { cwd: configDir });
    expect(cl.maskedCommandLine).toBe(`ccmsetup.exe /config:"my file.txt" /regtoken:eyJ0eXAi…(${jwt.length} chars) NOTE=eyJ0eXAi…(${jwt.length} chars)`);
    expect(JSON.stringify(printableCommandLine(cl))).not.toContain('c2lnbmF0dXJl');
  });
});
