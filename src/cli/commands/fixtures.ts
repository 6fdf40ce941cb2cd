/**
 * Owns `ccmsim fixtures`: writes the reproducible scenario catalogue (client and server logs plus truth.json) for
 * log-parser developers, or lists the scenarios. The scenarios and the writing live in src/fixtures/.
 */
import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import type { CommandContext } from '../ccmsim-main.js';
import { TOOL_EXIT } from '../exit-codes.js';
import { CcmsimError } from '../../errors.js';
import { checkTimeZone, generateFixtures, resolveScenarios } from '../../fixtures/generate.js';
import { SCENARIOS } from '../../fixtures/scenarios.js';

export const FIXTURES_DEFAULT_SEED = '42';

export function fixturesCommand(y: Argv, ctx: CommandContext): Argv {
  return y.command(
    'fixtures',
    'write the log fixture catalogue: real simulated runs with their client and server logs and a truth.json each',
    (c) =>
      c
        .option('scenario', { type: 'string', array: true, requiresArg: true, describe: 'scenario name(s), or all (default: all)' })
        .option('seed', { type: 'string', requiresArg: true, default: FIXTURES_DEFAULT_SEED, describe: 'same seed and version, same bytes' })
        .option('out', { type: 'string', requiresArg: true, describe: 'where the scenario folders go (default: fixtures)' })
        .option('timezone', { type: 'string', requiresArg: true, describe: "IANA zone for every simulated machine (default: each scenario's own)" })
        .option('list', { type: 'boolean', default: false, describe: 'list the scenarios, one line each, and write nothing' }),
    async (argv) => {
      if (argv.list) {
        const width = Math.max(...SCENARIOS.map((s) => s.name.length));
        for (const s of SCENARIOS) ctx.io.stdout(`${s.name.padEnd(width)}  ${s.description}\n`);
        ctx.exitCode = TOOL_EXIT.SUCCESS;
        return;
      }
      const names = (argv.scenario as string[] | undefined)?.flatMap((n) => n.split(',')).filter((n) => n !== '') ?? ['all'];
      const seed = String(argv.seed);
      if (seed.trim() === '') throw new CcmsimError('CCMSIM_USAGE', '--seed needs a value');
      const timeZone = argv.timezone as string | undefined;
      if (timeZone !== undefined) checkTimeZone(timeZone);
      resolveScenarios(names);
      const out = resolve(ctx.io.cwd, String(argv.out ?? 'fixtures'));
      const done = await generateFixtures({ scenarios: names, seed, outDir: out, ...(timeZone !== undefined ? { timeZone } : {}) });
      for (const s of done) ctx.io.stdout(`${s.name}: ${s.files} files, ${s.records} records: ${s.outcome}\n`);
      ctx.io.stdout(`Wrote ${done.length} scenario(s) with seed ${seed} to ${out}\n`);
      ctx.exitCode = TOOL_EXIT.SUCCESS;
    },
  );
}
