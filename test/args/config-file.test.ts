// ccmsetup's /config:<file> (cli.md §2): the [Client Install] section's Install= value is read with the command line's
// property grammar and applied as if typed; the command line wins over the file; every problem with the file is one
// CCMSIM_BAD_ARGUMENT line naming the file.
import { describe, it, expect } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCcmsetupArgs, printableCommandLine, type CcmsetupCommandLine } from '../../src/args/parse-ccmsetup-args.js';
import { tokenizeWindowsCommandLine } from '../../src/args/windows-command-line.js';
import { isCcmsimError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'ccmsim-config-'));
let n = 0;

/** Writes `content` to a new file in `dir` and returns its name (relative to `dir`). */
function file(content: string | Buffer, name = `cfg${++n}.txt`): string {
  writeFileSync(join(dir, name), content);
  return name;
}

function parse(line: string): CcmsetupCommandLine {
  return parseCcmsetupArgs(tokenizeWindowsCommandLine(line), { cwd: dir });
}

function refusal(line: string): string {
  try {
    parse(line);
  } catch (err) {
    expect(isCcmsimError(err, 'CCMSIM_BAD_ARGUMENT')).toBe(true);
    const message = (err as Error).message;
    expect(message).not.toMatch(/\n/);
    return message;
  }
  throw new Error(`accepted: ${line}`);
}

const REVIEWER_FILE = '[Client Install]\nInstall=INSTALL=ALL SMSSITECODE=ABC SMSCACHESIZE=100 CCMLOGLEVEL=0\n';

describe('/config: the file\'s properties are applied as if typed', () => {
  it('reads Install= of [Client Install], relative to the working directory; INSTALL=ALL is a property too', () => {
    const name = file(REVIEWER_FILE);
    const cl = parse(`/mp:http://MP01.CONTOSO.COM /config:${name}`);
    expect(cl.parameters.config).toBe(name);
    expect(cl.properties).toEqual({ INSTALL: 'ALL', SMSSITECODE: 'ABC', SMSCACHESIZE: '100', CCMLOGLEVEL: '0' });
    expect(cl.configFile).toEqual({ path: name, applied: ['INSTALL', 'SMSSITECODE', 'SMSCACHESIZE', 'CCMLOGLEVEL'], overridden: [] });
    expect(cl.warnings).toEqual([]);
    // The command line is logged as typed: the file's properties are not spliced into it.
    expect(cl.maskedCommandLine).toBe(`ccmsetup.exe /mp:http://MP01.CONTOSO.COM /config:${name}`);
  });

  it('uses the command line\'s grammar: case-insensitive names, normalized values, quotes, bare flag properties', () => {
    const name = file('[Client Install]\nInstall=smssitecode=abc CCMADMINS="domain\\account1;domain\\group1" FSP="fsp server" CCMALLOWSILENTREBOOT SMSCACHEFLAGS=percentdiskspace\n');
    const cl = parse(`/config:${name}`);
    expect(cl.properties).toEqual({
      SMSSITECODE: 'ABC',
      CCMADMINS: 'domain\\account1;domain\\group1',
      FSP: 'fsp server',
      CCMALLOWSILENTREBOOT: 'TRUE',
      SMSCACHEFLAGS: 'PERCENTDISKSPACE',
    });
  });

  it('the command line wins over the file, and the JSON says where each property came from', () => {
    const name = file(REVIEWER_FILE);
    const cl = parse(`SMSCACHESIZE=200 /config:${name} smssitecode=xyz`);
    expect(cl.properties).toMatchObject({ SMSCACHESIZE: '200', SMSSITECODE: 'XYZ', INSTALL: 'ALL', CCMLOGLEVEL: '0' });
    expect(cl.configFile).toEqual({ path: name, applied: ['INSTALL', 'CCMLOGLEVEL'], overridden: ['SMSSITECODE', 'SMSCACHESIZE'] });
    expect(cl.warnings).toEqual([
      `SMSSITECODE is set on the command line and in /config:${name}; the command line's value counts`,
      `SMSCACHESIZE is set on the command line and in /config:${name}; the command line's value counts`,
    ]);
    const printed = printableCommandLine(cl);
    expect(printed.configFile).toEqual(cl.configFile);
    expect(printed.properties['INSTALL']).toBe('ALL');
  });

  it('INI rules: case-insensitive section and key, comments, other sections ignored, CRLF; a second Install= wins with a warning', () => {
    const name = file(
      '; made from mobileclienttemplate.tcf\r\n[Site Info]\r\nInstall=SMSSITECODE=NOP\r\n[client install]\r\n# first try\r\ninstall = SMSSITECODE=AAA\r\nINSTALL= SMSSITECODE=abc  FSP=FSP01 \r\n[Other]\r\nInstall=FSP=NOPE\r\n',
    );
    const cl = parse(`/config:${name}`);
    expect(cl.properties).toEqual({ SMSSITECODE: 'ABC', FSP: 'FSP01' });
    expect(cl.warnings).toEqual([`/config:${name}: Install= is given more than once; the last one counts`]);
  });

  it('reads UTF-16 (Notepad\'s "Unicode") and UTF-8 with a byte-order mark', () => {
    const utf16 = file(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(REVIEWER_FILE, 'utf16le')]));
    expect(parse(`/config:${utf16}`).properties['SMSSITECODE']).toBe('ABC');
    const utf8 = file(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(REVIEWER_FILE)]));
    expect(parse(`/config:${utf8}`).properties['SMSCACHESIZE']).toBe('100');
  });

  it('a quoted path with spaces, a sub-folder path and an absolute path all work', () => {
    mkdirSync(join(dir, 'sub dir'), { recursive: true });
    file(REVIEWER_FILE, 'sub dir/configuration file name.txt');
    expect(parse('/config:"sub dir/configuration file name.txt"').properties['INSTALL']).toBe('ALL');
    const abs = join(dir, file(REVIEWER_FILE));
    expect(parseCcmsetupArgs([`/config:${abs}`]).properties['CCMLOGLEVEL']).toBe('0');
  });

  it('the file\'s values are secrets where the command line\'s are: REGTOKEN is masked when printed', () => {
    const jwt = 'eyJ0eXAiOiJKV1QifQ.eyJUeXBlIjoiQnVsayJ9.c2lnbmF0dXJl';
    const name = file(`[Client Install]\nInstall=REGTOKEN=${jwt} SMSSITECODE=ABC\n`);
    const cl = parse(`/config:${name}`);
    expect(cl.properties['REGTOKEN']).toBe(jwt);
    expect(cl.warnings[0]).toMatch(new RegExp(`^/config:${name}: REGTOKEN= is passed to client.msi as an ordinary property`));
    expect(JSON.stringify(printableCommandLine(cl))).not.toContain('c2lnbmF0dXJl');
  });

  it('without /config there is no configFile field', () => {
    const cl = parse('/mp:MP01 SMSSITECODE=ABC');
    expect(cl.configFile).toBeUndefined();
    expect('configFile' in printableCommandLine(cl)).toBe(false);
  });
});

describe('/config: a file that cannot be used is refused in one line naming it', () => {
  it('a missing file, a directory, an empty or blank file', () => {
    expect(refusal('/config:missing.txt')).toBe(`/config:missing.txt: the file does not exist (looked for ${join(dir, 'missing.txt')})`);
    mkdirSync(join(dir, 'a-folder'), { recursive: true });
    expect(refusal('/config:a-folder')).toBe(`/config:a-folder: that is a directory, not a file (${join(dir, 'a-folder')})`);
    const empty = file('');
    expect(refusal(`/config:${empty}`)).toBe(`/config:${empty}: the file is empty (it needs [Client Install] with Install=INSTALL=ALL SMSSITECODE=ABC)`);
    expect(refusal(`/config:${file(' \r\n\t\n')}`)).toMatch(/: the file is empty/);
    expect(refusal(`/config:${file(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0x01]))}`)).toMatch(/: the file is not a text file$/);
  });

  it('no [Client Install] section, no Install= in it, or an empty Install=', () => {
    const other = file('[Site Info]\nInstall=SMSSITECODE=ABC\n');
    expect(refusal(`/config:${other}`)).toBe(`/config:${other}: the file has no [Client Install] section (it needs [Client Install] with Install=INSTALL=ALL SMSSITECODE=ABC)`);
    const noKey = file('[Client Install]\nInstal=SMSSITECODE=ABC\n');
    expect(refusal(`/config:${noKey}`)).toBe(`/config:${noKey}: the [Client Install] section has no Install= line (Install=INSTALL=ALL SMSSITECODE=ABC)`);
    const emptyValue = file('[Client Install]\nInstall=   \n');
    expect(refusal(`/config:${emptyValue}`)).toMatch(/: Install= is empty: give the client\.msi properties/);
  });

  it('a property in the file that breaks a rule, or a ccmsetup parameter in Install=, names the file', () => {
    const badCode = file('[Client Install]\nInstall=SMSSITECODE=ABCD\n');
    expect(refusal(`/config:${badCode}`)).toBe(`/config:${badCode}: SMSSITECODE=ABCD: must be three characters A-Z or 0-9, or AUTO`);
    const badLevel = file('[Client Install]\nInstall=CCMLOGLEVEL=7\n');
    expect(refusal(`/config:${badLevel}`)).toBe(`/config:${badLevel}: CCMLOGLEVEL=7: must be a whole number from 0 to 3`);
    const param = file('[Client Install]\nInstall=/mp:MP01 SMSSITECODE=ABC\n');
    expect(refusal(`/config:${param}`)).toBe(`/config:${param}: Install= holds /mp:MP01: it takes client.msi properties (NAME=value), not ccmsetup parameters`);
  });

  it('the rules across properties see the merged set: CCMHOSTNAME from the file with SMSSITECODE=AUTO typed', () => {
    const name = file('[Client Install]\nInstall=CCMHOSTNAME=CONTOSO.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500\n');
    expect(refusal(`/config:${name} SMSSITECODE=AUTO`)).toMatch(/not allowed with SMSSITECODE=AUTO/);
  });

  it('a quoted name with spaces is quoted in the message', () => {
    expect(refusal('/config:"no such file.txt"')).toMatch(/^\/config:"no such file\.txt": the file does not exist/);
  });
});
