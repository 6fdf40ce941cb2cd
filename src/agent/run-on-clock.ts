/**
 * Owns driving one task to completion on whatever Clock it was given: on the real clock the task simply runs; on a
 * VirtualClock it is spawned and the clock is run in growing steps until the task settles, so its waits (retries,
 * polling) pass at once.
 */
import type { Clock, VirtualClock } from '../clock/clock.js';

export async function runOnClock<T>(clock: Clock, task: () => Promise<T>): Promise<T> {
  if (clock.kind !== 'virtual') return task();
  const vc = clock as VirtualClock;
  let settled = false;
  const promise = vc.spawn(task).finally(() => {
    settled = true;
  });
  // Step sizes grow while nothing settles so a day of retries takes few iterations; the clock ends at most one
  // step past the task's end.
  let step = 1_000;
  while (!settled) {
    await vc.advance(step);
    step = Math.min(step * 2, 60_000);
  }
  return promise;
}
