import { describe, it, expect, afterEach } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createBulkToken, validateBulkToken, blockBulkToken } from '../../src/site/bulk-tokens.js';
import { registerClient } from '../../src/site/registrations.js';
import { issueClientToken } from '../../src/site/client-tokens.js';
import { main as bulkTool } from '../../src/cli/bulkregtoken-sim-main.js';
import { captureIo } from '../../src/cli/io.js';
import { clientCertDer, makeSite, testKeys, type SiteFixture } from './site-fixture.js';

let fixture: SiteFixture | undefined;
afterEach(() => {
  fixture?.cleanup();
  fixture = undefined;
});

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? allFiles(path) : [path];
  });
}

describe('bulk tokens are never stored', () => {
  it('no part of any bulk token is in any file under the site directory', async () => {
    fixture = await makeSite();
    const tokens: string[] = [];
    for (let i = 0; i < 3; i++) {
      const made = await createBulkToken(fixture.site, { lifetimeMinutes: 60 + i });
      tokens.push(made.token);
      const valid = await validateBulkToken(fixture.site, made.token);
      registerClient(fixture.site, {
        smsId: `GUID:3F2504E0-4F89-41D3-9A0C-0305E82C330${i}`,
        netbiosName: `PC00${i}`,
        fqName: `PC00${i}.contoso.com`,
        signingCertDer: clientCertDer(10 + i),
        method: 'bulk',
        bulkTokenGuid: valid.guid,
      });
      await issueClientToken(fixture.site, `GUID:3F2504E0-4F89-41D3-9A0C-0305E82C330${i}`, { via: 'cmg', bulkTokenGuid: valid.guid });
    }
    blockBulkToken(fixture.site, (await validateBulkToken(fixture.site, tokens[0]!)).guid);
    // The tool, as a user runs it, on the same site.
    const io = captureIo({ env: { CCMSIM_SITE_DIR: fixture.dir } });
    expect(await bulkTool(['/new', '/lifetime', '120'], io, { keys: testKeys(0), clock: fixture.clock })).toBe(0);
    tokens.push(io.stdoutText.split('\n')[4]!);
    const parts = tokens.flatMap((t) => t.split('.'));
    expect(parts).toHaveLength(tokens.length * 3);
    const scan = (): string[] => {
      const files = allFiles(fixture!.dir);
      expect(files.some((f) => f.endsWith('site.db'))).toBe(true);
      expect(files.some((f) => f.includes('pki'))).toBe(true);
      for (const file of files) {
        const bytes = readFileSync(file);
        for (const part of parts) {
          expect(part.length).toBeGreaterThan(10);
          expect(bytes.includes(Buffer.from(part, 'latin1')), `${part.slice(0, 12)}… found in ${file}`).toBe(false);
          expect(bytes.includes(Buffer.from(part, 'utf16le')), `${part.slice(0, 12)}… (UTF-16) found in ${file}`).toBe(false);
        }
      }
      return files;
    };
    // While open (the -wal and -shm files exist), then after a checkpoint and close.
    expect(scan().some((f) => f.endsWith('site.db-wal'))).toBe(true);
    fixture.site.db.pragma('wal_checkpoint(TRUNCATE)');
    fixture.site.close();
    scan();
  });
});
