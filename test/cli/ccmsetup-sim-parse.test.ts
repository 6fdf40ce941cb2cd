// `ccmsetup-sim` as a tester drives it without a site: `/?`, `--parse-only` (the parsed command line as JSON and the
// return code the command line and options decide by themselves), and `--command-line` with one raw Windows string such as a CCMSETUPCMD value.
import { describe, it, expect, vi } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/ccmsetup-sim-main.js';
import { captureIo } from '../../src/cli/io.js';
import { CCMSETUP_PARAMETERS } from '../../src/args/ccmsetup-parameters.js';
import { CLIENT_PROPERTIES } from '../../src/args/client-properties.js';

// The install path belongs to the agent engineer; here only the hand-over is checked, so it is replaced.
const installCalls: Array<{ commandLine: unknown; simulatorArgs: readonly string[] }> = [];
const refusals: Array<{ typed: readonly string[]; reason: string }> = [];
vi.mock('../../src/cli/ccmsetup-install.js', () => ({
  runInstallFromCli: async (commandLine: unknown, simulatorArgs: readonly string[]) => {
    installCalls.push({ commandLine, simulatorArgs });
    return 7;
  },
  logRefusal: async (typed: readonly string[], _simulatorArgs: readonly string[], reason: string) => {
    refusals.push({ typed, reason });
  },
}));

const CMG = 'CONTOSO.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500';
// A token shaped like the real ones (header, payload, signature); its parts must never be printed.
const TOKEN_PARTS = ['eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9', 'eyJUeXBlIjoiQnVsa1JlZ2lzdHJhdGlvbiIsIm5iZiI6MTU4MDE1NjMwNX0', 'c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU'];
const TOKEN = TOKEN_PARTS.join('.');

async function run(argv: string[], cwd?: string) {
  const io = captureIo(cwd === undefined ? {} : { cwd });
  const code = await main(argv, io);
  return { code, out: io.stdoutText, err: io.stderrText };
}

describe('ccmsetup-sim --parse-only', () => {
  it("the issue's example: exit 0, JSON with the MP, the CMG host, site code ABC and a masked token", async () => {
    const r = await run(['--parse-only', `/mp:https://${CMG}`, `CCMHOSTNAME=${CMG}`, 'SMSSiteCode=ABC', '/regtoken:aaa.bbb.ccc']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(json.exitCode).toBe(0);
    expect(json.parameters.mp).toEqual([`https://${CMG}`]);
    expect(json.properties.CCMHOSTNAME).toBe(CMG);
    expect(json.properties.SMSSITECODE).toBe('ABC');
    expect(json.parameters.regtoken).toMatch(/^.{0,8}…\(11 chars\)$/);
    expect(r.out).not.toContain('aaa.bbb.ccc');
    expect(r.out).not.toContain('bbb');
    expect(json.maskedCommandLine).toMatch(/^ccmsetup\.exe \/mp:https:\/\/CONTOSO.* \/regtoken:.*…\(11 chars\)$/);
    expect(json.unknownParameters).toEqual([]);
    expect(json.warnings).toEqual([]);
    expect(json.parameters).toMatchObject({ retry: 10, downloadtimeout: 1440, bitspriority: 'NORMAL', forcereboot: false });
    expect(json.targets).toEqual({
      managementPoints: [`https://${CMG}`],
      cmg: { host: 'CONTOSO.CLOUDAPP.NET', id: '72186325152220500', url: `https://${CMG}`, from: '/mp' },
      siteCode: 'ABC',
    });
  });

  it('finds the CMG in CCMHOSTNAME when there is no /mp, and an internet MP host that is not a CMG', async () => {
    const cmgOnly = JSON.parse((await run(['--parse-only', `ccmhostname=${CMG.toLowerCase()}`, 'SMSSITECODE=abc', '/regtoken:aaa.bbb.ccc'])).out);
    expect(cmgOnly.targets.cmg).toEqual({ host: 'CONTOSO.CLOUDAPP.NET', id: '72186325152220500', url: `https://${CMG}`, from: 'CCMHOSTNAME' });
    expect(cmgOnly.targets.siteCode).toBe('ABC');
    const ibcm = JSON.parse((await run(['--parse-only', '/mp:MP01.CONTOSO.COM', 'CCMHOSTNAME=IBCM.CONTOSO.COM', 'SMSMP=MP01.CONTOSO.COM', 'SMSSITECODE=ABC'])).out);
    expect(ibcm.targets).toEqual({ managementPoints: ['MP01.CONTOSO.COM'], initialManagementPoint: 'MP01.CONTOSO.COM', siteCode: 'ABC', internetHost: 'IBCM.CONTOSO.COM' });
  });

  it('a real-looking token: none of its three parts appears on stdout or stderr, even next to a REGTOKEN= property', async () => {
    const r = await run(['--parse-only', `/mp:https://${CMG}`, `CCMHOSTNAME=${CMG}`, 'SMSSITECODE=ABC', `REGTOKEN=${TOKEN}`, `/RegToken:${TOKEN}`, '/bogus']);
    expect(r.code).toBe(0);
    for (const part of TOKEN_PARTS) {
      expect(r.out).not.toContain(part);
      expect(r.err).not.toContain(part);
    }
    const json = JSON.parse(r.out);
    expect(json.parameters.regtoken).toBe(`eyJ0eXAi…(${TOKEN.length} chars)`);
    expect(json.properties.REGTOKEN).toBe(`eyJ0eXAi…(${TOKEN.length} chars)`);
    expect(json.unknownParameters).toEqual(['/bogus']);
  });

  it('a bad argument: exit 6, one line on stderr naming the argument and the rule, JSON with the error', async () => {
    const r = await run(['--parse-only', 'CCMLOGLEVEL=7']);
    expect(r.code).toBe(6);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^ccmsetup-sim: CCMLOGLEVEL=7: must be a whole number from 0 to 3 \(CCMSIM_BAD_ARGUMENT\)$/m);
    expect(JSON.parse(r.out)).toMatchObject({ exitCode: 6, error: { code: 'CCMSIM_BAD_ARGUMENT' } });
    expect(r.err).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it('a malformed /regtoken is refused without printing it', async () => {
    const r = await run(['--parse-only', '/regtoken:not-a-token-secret']);
    expect(r.code).toBe(6);
    expect(r.err).toMatch(/\/regtoken: must be a bulk registration token/);
    expect(r.err + r.out).not.toContain('not-a-token-secret');
  });

  it('simulator options may stand anywhere, in both --x v and --x=v forms; unknown ones are refused', async () => {
    const ok = await run(['SMSSITECODE=abc', '--site-dir', '/tmp/x', '/mp:MP01', '--parse-only=true', '--seed=3']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out).properties.SMSSITECODE).toBe('ABC');
    const bad = await run(['--parse-only', '--frobnicate', '/mp:MP01']);
    expect(bad.code).toBe(6);
    expect(bad.err).toMatch(/unknown simulator option --frobnicate \(known: .*--site-dir.*\) \(CCMSIM_USAGE\)$/m);
  });

  it('checks the simulator options as a real run does: exit 6, the same one line, JSON with the error', async () => {
    const cases: Array<[string[], string]> = [
      [['--network', 'moon'], '--network takes intranet or internet, not "moon"'],
      [['--computer-name', 'bad_name!!'], "--computer-name bad_name!!: must be 1 to 15 characters A-Z, 0-9 or '-', start with a letter or digit, and not be all digits"],
      [['--seed', 'abc'], '--seed abc: must be an integer from 1 to 2147483647'],
      [['--timezone', 'Mars/X'], '--timezone Mars/X: not an IANA time zone (e.g. UTC, Europe/Paris, America/Los_Angeles)'],
      [['--start', 'garbage'], "--start: 'garbage' is not a valid ISO date-time (e.g. 2028-01-31T10:00 local, or 2028-01-31T10:00:00Z)"],
      [['--site-dir', 'a', '--site-url', 'http://127.0.0.1:1'], 'give either --site-dir (embedded site) or --site-url (a running ccmsim site serve), not both'],
      [['--simulate', 'crash'], '--simulate takes pending-reboot or prereq-failure, not "crash"'],
      [['--restart-every', '1d'], '--restart-every only applies with --run-for <duration>'],
      [['--run-for', '10d', '--roam', 'moon:0d-'], ''],
    ];
    for (const [options, message] of cases) {
      const r = await run(['--parse-only', '/mp:MP01', 'SMSSITECODE=ABC', ...options]);
      expect(r.code, options.join(' ')).toBe(6);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toMatch(/\(CCMSIM_USAGE\)\n$/);
      if (message) expect(r.err).toBe(`ccmsetup-sim: ${message} (CCMSIM_USAGE)\n`);
      expect(JSON.parse(r.out)).toMatchObject({ exitCode: 6, error: { code: 'CCMSIM_USAGE' } });
    }
  });

  it('--simulate gives the code a run reaching the prerequisite phase ends with: 7 (0 with /forcereboot), 9; /uninstall 0', async () => {
    const cases: Array<[string[], number]> = [
      [['--simulate', 'pending-reboot'], 7],
      [['--simulate=pending-reboot', '/forcereboot'], 0],
      [['--simulate', 'prereq-failure'], 9],
      [['--simulate', 'prereq-failure', '/uninstall'], 0],
      [['--run-for', '30d', '--simulate', 'pending-reboot'], 7],
    ];
    for (const [extra, code] of cases) {
      const r = await run(['--parse-only', '/mp:MP01', 'SMSSITECODE=ABC', ...extra]);
      expect(r.err).toBe('');
      expect(r.code, extra.join(' ')).toBe(code);
      expect(JSON.parse(r.out).exitCode).toBe(code);
    }
    expect(installCalls).toHaveLength(0);
  });
});

describe('ccmsetup-sim --command-line', () => {
  it('tokenizes one raw Windows line like a CCMSETUPCMD value', async () => {
    const line = `/mp:https://${CMG} /source:"\\\\server\\share" CCMHOSTNAME=${CMG} SMSSITECODE=ABC CCMADMINS="domain\\account1;domain\\group1" /config:"configuration file name.txt" /regtoken:aaa.bbb.ccc`;
    // The /config file is read (relative to the working directory), so it must exist.
    const cwd = mkdtempSync(join(tmpdir(), 'ccmsim-config-'));
    writeFileSync(join(cwd, 'configuration file name.txt'), '[Client Install]\r\nInstall=INSTALL=ALL SMSCACHESIZE=100\r\n');
    const r = await run(['--parse-only', '--command-line', line], cwd);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(json.parameters.source).toEqual(['\\\\server\\share']);
    expect(json.parameters.config).toBe('configuration file name.txt');
    expect(json.properties.CCMADMINS).toBe('domain\\account1;domain\\group1');
    expect(json.properties.SMSCACHESIZE).toBe('100');
    expect(json.maskedCommandLine).toContain('/config:"configuration file name.txt"');
    expect(r.out).not.toContain('bbb');
  });

  it('drops a leading ccmsetup.exe and reads simulator options inside the line', async () => {
    const r = await run(['--command-line', '"C:\\Windows\\ccmsetup\\ccmsetup.exe" /mp:MP01 --parse-only SMSSITECODE=AUTO']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).parameters.mp).toEqual(['MP01']);
  });

  it('given twice, or inside itself: refused (exit 6, one line), never the last one silently', async () => {
    for (const argv of [
      ['--command-line', '/mp:MP01 SMSSITECODE=ABC', '--command-line', '/mp:MP02 SMSSITECODE=XYZ', '--parse-only'],
      ['--command-line=/mp:MP01', '--COMMAND-LINE', '/mp:MP02'],
      ['--command-line', '/mp:MP01 --command-line=/mp:MP02', '--parse-only'],
    ]) {
      const before = installCalls.length;
      const r = await run(argv);
      expect(r.code).toBe(6);
      expect(r.err).toMatch(/^ccmsetup-sim: --command-line (is given more than once|cannot hold another)[^\n]*\(CCMSIM_USAGE\)\n$/);
      expect(installCalls).toHaveLength(before);
    }
  });

  it('refuses arguments both on the line and in --command-line', async () => {
    const r = await run(['/mp:MP01', '--command-line', '/mp:MP02', '--parse-only']);
    expect(r.code).toBe(6);
    expect(r.err).toMatch(/either as arguments or in --command-line/);
  });
});

describe('ccmsetup-sim /?', () => {
  for (const argv of [['/?'], ['-?'], ['--help'], ['/mp:MP01', '/?', 'CCMLOGLEVEL=9']]) {
    it(`${argv.join(' ')} prints usage listing every parameter and property, exit 0`, async () => {
      const r = await run(argv);
      expect(r.code).toBe(0);
      expect(r.err).toBe('');
      for (const p of CCMSETUP_PARAMETERS) expect(r.out).toContain(`/${p.name}`);
      for (const p of CLIENT_PROPERTIES) expect(r.out).toMatch(new RegExp(`^  ${p.name}\\b`, 'm'));
      expect(r.out).toMatch(/0 success, 6 error, 7 reboot required/);
    });
  }

  it('says --parse-only gives the code the command line decides by itself, not the code a real run would give', async () => {
    const r = await run(['/?']);
    expect(r.out).toContain(
      '  --parse-only            print the parsed command line as JSON and exit with the code it and the options decide\n' +
        '                          by themselves (6, 7, 9 or 0); contacts no site, does not read the machine directory\n',
    );
    expect(r.out).not.toMatch(/a real run would give/);
  });
});

describe('ccmsetup-sim without --parse-only', () => {
  it('hands the parsed command line and the other simulator options to the install, and returns its code', async () => {
    installCalls.length = 0;
    const r = await run(['--command-line', '/mp:MP01 SMSSITECODE=abc /bogus --seed 4', '--site-dir', 'D', '--json']);
    expect(r.code).toBe(7);
    expect(installCalls).toHaveLength(1);
    expect(installCalls[0]!.simulatorArgs).toEqual(['--site-dir', 'D', '--json', '--seed', '4']);
    expect(installCalls[0]!.commandLine).toMatchObject({ parameters: { mp: ['MP01'], retry: 10 }, properties: { SMSSITECODE: 'ABC' } });
    expect(r.err).toBe('ccmsetup-sim: warning: unknown parameter /bogus ignored\n');
  });

  it('a bad argument never reaches the install: exit 6', async () => {
    installCalls.length = 0;
    const r = await run(['CCMEVALHOUR=24', '--site-dir', 'D']);
    expect(r.code).toBe(6);
    expect(installCalls).toHaveLength(0);
    expect(r.out).toBe('');
    expect(r.err).toBe('ccmsetup-sim: CCMEVALHOUR=24: must be a whole number from 0 to 23 (CCMSIM_BAD_ARGUMENT)\n');
    // …but its ccmsetup.log is still written, as ccmsetup.exe writes one.
    expect(refusals.at(-1)).toEqual({ typed: ['CCMEVALHOUR=24'], reason: 'CCMEVALHOUR=24: must be a whole number from 0 to 23' });
  });
});
