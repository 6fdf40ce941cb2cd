/**
 * Owns `ccmsim site init`: makes a site (store, PKI, configuration) with the given or documented default names.
 */
import type { Argv } from 'yargs';
import type { CommandContext } from '../ccmsim-main.js';
import { CcmsimError } from '../../errors.js';
import { initConflicts } from '../../site/site.js';
import { SITE_DEFAULTS } from '../../site/site-config.js';
import { openSiteForCli, resolveSeed, withSeedOption } from './site-common.js';
import { formatConfig } from './site-config.js';

export function siteInitCommand(y: Argv, ctx: CommandContext): Argv {
  return y.command(
    'init',
    'create the site directory, database and certificates',
    (c) =>
      withSeedOption(c)
        .option('site-code', { type: 'string', requiresArg: true, describe: `three-character site code (default ${SITE_DEFAULTS.siteCode})` })
        .option('cmg-host', { type: 'string', requiresArg: true, describe: `the CMG's host name (default ${SITE_DEFAULTS.cmgHost})` })
        .option('cmg-id', { type: 'string', requiresArg: true, describe: `the CMG's id in /CCM_Proxy_MutualAuth/<id> (default ${SITE_DEFAULTS.cmgId})` })
        .option('mp-host', { type: 'string', requiresArg: true, describe: `the management point's FQDN (default ${SITE_DEFAULTS.mpHost})` })
        .option('json', { type: 'boolean', default: false, describe: 'print the configuration as JSON' }),
    async (argv) => {
      const init = {
        siteCode: argv['site-code'],
        cmgHost: argv['cmg-host'],
        cmgId: argv['cmg-id'] === undefined ? undefined : String(argv['cmg-id']),
        mpHost: argv['mp-host'],
      };
      const seed = resolveSeed(argv.seed);
      const site = await openSiteForCli(ctx.io, argv['site-dir'] as string | undefined, { create: true, init, seed });
      try {
        const config = site.config();
        if (!site.created) {
          const conflicts = initConflicts(config, init);
          if (conflicts.length > 0) {
            throw new CcmsimError('CCMSIM_SITE_STATE', `the site in ${site.siteDir} already exists with ${conflicts.join(', ')}; use another --site-dir`);
          }
        }
        if (argv.json) {
          ctx.io.stdout(`${JSON.stringify({ siteDir: site.siteDir, created: site.created, ...config }, null, 2)}\n`);
        } else {
          ctx.io.stdout(`${site.created ? 'Created' : 'Already initialized:'} site ${config.siteCode} in ${site.siteDir}\n`);
          ctx.io.stdout(formatConfig(config));
          if (site.created) ctx.io.stdout(`Seed: ${seed} (repeat with --seed ${seed}; keys are always fresh)\n`);
        }
      } finally {
        site.close();
      }
    },
  );
}
