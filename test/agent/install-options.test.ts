// The simulator options of ccmsetup-sim: defaults, accepted forms, and a clear refusal for each mistake.
import { describe, it, expect } from 'vitest';
import { DEFAULT_TIME_ZONE, parseInstallOptions } from '../../src/cli/ccmsetup-options.js';
import { deriveNetwork, msiProperties } from '../../src/agent/ccmsetup-flow.js';
import { parseCcmsetupCommandLine } from '../../src/agent/command-line.js';

describe('simulator options', () => {
  it('have documented defaults and accept --x v and --x=v', () => {
    const d = parseInstallOptions([]);
    expect(d).toMatchObject({ timeZone: DEFAULT_TIME_ZONE, json: false, seedGiven: false, startMs: undefined, network: undefined });
    expect(d.seed).toBeGreaterThanOrEqual(1);
    const o = parseInstallOptions(['--seed=42', '--timezone', 'Europe/Paris', '--json', '--network=internet', '--simulate', 'pending-reboot', '--start', '2026-06-01T08:00:00Z', '--computer-name', 'pc-01']);
    expect(o).toMatchObject({ seed: 42, seedGiven: true, timeZone: 'Europe/Paris', json: true, network: 'internet', simulate: 'pending-reboot', computerName: 'PC-01' });
    expect(o.startMs).toBe(Date.UTC(2026, 5, 1, 8, 0, 0));
    // Simulator option names are case-insensitive, like ccmsetup's own parameters.
    expect(parseInstallOptions(['--Site-Dir', 's', '--JSON'])).toMatchObject({ siteDir: 's', json: true });
    // Without an offset it is the machine's local time in --timezone, as with --run-for (it was UTC here, local there).
    expect(parseInstallOptions(['--timezone', 'Europe/Paris', '--start', '2028-01-31T10:00']).startMs).toBe(Date.UTC(2028, 0, 31, 9, 0));
  });

  it('refuse each mistake with one line naming the option', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--site-dir', 'a', '--site-url', 'http://x'], /either --site-dir .* or --site-url/],
      [['--network', 'wan'], /--network takes intranet or internet/],
      [['--timezone', 'Mars/Olympus'], /not an IANA time zone/],
      [['--seed', '0'], /--seed 0: must be an integer/],
      [['--start', 'yesterday'], /--start: 'yesterday' is not a valid ISO date-time/],
      [['--simulate', 'crash'], /--simulate takes pending-reboot or prereq-failure/],
      [['--machine-dir'], /--machine-dir needs a value/],
      [['--site-url', ''], /^--site-url is empty: give the URL of a running ccmsim site serve's MP/],
      [['--site-dir='], /^--site-dir is empty: give a directory/],
      [['--machine-dir', ' '], /^--machine-dir is empty/],
      [['--colour', 'red'], /unknown simulator option --colour/],
      [['--restart-every', '1d'], /^--restart-every only applies with --run-for <duration>$/],
      [['--Restart-At', '08:00'], /^--restart-at only applies with --run-for <duration>$/],
      [['--roam=internet:0d-'], /^--roam only applies with --run-for <duration>$/],
    ];
    for (const [args, message] of cases) expect(() => parseInstallOptions(args)).toThrow(message);
  });
});

describe('reading the command line', () => {
  it('a CMG /mp or CCMHOSTNAME means internet, a plain /mp intranet, CCMALWAYSINF=1 internet', () => {
    const cmg = 'CONTOSO.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500';
    expect(deriveNetwork(parseCcmsetupCommandLine(`/mp:https://${cmg} CCMHOSTNAME=${cmg} SMSSITECODE=ABC`))).toBe('internet');
    expect(deriveNetwork(parseCcmsetupCommandLine(`CCMHOSTNAME=${cmg} SMSSITECODE=ABC`))).toBe('internet');
    expect(deriveNetwork(parseCcmsetupCommandLine('/mp:MP01.CONTOSO.COM SMSSITECODE=ABC'))).toBe('intranet');
    expect(deriveNetwork(parseCcmsetupCommandLine('/mp:MP01.CONTOSO.COM SMSSITECODE=ABC CCMALWAYSINF=1'))).toBe('internet');
  });

  it('MSI properties: ccmsetup defaults plus the line, sorted, JWT-shaped values masked', () => {
    const jwt = `eyJhbGciOiJSUzI1NiJ9.${'A'.repeat(40)}.${'B'.repeat(40)}`;
    const props = msiProperties({ SMSSITECODE: 'ABC', REGTOKEN: jwt });
    expect(props.map(([k]) => k)).toEqual(['CCMFIRSTCERT', 'CCMHTTPPORT', 'CCMHTTPSCERTNAME', 'CCMHTTPSPORT', 'CCMHTTPSSTATE', 'REGTOKEN', 'SMSSITECODE']);
    const shown = props.find(([k]) => k === 'REGTOKEN')![1];
    expect(shown).not.toContain('A'.repeat(20));
    expect(shown).toMatch(/\(\d+ chars\)/);
  });
});
