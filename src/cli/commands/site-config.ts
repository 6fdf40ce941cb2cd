/**
 * Owns `ccmsim site config`: shows the site's settings and changes the switches testers flip (passive mode, CMG
 * client setting, intranet tokens, corrupt manifest). A running `site serve` sees a change at its next request.
 */
import type { Argv } from 'yargs';
import type { CommandContext } from '../ccmsim-main.js';
import type { SiteConfig } from '../../site/site-config.js';
import { formatUtc, openSiteForCli, parseSwitch } from './site-common.js';

const onOff = (v: boolean): string => (v ? 'Yes' : 'No');

export function formatConfig(config: SiteConfig): string {
  const rows: Array<[string, string]> = [
    ['Site code', config.siteCode],
    ['Hierarchy ID (tenant)', config.tenantId],
    ['Site server mode', config.serverMode],
    ['Management point', config.mpHost],
    ['Cloud management gateway', `${config.cmgHost} (CCM_Proxy_MutualAuth/${config.cmgId})`],
    ['Enable clients to use a cloud management gateway', onOff(config.cmgEnabled)],
    ['MP issues tokens to intranet clients', onOff(config.intranetTokens)],
    ['Corrupt content manifest (testing)', onOff(config.corruptManifest)],
    ['Last changed', formatUtc(config.updatedMs)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)} : ${v}`).join('\n') + '\n';
}

export function siteConfigCommand(y: Argv, ctx: CommandContext): Argv {
  return y.command(
    'config',
    'show the site configuration, or change it',
    (c) =>
      c
        .option('passive', { type: 'string', requiresArg: true, describe: 'put the site server in passive mode (true|false)' })
        .option('cmg-enabled', { type: 'string', requiresArg: true, describe: 'client setting "Enable clients to use a cloud management gateway" (true|false)' })
        .option('intranet-tokens', { type: 'string', requiresArg: true, describe: 'the management point issues tokens to intranet clients (true|false)' })
        .option('corrupt-manifest', { type: 'string', requiresArg: true, describe: 'break the content manifest hashes, for ccmsetup return code 10 (true|false)' })
        .option('json', { type: 'boolean', default: false, describe: 'print the configuration as JSON' }),
    async (argv) => {
      const passive = parseSwitch('passive', argv.passive);
      const patch = {
        serverMode: passive === undefined ? undefined : passive ? ('passive' as const) : ('active' as const),
        cmgEnabled: parseSwitch('cmg-enabled', argv['cmg-enabled']),
        intranetTokens: parseSwitch('intranet-tokens', argv['intranet-tokens']),
        corruptManifest: parseSwitch('corrupt-manifest', argv['corrupt-manifest']),
      };
      const site = await openSiteForCli(ctx.io, argv['site-dir'] as string | undefined);
      try {
        const config = site.updateConfig(patch);
        ctx.io.stdout(argv.json ? `${JSON.stringify(config, null, 2)}\n` : formatConfig(config));
      } finally {
        site.close();
      }
    },
  );
}
