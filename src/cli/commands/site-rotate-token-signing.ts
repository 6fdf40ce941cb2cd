/**
 * Owns `ccmsim site rotate-token-signing`: a new SMS Token Signing certificate; the old one is retired, so client
 * tokens it signed are refused until the client gets a new token (docs/site.md).
 */
import type { Argv } from 'yargs';
import type { CommandContext } from '../ccmsim-main.js';
import { openSiteForCli } from './site-common.js';

export function siteRotateTokenSigningCommand(y: Argv, ctx: CommandContext): Argv {
  return y.command(
    'rotate-token-signing',
    'make a new SMS Token Signing certificate and retire the current one',
    (c) => c,
    async (argv) => {
      const site = await openSiteForCli(ctx.io, argv['site-dir'] as string | undefined);
      try {
        const { retired, active } = await site.rotateTokenSigning();
        ctx.io.stdout(`Retired SMS Token Signing certificate ${retired.thumbprint}.\n`);
        ctx.io.stdout(`New SMS Token Signing certificate ${active.thumbprint}.\n`);
      } finally {
        site.close();
      }
    },
  );
}
