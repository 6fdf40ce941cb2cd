// Splitting a raw Windows command line the way the Microsoft C runtime does, and quoting back.
import { describe, it, expect } from 'vitest';
import { quoteWindowsArgument, tokenizeWindowsCommandLine } from '../../src/args/windows-command-line.js';

describe('tokenizeWindowsCommandLine', () => {
  const cases: Array<[string, string[]]> = [
    ['/mp:MP01 SMSSITECODE=ABC', ['/mp:MP01', 'SMSSITECODE=ABC']],
    ['  /mp:MP01 \t  /logon  ', ['/mp:MP01', '/logon']],
    ['/source:"\\\\server\\share"', ['/source:\\\\server\\share']],
    ['/config:"configuration file name.txt"', ['/config:configuration file name.txt']],
    ['CCMADMINS="domain\\account1;domain\\group1"', ['CCMADMINS=domain\\account1;domain\\group1']],
    ['CCMCERTSEL="Subject:computer1.contoso.com"', ['CCMCERTSEL=Subject:computer1.contoso.com']],
    ['"a b"c d', ['a bc', 'd']],
    ['a\\\\b', ['a\\\\b']],
    ['a\\\\"b c"', ['a\\b c']],
    ['a\\\\\\"b', ['a\\"b']],
    ['a\\"b', ['a"b']],
    ['"a""b"', ['a"b']],
    ['""', ['']],
    ['"x" ""  y', ['x', '', 'y']],
    ['/mp:https://a.contoso.com/CCM_Proxy_MutualAuth/1;mp2 X=a=b', ['/mp:https://a.contoso.com/CCM_Proxy_MutualAuth/1;mp2', 'X=a=b']],
    ['"unterminated value', ['unterminated value']],
    ['C:\\path\\ends\\', ['C:\\path\\ends\\']],
    ['', []],
  ];
  for (const [line, expected] of cases) {
    it(`${JSON.stringify(line)} → ${JSON.stringify(expected)}`, () => {
      expect(tokenizeWindowsCommandLine(line)).toEqual(expected);
    });
  }
});

describe('quoteWindowsArgument', () => {
  it('round-trips awkward arguments through the tokenizer', () => {
    const args = ['plain', 'with space', 'quote"inside', 'trailing\\', 'trail space\\', 'a\\\\"b', '', 'tab\there', '\\\\server\\share dir\\'];
    const line = args.map(quoteWindowsArgument).join(' ');
    expect(tokenizeWindowsCommandLine(line)).toEqual(args);
  });
  it('leaves arguments that need no quotes alone', () => {
    expect(quoteWindowsArgument('/mp:MP01')).toBe('/mp:MP01');
    expect(quoteWindowsArgument('a b')).toBe('"a b"');
  });
});
