// What the front doors say about a site directory, database or listen address the user cannot use: one line with its
// CCMSIM_ code and a fitting exit code (1 for the site, 2 for an option to change), never "internal error" (70).
import { describe, it, expect, afterEach, beforeEach } from 'vitest';
import { createServer, type Server } from 'node:net';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { main as ccmsimMain } from '../../src/cli/ccmsim-main.js';
import { main as bulkMain } from '../../src/cli/bulkregtoken-sim-main.js';
import { main as ccmsetupMain } from '../../src/cli/ccmsetup-sim-main.js';
import { captureIo } from '../../src/cli/io.js';
import { siteCliOverrides } from '../../src/cli/commands/site-common.js';
import { siteServeHooks } from '../../src/cli/commands/site-serve.js';
import { VirtualClock } from '../../src/clock/clock.js';
import { Random } from '../../src/clock/random.js';
import { sitePaths } from '../../src/site/site-dir.js';
import { tempDir, testKeys } from '../site-state/site-fixture.js';

const START = Date.parse('2026-03-01T09:00:00Z');
let dir = '';
const cleanups: Array<() => void | Promise<void>> = [];

beforeEach(() => {
  const t = tempDir('unusable');
  cleanups.push(t.cleanup);
  dir = t.dir;
  siteCliOverrides.keys = testKeys(0);
  siteCliOverrides.clock = new VirtualClock(START);
  siteCliOverrides.random = new Random('unusable');
});
afterEach(async () => {
  delete siteCliOverrides.keys;
  delete siteCliOverrides.clock;
  delete siteCliOverrides.random;
  delete siteServeHooks.waitForStop;
  for (const c of cleanups.splice(0).reverse()) await c();
});

type Main = (argv: string[], io: ReturnType<typeof captureIo>) => Promise<number>;

async function run(main: Main, argv: string[], cwd = dir) {
  const io = captureIo({ cwd });
  const code = await main(argv, io);
  return { code, out: io.stdoutText, err: io.stderrText };
}
const ccmsim = (...argv: string[]) => run(ccmsimMain, argv);
const bulk = (...argv: string[]) => run((a, io) => bulkMain(a, io, siteCliOverrides), argv);

/** One line on stderr, ending with the code, and no "internal error". */
function oneLine(err: string, code: string): string {
  const lines = err.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`\\(${code}\\)$`));
  expect(lines[0]).not.toContain('internal error');
  return lines[0]!;
}

describe('a site directory that is not one', () => {
  it('site init / bulkregtoken-sim /new on a regular file: exit 1, CCMSIM_SITE_STATE', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    const init = await ccmsim('site', 'init', '--site-dir', file);
    expect(init.code).toBe(1);
    expect(oneLine(init.err, 'CCMSIM_SITE_STATE')).toContain(`cannot create the site directory ${file}: it is a file, not a directory`);
    const made = await bulk('/new', '--site-dir', file);
    expect(made.code).toBe(1);
    oneLine(made.err, 'CCMSIM_SITE_STATE');
  });

  it('a zero-byte site.db next to an earlier site\'s keys: exit 1 from every site command, the site not remade', async () => {
    const site = join(dir, 'site');
    expect((await ccmsim('site', 'init', '--site-dir', site)).code).toBe(0);
    writeFileSync(sitePaths(site).db, '');
    for (const argv of [['site', 'tokens', 'list'], ['site', 'init'], ['site', 'config'], ['site', 'clients', 'list']]) {
      const r = await ccmsim(...argv, '--site-dir', site);
      expect(r.code).toBe(1);
      expect(oneLine(r.err, 'CCMSIM_SITE_STATE')).toContain("is empty, but");
    }
    const r = await bulk('/new', '--site-dir', site);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
  });

  it('a dropped table: refused at open (exit 1), and serve does not start on it', async () => {
    const site = join(dir, 'site');
    expect((await ccmsim('site', 'init', '--site-dir', site)).code).toBe(0);
    const db = new Database(sitePaths(site).db);
    db.exec('DROP TABLE bulk_tokens');
    db.close();
    let served = false;
    siteServeHooks.waitForStop = async () => {
      served = true;
    };
    const serve = await ccmsim('site', 'serve', '--site-dir', site);
    expect(serve.code).toBe(1);
    expect(served).toBe(false);
    expect(oneLine(serve.err, 'CCMSIM_SITE_STATE')).toContain('table bulk_tokens is missing');
  });

  it('an empty --site-dir: exit 2 naming the option, and no default site made', async () => {
    for (const r of [await ccmsim('site', 'tokens', 'list', '--site-dir', ''), await bulk('/new', '--site-dir', ''), await bulk('/new', '--site-dir=')]) {
      expect(r.code).toBe(2);
      expect(oneLine(r.err, 'CCMSIM_USAGE')).toContain('--site-dir is empty');
    }
    expect(existsSync(join(dir, '.ccmsim'))).toBe(false);
  });

  it('ccmsetup-sim: an empty --site-dir or --site-url is return code 6 naming the option, and no default site made', async () => {
    const cwd = join(dir, 'cwd');
    mkdirSync(cwd);
    for (const option of ['--site-dir', '--site-url']) {
      const r = await run(ccmsetupMain, ['/mp:MP01.CONTOSO.COM', 'SMSSITECODE=ABC', option, '', '--start', '2026-03-01T09:00:00Z'], cwd);
      expect(r.code).toBe(6);
      expect(oneLine(r.err, 'CCMSIM_USAGE')).toContain(`${option} is empty`);
    }
    expect(existsSync(join(cwd, '.ccmsim'))).toBe(false);
  });
});

describe('site serve on an address it cannot listen on: exit 2 naming the option', () => {
  async function busyPort(): Promise<number> {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return (server.address() as { port: number }).port;
  }

  it.each(['--mp-port', '--cmg-port'])('%s already in use', async (option) => {
    const port = await busyPort();
    const r = await ccmsim('site', 'serve', '--site-dir', join(dir, 'site'), option, String(port));
    expect(r.code).toBe(2);
    expect(oneLine(r.err, 'CCMSIM_USAGE')).toContain(`${option} ${port}: 127.0.0.1:${port} is already in use`);
  });

  it('the same port for both', async () => {
    const r = await ccmsim('site', 'serve', '--site-dir', join(dir, 'site'), '--mp-port', '45000', '--cmg-port', '45000');
    expect(r.code).toBe(2);
    oneLine(r.err, 'CCMSIM_USAGE');
  });

  it('--host not an address of this computer (TEST-NET-1)', async () => {
    const r = await ccmsim('site', 'serve', '--site-dir', join(dir, 'site'), '--host', '192.0.2.1');
    expect(r.code).toBe(2);
    expect(oneLine(r.err, 'CCMSIM_USAGE')).toContain('--host 192.0.2.1: not an address of this computer');
  });

  it('--host a name that does not resolve', async () => {
    const r = await ccmsim('site', 'serve', '--site-dir', join(dir, 'site'), '--host', 'no-such-host.invalid');
    expect(r.code).toBe(2);
    expect(oneLine(r.err, 'CCMSIM_USAGE')).toContain('--host no-such-host.invalid: the name does not resolve');
  });
});
