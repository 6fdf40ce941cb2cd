import { describe, it, expect, beforeAll } from 'vitest';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkOutDir, mergeFleetDirs, prepareOutDir } from '../../src/fleet/fleet-output.js';
import { isCcmsimError } from '../../src/errors.js';
import { main } from '../../src/cli/ccmsim-main.js';
import { captureIo } from '../../src/cli/io.js';
import { fakeFleet } from './fake-driver.js';

/** The CcmsimError `fn` throws (the test fails if it throws anything else, or nothing). */
function thrown(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (isCcmsimError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('nothing was thrown');
}

describe('--out', () => {
  it('that cannot be made is one usage line naming it, and nothing is made', () => {
    const root = mkdtempSync(join(tmpdir(), 'fleet-out-'));
    writeFileSync(join(root, 'o_file'), '');
    const out = join(root, 'o_file', 'sub', 'x');
    const e = thrown(() => prepareOutDir(out));
    expect(e.code).toBe('CCMSIM_USAGE');
    expect(e.message).toMatch(new RegExp(`^--out ${out} cannot be created: .*o_file`));
    expect(e.message).not.toMatch(/\n/);
    expect(existsSync(join(root, 'o_file', 'sub'))).toBe(false);
  });

  it('is proved makeable before anything runs, without making it', () => {
    const root = mkdtempSync(join(tmpdir(), 'fleet-out-'));
    writeFileSync(join(root, 'o_file'), '');
    expect(thrown(() => checkOutDir(join(root, 'o_file', 'sub')))).toEqual({
      code: 'CCMSIM_USAGE',
      message: `--out ${join(root, 'o_file', 'sub')} cannot be created: ${join(root, 'o_file')} is not a directory`,
    });
    expect(thrown(() => checkOutDir(join(root, 'o_file'))).message).toBe(`--out ${join(root, 'o_file')} exists and is not a directory`);
    checkOutDir(join(root, 'new', 'deeper'));
    expect(existsSync(join(root, 'new'))).toBe(false);
  });

  // Root may write anywhere by access(); mkdir under /proc and /sys still fails (ENOENT, EPERM).
  it.runIf(process.platform === 'linux')('under /proc or /sys is refused by checkOutDir, naming the file system', () => {
    expect(thrown(() => checkOutDir('/proc/nope'))).toEqual({ code: 'CCMSIM_USAGE', message: '--out /proc/nope cannot be created: /proc is on proc, where only the kernel makes directories' });
    expect(thrown(() => checkOutDir('/sys/nope/x')).message).toBe('--out /sys/nope/x cannot be created: /sys is on sysfs, where only the kernel makes directories');
  });
});

describe('fleet merge refuses a damaged shard, naming the file and the fault, and writes nothing', () => {
  const raw = { agents: 6, seed: 3, runFor: '35d', installWindow: '1d', siteEvent: '2d:rotate-token-signing' };
  let shards: string[] = [];
  beforeAll(async () => {
    shards = (await Promise.all([0, 1, 2].map((i) => fakeFleet({ ...raw, shard: `${i}/3` })))).map((s) => s.dir);
  });

  /** Copies of the three shards with `damage` done to shard 1; the merge's refusal (and that --out stays unmade). */
  async function refusal(damage: (dir: string) => void): Promise<{ code: string; message: string; dir: string }> {
    const root = mkdtempSync(join(tmpdir(), 'fleet-damaged-'));
    const dirs = shards.map((d, i) => {
      cpSync(d, join(root, `s${i}`), { recursive: true });
      return join(root, `s${i}`);
    });
    damage(dirs[1]!);
    const out = join(root, 'merged');
    let refused: { code: string; message: string } | undefined;
    try {
      await mergeFleetDirs(dirs, out);
    } catch (err) {
      if (!isCcmsimError(err)) throw err;
      refused = { code: err.code, message: err.message };
    }
    expect(existsSync(out)).toBe(false);
    if (!refused) throw new Error('the merge was not refused');
    expect(refused.message).not.toMatch(/\n/);
    return { ...refused, dir: dirs[1]! };
  }
  const editJson = (path: string, edit: (o: Record<string, any>) => unknown): void => {
    const o = JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>;
    writeFileSync(path, JSON.stringify(edit(o) ?? o));
  };
  const editLines = (path: string, edit: (lines: string[]) => string[]): void => {
    writeFileSync(path, edit(readFileSync(path, 'utf8').trimEnd().split('\n')).map((l) => `${l}\n`).join(''));
  };

  it('the undamaged shards merge', async () => {
    const merged = await mergeFleetDirs(shards, join(mkdtempSync(join(tmpdir(), 'fleet-merged-')), 'm'));
    expect(merged.counts.agents).toBe(6);
  });

  it.each<[string, (dir: string) => void, (dir: string) => string]>([
    ['a count that is not a number', (d) => editJson(join(d, 'summary.json'), (o) => void (o['counts'].renewals = 'lots')), (d) => `${d}/summary.json: counts.renewals is "lots", not a count`],
    ['a missing series', (d) => editJson(join(d, 'summary.json'), (o) => void delete o['series']), (d) => `${d}/summary.json: series is missing`],
    ['a series of the wrong type', (d) => editJson(join(d, 'summary.json'), (o) => void (o['series'].renewals[3] = -1)), (d) => `${d}/summary.json: series.renewals[3] is -1, not a count`],
    [
      'a histogram that does not decode',
      (d) => editJson(join(d, 'summary.json'), (o) => void (o['latency'].all.encoded = 'abc')),
      (d) => `${d}/summary.json: latency.all.encoded is not an HdrHistogram (Invalid string. Length must be a multiple of 4)`,
    ],
    [
      'a latency max outside its histogram',
      (d) => editJson(join(d, 'summary.json'), (o) => void (o['latency'].all.max = 99)),
      (d) => `${d}/summary.json: latency.all.max is 99, but latency.all.encoded holds values up to 104`,
    ],
    ['an empty object', (d) => writeFileSync(join(d, 'summary.json'), '{}'), (d) => `${d}/summary.json: not a ccmsim fleet summary (it lacks "schema": 1, "tool": "ccmsim fleet")`],
    ['a deleted agent', (d) => editLines(join(d, 'agents.ndjson'), (l) => l.slice(1)), (d) => `${d}/agents.ndjson: 1 agents, but summary.json counts 2`],
    [
      'an agent changed after the run',
      (d) => editLines(join(d, 'agents.ndjson'), (l) => [l[0]!.replace('"retries":0', '"retries":5'), ...l.slice(1)]),
      (d) => `${d}/agents.ndjson: its SHA-256 is not the agentsDigest of summary.json (the file was changed after the run)`,
    ],
    ['an agent line of the wrong shape', (d) => editLines(join(d, 'agents.ndjson'), (l) => [l[0]!.replace('"network":"', '"network":"x'), ...l.slice(1)]), (d) => `${d}/agents.ndjson:1: network is "xinternet", not "internet" or "intranet"`],
    ["another shard's agent", (d) => editLines(join(d, 'agents.ndjson'), (l) => [l[0]!.replace('"agent":1,', '"agent":2,'), ...l.slice(1)]), (d) => `${d}/agents.ndjson:1: agent 2 belongs to shard 2 of 3, not to this directory's (1)`],
    ['an event line that is not an object', (d) => appendFileSync(join(d, 'events.ndjson'), '[]\n'), (d) => `${d}/events.ndjson:${readFileSync(join(d, 'events.ndjson'), 'utf8').trimEnd().split('\n').length}: the line is [], not an object`],
    ['an event without tags', (d) => editLines(join(d, 'events.ndjson'), (l) => [l[0]!.replace(/"tags":\{[^}]*\}/, '"tags":null'), ...l.slice(1)]), (d) => `${d}/events.ndjson:1: data.tags is null, not an object`],
  ])('%s', async (_, damage, expected) => {
    const r = await refusal(damage);
    expect(r).toEqual({ code: 'CCMSIM_FILE_UNREADABLE', message: expected(r.dir), dir: r.dir });
  });

  it('is one line on stderr and exit code 1 from the command line', async () => {
    const root = mkdtempSync(join(tmpdir(), 'fleet-damaged-cli-'));
    const dirs = shards.map((d, i) => (cpSync(d, join(root, `s${i}`), { recursive: true }), join(root, `s${i}`)));
    editJson(join(dirs[2]!, 'summary.json'), (o) => void delete o['series']);
    const io = captureIo();
    expect(await main(['fleet', 'merge', ...dirs, '--out', join(root, 'm')], io)).toBe(1);
    expect(io.stdoutText).toBe('');
    expect(io.stderrText).toBe(`ccmsim: ${dirs[2]}/summary.json: series is missing (CCMSIM_FILE_UNREADABLE)\n`);
    expect(existsSync(join(root, 'm'))).toBe(false);
  });
});
