/**
 * Owns `ccmsim site tokens list|block|unblock`: the console's Administration > Security > Certificates node, which
 * lists the site's certificates and bulk registration tokens and blocks or unblocks a token by its GUID.
 */
import type { Argv } from 'yargs';
import type { CommandContext } from '../ccmsim-main.js';
import { blockBulkToken, bulkTokenStatus, listBulkTokens, unblockBulkToken, type BulkTokenRecord } from '../../site/bulk-tokens.js';
import type { CertificateRole } from '../../site/site-pki.js';
import { formatTable, formatUtc, openSiteForCli } from './site-common.js';

const CERT_TYPES: Record<CertificateRole, string> = {
  'issuing-root': 'SMS Issuing',
  'token-signing': 'SMS Token Signing',
  'cmg-server': 'CMG Server Authentication',
};

export const BULK_TOKEN_TYPE = 'Bulk Registration Token';

export interface CertificatesNodeRow {
  type: string;
  /** A bulk token's GUID or a certificate's thumbprint. */
  id: string;
  created: string;
  validUntil: string;
  status: 'Active' | 'Blocked' | 'Expired' | 'Retired';
  lifetimeMinutes?: number;
  blockChanged?: string;
}

function tokenRow(t: BulkTokenRecord, nowMs: number): CertificatesNodeRow {
  const row: CertificatesNodeRow = {
    type: BULK_TOKEN_TYPE,
    id: t.guid,
    created: formatUtc(t.createdMs),
    validUntil: formatUtc(t.validUntilMs),
    status: bulkTokenStatus(t, nowMs),
    lifetimeMinutes: t.lifetimeMinutes,
  };
  if (t.blockChangedMs !== undefined) row.blockChanged = formatUtc(t.blockChangedMs);
  return row;
}

export function siteTokensCommand(y: Argv, ctx: CommandContext): Argv {
  return y.command('tokens', 'bulk registration tokens and site certificates (the console Certificates node)', (t) =>
    t
      .command(
        'list',
        'list site certificates and bulk registration tokens: Type, GUID, created, valid until, status',
        (c) => c.option('json', { type: 'boolean', default: false, describe: 'print JSON' }),
        async (argv) => {
          const site = await openSiteForCli(ctx.io, argv['site-dir'] as string | undefined);
          try {
            const nowMs = site.clock.now();
            const rows: CertificatesNodeRow[] = [
              ...site.certificates().map((c) => ({
                type: CERT_TYPES[c.role],
                id: c.thumbprint,
                created: formatUtc(c.createdMs),
                validUntil: formatUtc(c.notAfterMs),
                status: c.status === 'retired' ? ('Retired' as const) : nowMs > c.notAfterMs ? ('Expired' as const) : ('Active' as const),
              })),
              ...listBulkTokens(site).map((b) => tokenRow(b, nowMs)),
            ];
            if (argv.json) {
              ctx.io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
            } else {
              ctx.io.stdout(
                formatTable(
                  ['Type', 'GUID / Thumbprint', 'Created', 'Valid until', 'Status'],
                  rows.map((r) => [r.type, r.id, r.created, r.validUntil, r.status]),
                ),
              );
            }
          } finally {
            site.close();
          }
        },
      )
      .command(
        'block <guid>',
        'block a bulk registration token: clients presenting it are refused',
        (c) => c.positional('guid', { type: 'string', demandOption: true, describe: 'the tracking GUID bulkregtoken-sim printed' }),
        async (argv) => {
          const site = await openSiteForCli(ctx.io, argv['site-dir'] as string | undefined);
          try {
            const t = blockBulkToken(site, String(argv.guid));
            ctx.io.stdout(`Blocked bulk registration token ${t.guid}.\n`);
          } finally {
            site.close();
          }
        },
      )
      .command(
        'unblock <guid>',
        'unblock a previously blocked bulk registration token',
        (c) => c.positional('guid', { type: 'string', demandOption: true, describe: 'the tracking GUID' }),
        async (argv) => {
          const site = await openSiteForCli(ctx.io, argv['site-dir'] as string | undefined);
          try {
            const t = unblockBulkToken(site, String(argv.guid));
            ctx.io.stdout(`Unblocked bulk registration token ${t.guid} (${bulkTokenStatus(t, site.clock.now())}).\n`);
          } finally {
            site.close();
          }
        },
      )
      .demandCommand(1, 'name a tokens subcommand: list, block or unblock'),
  );
}
