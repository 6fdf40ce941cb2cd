// Simulator options (`--x`) stand anywhere on the ccmsetup line and never collide with ccmsetup syntax.
import { describe, it, expect } from 'vitest';
import { splitSimulatorOptions } from '../../src/args/simulator-options.js';
import { isCcmsimError } from '../../src/errors.js';

describe('splitSimulatorOptions', () => {
  it('takes --x v, --x=v and switches from anywhere, leaving the ccmsetup arguments in order', () => {
    const r = splitSimulatorOptions(['--json', '/mp:MP01', '--site-dir', 'D', 'SMSSITECODE=ABC', '--seed=7', '/regtoken:a.b.c', '--parse-only']);
    expect(r.ccmsetupArgs).toEqual(['/mp:MP01', 'SMSSITECODE=ABC', '/regtoken:a.b.c']);
    expect(r.simulatorArgs).toEqual(['--json', '--site-dir', 'D', '--seed=7', '--parse-only']);
    expect(r.options).toEqual({ json: true, 'site-dir': 'D', seed: '7', 'parse-only': true });
  });
  it('knows every documented value option', () => {
    for (const name of ['site-dir', 'site-url', 'machine-dir', 'computer-name', 'network', 'timezone', 'seed', 'start', 'run-for', 'restart-every', 'roam', 'offline', 'site-event', 'simulate', 'command-line']) {
      expect(splitSimulatorOptions([`--${name}`, 'v']).options[name]).toBe('v');
    }
  });
  it('a value option takes the next argument even when it looks like ccmsetup syntax', () => {
    expect(splitSimulatorOptions(['--command-line', '/mp:MP01 /logon']).options['command-line']).toBe('/mp:MP01 /logon');
  });
  const refused: Array<[string[], RegExp]> = [
    [['--frobnicate'], /unknown simulator option --frobnicate/],
    [['--site-dir'], /--site-dir needs a value/],
    [['--site-dir', '--json'], /--site-dir needs a value/],
    [['--json=yes'], /--json is a switch/],
  ];
  for (const [argv, message] of refused) {
    it(`refuses ${argv.join(' ')} with CCMSIM_USAGE`, () => {
      try {
        splitSimulatorOptions(argv);
        expect.unreachable();
      } catch (err) {
        expect(isCcmsimError(err, 'CCMSIM_USAGE')).toBe(true);
        expect((err as Error).message).toMatch(message);
      }
    });
  }
});
