// A bulk token pasted where a GUID, a number or a path belongs is refused without being echoed back: every error line
// the three tools print masks a JWT-shaped value to its first characters and length.
import { describe, it, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureIo } from '../../src/cli/io.js';
import { main as ccmsimMain } from '../../src/cli/ccmsim-main.js';
import { main as bulkMain } from '../../src/cli/bulkregtoken-sim-main.js';
import { main as ccmsetupMain } from '../../src/cli/ccmsetup-sim-main.js';

const header = Buffer.from('{"alg":"RS256","typ":"JWT","x5t":"abc"}').toString('base64url');
const payload = Buffer.from('{"SCCMTokenCategory":"SCCMClientAuthBulkRegistration","jti":"secret-part"}').toString('base64url');
const TOKEN = `${header}.${payload}.c2lnbmF0dXJlLXBhcnQtdGhhdC1tdXN0LW5vdC1sZWFr`;
const parts = TOKEN.split('.');

describe('a pasted token is never echoed back', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ccmsim-token-echo-'));
  const cases: Array<[string, (argv: string[], io: ReturnType<typeof captureIo>) => Promise<number>, string[], boolean?]> = [
    ['ccmsim site tokens block', ccmsimMain, ['site', 'tokens', 'block', TOKEN, '--site-dir', join(dir, 'site')]],
    ['ccmsim logs parse', ccmsimMain, ['logs', 'parse', TOKEN]],
    ['bulkregtoken-sim /new <token>', bulkMain, ['/new', TOKEN, '--site-dir', join(dir, 'site')]],
    ['bulkregtoken-sim /lifetime <token>', bulkMain, ['/new', '/lifetime', TOKEN, '--site-dir', join(dir, 'site')]],
    // A token-shaped /mp value parses (it is host-shaped); what --parse-only prints masks it all the same.
    ['ccmsetup-sim /mp:<token> --parse-only', ccmsetupMain, [`/mp:${TOKEN}`, '--parse-only'], true],
  ];
  for (const [what, main, argv, parses] of cases) {
    it(what, async () => {
      const io = captureIo({ cwd: dir, env: {} });
      const code = await main(argv, io);
      if (parses !== true) expect(code).not.toBe(0);
      const printed = io.stdoutText + io.stderrText;
      expect(printed).toMatch(/eyJ[A-Za-z0-9_-]{0,8}…\(\d+ chars\)/);
      for (const part of parts) expect(printed).not.toContain(part);
    });
  }
});
