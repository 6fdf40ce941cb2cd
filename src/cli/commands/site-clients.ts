/**
 * Owns `ccmsim site clients list`: the registered clients, how they registered, and their current token.
 */
import type { Argv } from 'yargs';
import type { CommandContext } from '../ccmsim-main.js';
import { listClients } from '../../site/registrations.js';
import { isClientTokenLive, listClientTokens } from '../../site/client-tokens.js';
import { formatTable, formatUtc, openSiteForCli } from './site-common.js';

export function siteClientsCommand(y: Argv, ctx: CommandContext): Argv {
  return y.command('clients', 'registered clients', (t) =>
    t
      .command(
        'list',
        'list registered clients',
        (c) => c.option('json', { type: 'boolean', default: false, describe: 'print JSON' }),
        async (argv) => {
          const site = await openSiteForCli(ctx.io, argv['site-dir'] as string | undefined);
          try {
            const nowMs = site.clock.now();
            const tokens = listClientTokens(site);
            // A token signed by a retired SMS Token Signing certificate is refused everywhere but the renewal path.
            const retiredSigners = new Set(site.certificates().filter((c) => c.role === 'token-signing' && c.status === 'retired').map((c) => c.thumbprint));
            const rows = listClients(site).map((c) => {
              const current = tokens.filter((k) => k.smsId === c.smsId && k.revokedMs === undefined).at(-1);
              return {
                smsId: c.smsId,
                netbiosName: c.netbiosName,
                fqName: c.fqName,
                hardwareId: c.hardwareId ?? null,
                signingThumbprint: c.signingThumbprint,
                approval: c.approval,
                registeredVia: c.method === 'bulk' ? `bulk token ${c.bulkTokenGuid}` : 'intranet',
                registered: formatUtc(c.registeredMs),
                confirmed: c.confirmedMs === undefined ? null : formatUtc(c.confirmedMs),
                updated: formatUtc(c.updatedMs),
                tokenExpires: current ? formatUtc(current.expiresMs) : null,
                tokenStatus: !current ? 'None' : !isClientTokenLive(current, nowMs) ? 'Expired' : retiredSigners.has(current.signedBy) ? 'Signer retired' : 'Valid',
              };
            });
            if (argv.json) {
              ctx.io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
            } else {
              ctx.io.stdout(
                formatTable(
                  ['SMS GUID', 'Name', 'Registered via', 'Registered', 'Approval', 'Token'],
                  rows.map((r) => [
                    r.smsId,
                    r.netbiosName,
                    r.registeredVia,
                    r.registered,
                    r.approval,
                    r.tokenExpires ? `${r.tokenStatus} until ${r.tokenExpires}` : r.tokenStatus,
                  ]),
                ),
              );
            }
          } finally {
            site.close();
          }
        },
      )
      .demandCommand(1, 'name a clients subcommand: list'),
  );
}
