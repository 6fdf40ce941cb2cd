// A turn's batch is written from setImmediate, where nobody could catch a throw: a failed write (a full disk) must
// reach the writer at its next add or flush instead of ending the process with a stack trace.
import { describe, expect, it } from 'vitest';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TurnBatch } from '../../src/log/turn-batch.js';

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('TurnBatch', () => {
  it("writes a turn's bytes in one go at the end of the turn", async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'turn-batch-')), 'a.log');
    const fd = openSync(path, 'a');
    const batch = new TurnBatch(() => fd);
    batch.add(Buffer.from('one '));
    batch.add(Buffer.from('two'));
    expect(readFileSync(path, 'utf8')).toBe('');
    await turn();
    expect(readFileSync(path, 'utf8')).toBe('one two');
    closeSync(fd);
  });

  it('keeps a failed end-of-turn write for the next add, once, instead of throwing where nobody catches', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'turn-batch-')), 'b.log');
    const fd = openSync(path, 'a');
    closeSync(fd); // a descriptor that no longer writes: EBADF, as a full disk gives ENOSPC
    const batch = new TurnBatch(() => fd);
    batch.add(Buffer.from('lost'));
    await turn();
    expect(() => batch.add(Buffer.from('next'))).toThrow(expect.objectContaining({ code: 'EBADF' }));
    // Reported once: the writer decides what comes next (the refused 'next' was not queued).
    expect(() => batch.flush()).not.toThrow();
  });
});
