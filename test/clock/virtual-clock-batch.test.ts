import { describe, it, expect } from 'vitest';
import { VirtualClock } from '../../src/clock/clock.js';

describe('VirtualClock in batch mode', () => {
  it('runs the events of one instant side by side and moves on when all of them sleep', async () => {
    const clock = new VirtualClock(0, { batch: true, tickMs: 1000 });
    const log: string[] = [];
    let inFlight = 0;
    let peak = 0;
    for (const name of ['a', 'b', 'c']) {
      clock.schedule(5000, async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        // Real work (a socket, a thread-pool job) keeps the clock from moving.
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
        log.push(`${name}@${clock.now()}`);
        await clock.sleep(2500);
        log.push(`${name}+@${clock.now()}`);
      });
    }
    await clock.run();
    expect(peak).toBe(3);
    expect(log.slice(0, 3).sort()).toEqual(['a@5000', 'b@5000', 'c@5000']);
    // 5000 + 2500 rounds up to the next tick.
    expect(log.slice(3).sort()).toEqual(['a+@8000', 'b+@8000', 'c+@8000']);
    expect(clock.largestBatch).toBe(3);
  });

  it('runs "first" events alone before the others of their instant, which they may cancel', async () => {
    const clock = new VirtualClock(0, { batch: true, tickMs: 1000 });
    const log: string[] = [];
    const cancelB = clock.schedule(3000, () => void log.push('b'));
    clock.schedule(3000, () => void log.push('c'));
    clock.schedule(
      3000,
      async () => {
        await new Promise((r) => setTimeout(r, 5));
        log.push('site');
        cancelB();
      },
      { first: true },
    );
    await clock.run();
    expect(log).toEqual(['site', 'c']);
  });

  it('publishes its time for another thread and stops at the limit', async () => {
    const clock = new VirtualClock(1000, { batch: true, tickMs: 1000 });
    const view = new Float64Array(new SharedArrayBuffer(8));
    clock.shareTime(view);
    expect(view[0]).toBe(1000);
    const seen: number[] = [];
    clock.schedule(4200, () => void seen.push(view[0]!));
    clock.schedule(90_000, () => void seen.push(-1));
    await clock.run(60_000);
    expect(seen).toEqual([5000]);
    expect(clock.now()).toBe(60_000);
    expect(view[0]).toBe(60_000);
  });

  it('starts the events of a batch one per event-loop turn, so replies are handled between starts', async () => {
    const clock = new VirtualClock(0, { batch: true, tickMs: 1000 });
    const log: string[] = [];
    let cancelC: () => void = () => undefined;
    clock.schedule(2000, () => {
      log.push('a starts');
      // A reply that arrives while the batch is still starting (a callback of the next turn).
      setImmediate(() => log.push('reply to a'));
    });
    clock.schedule(2000, () => {
      log.push('b starts');
      cancelC();
    });
    cancelC = clock.schedule(2000, () => void log.push('c starts'));
    clock.schedule(2000, () => void log.push('d starts'));
    await clock.run();
    // b, started in an earlier turn, cancelled c before c's turn came.
    expect(log).toEqual(['a starts', 'reply to a', 'b starts', 'd starts']);
    expect(clock.now()).toBe(2000);
  });

  it('keeps starting the rest of a batch when one event throws at once', async () => {
    const clock = new VirtualClock(0, { batch: true, tickMs: 1000 });
    const ran: string[] = [];
    clock.schedule(1000, () => {
      throw new Error('boom');
    });
    clock.schedule(1000, () => void ran.push('second'));
    await expect(clock.run()).rejects.toThrow('boom');
    expect(ran).toEqual(['second']);
  });
});
