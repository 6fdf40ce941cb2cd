/**
 * Owns the `ccmsim site` command group. Each subcommand lives in its own module and is passed in here, so
 * `site serve` (owned by the HTTP front) registers beside init/config/tokens/clients/rotate-token-signing:
 * `siteCommand([...SITE_SUBCOMMANDS, siteServe])` in ccmsim-main.ts.
 */
import type { Argv } from 'yargs';
import type { CommandContext, CommandModule } from '../ccmsim-main.js';
import { withSiteDirOption } from './site-common.js';
import { siteInitCommand } from './site-init.js';
import { siteConfigCommand } from './site-config.js';
import { siteTokensCommand } from './site-tokens.js';
import { siteClientsCommand } from './site-clients.js';
import { siteRotateTokenSigningCommand } from './site-rotate-token-signing.js';

/** A `ccmsim site` subcommand: adds itself to the group's yargs. */
export type SiteSubcommand = (y: Argv, ctx: CommandContext) => Argv;

export const SITE_SUBCOMMANDS: readonly SiteSubcommand[] = [
  siteInitCommand,
  siteConfigCommand,
  siteTokensCommand,
  siteClientsCommand,
  siteRotateTokenSigningCommand,
];

export function siteCommand(subcommands: readonly SiteSubcommand[] = SITE_SUBCOMMANDS): CommandModule {
  return (y, ctx) =>
    y.command('site', 'the simulated site: init, config, tokens, clients, token-signing rotation', (sy) => {
      let g: Argv = withSiteDirOption(sy) as Argv;
      for (const add of subcommands) g = add(g, ctx);
      return g.demandCommand(1, 'name a site subcommand (ccmsim site --help lists them)');
    });
}
