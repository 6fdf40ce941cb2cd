import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { preferBatchScheduling } from '../../src/fleet/batch-scheduling.js';

const SCHED_BATCH = 3;
const hasChrt = process.platform === 'linux' && spawnSync('chrt', ['--version'], { stdio: 'ignore' }).status === 0;

/** The scheduling policy of every thread of this process (field 41 of /proc/<pid>/task/<tid>/stat). */
function threadPolicies(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38]);
  });
}

describe('batch scheduling for a fleet run', () => {
  it.skipIf(!hasChrt)('puts every thread of the process under SCHED_BATCH, and threads started afterwards inherit it', async () => {
    expect(preferBatchScheduling()).toBe('batch');
    expect(new Set(threadPolicies())).toEqual(new Set([SCHED_BATCH]));
    // A thread started now (as the fleet's site worker is) is a batch thread too.
    const worker = new Worker('require("node:worker_threads").parentPort.postMessage("up"); setInterval(() => {}, 1000)', { eval: true });
    await new Promise((resolve) => worker.once('message', resolve));
    try {
      expect(new Set(threadPolicies())).toEqual(new Set([SCHED_BATCH]));
    } finally {
      await worker.terminate();
    }
  });

  it.skipIf(process.platform === 'linux')('changes nothing where the policy does not exist', () => {
    expect(preferBatchScheduling()).toBe('default');
  });
});
