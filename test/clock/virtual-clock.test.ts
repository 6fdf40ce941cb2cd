import { describe, expect, it } from 'vitest';
import { VirtualClock, RealClock, parseStartTime } from '../../src/clock/clock.js';
import { EventQueue } from '../../src/clock/event-queue.js';

const DAY = 86_400_000;

describe('EventQueue', () => {
  it('pops by time, then by scheduling order for equal times', () => {
    const q = new EventQueue<string>();
    q.push(30, 'c');
    q.push(10, 'a1');
    q.push(20, 'b');
    q.push(10, 'a2');
    q.push(5, 'z');
    const order: string[] = [];
    for (let e = q.pop(); e; e = q.pop()) order.push(e.value);
    expect(order).toEqual(['z', 'a1', 'a2', 'b', 'c']);
  });

  it('stays ordered under many random pushes', () => {
    const q = new EventQueue<number>();
    let x = 12345;
    for (let i = 0; i < 5000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      q.push(x % 1000, i);
    }
    let last = -1;
    let lastSeq = -1;
    while (q.size > 0) {
      const e = q.pop()!;
      expect(e.at > last || (e.at === last && e.seq > lastSeq)).toBe(true);
      last = e.at;
      lastSeq = e.seq;
    }
  });
});

describe('VirtualClock', () => {
  it('fast-forwards months of sleeps without waiting', async () => {
    const start = parseStartTime('2028-01-31T10:00:00Z');
    const clock = new VirtualClock(start);
    const wakes: string[] = [];
    void clock.spawn(async () => {
      for (let i = 0; i < 12; i++) {
        await clock.sleep(30 * DAY);
        wakes.push(new Date(clock.now()).toISOString().slice(0, 10));
      }
    });
    await clock.run();
    expect(wakes).toHaveLength(12);
    expect(wakes[0]).toBe('2028-03-01');
    expect(clock.now()).toBe(start + 360 * DAY);
  });

  it('does not advance while a task awaits real I/O', async () => {
    const clock = new VirtualClock(0);
    const seen: Array<[string, number]> = [];
    void clock.spawn(async () => {
      await new Promise((r) => setTimeout(r, 20)); // real I/O stand-in
      seen.push(['io-done', clock.now()]);
      await clock.sleep(1000);
      seen.push(['slept', clock.now()]);
    });
    clock.schedule(500, () => void seen.push(['event', clock.now()]));
    await clock.run();
    expect(seen).toEqual([
      ['io-done', 0],
      ['event', 500],
      ['slept', 1000],
    ]);
  });

  it('runs up to a limit and leaves later events queued', async () => {
    const clock = new VirtualClock(0);
    const fired: number[] = [];
    for (const t of [10, 20, 30]) clock.schedule(t, () => void fired.push(t));
    await clock.run(25);
    expect(fired).toEqual([10, 20]);
    expect(clock.now()).toBe(25);
    expect(clock.pending).toBe(1);
    await clock.advance(10);
    expect(fired).toEqual([10, 20, 30]);
  });

  it('cancelled events never fire', async () => {
    const clock = new VirtualClock(0);
    let fired = false;
    const cancel = clock.schedule(10, () => {
      fired = true;
    });
    cancel();
    await clock.run();
    expect(fired).toBe(false);
  });

  it('surfaces a failing event as a rejection of run()', async () => {
    const clock = new VirtualClock(0);
    clock.schedule(10, () => {
      throw new Error('boom');
    });
    await expect(clock.run()).rejects.toThrow('boom');
  });
});

describe('RealClock', () => {
  it('schedules a short wait on the wall clock', async () => {
    const clock = new RealClock();
    const before = clock.now();
    await clock.sleep(15);
    expect(clock.now() - before).toBeGreaterThanOrEqual(10);
  });
});

describe('parseStartTime', () => {
  it('takes ISO date-times, UTC when no offset is given', () => {
    expect(parseStartTime('2028-01-31T10:00:00Z')).toBe(Date.UTC(2028, 0, 31, 10));
    expect(parseStartTime('2028-01-31T10:00:00')).toBe(Date.UTC(2028, 0, 31, 10));
    expect(parseStartTime('2028-01-31T10:00:00+02:00')).toBe(Date.UTC(2028, 0, 31, 8));
    expect(parseStartTime('2028-01-31')).toBe(Date.UTC(2028, 0, 31));
    expect(parseStartTime('2028-01-31 10:00Z')).toBe(Date.UTC(2028, 0, 31, 10));
    expect(parseStartTime('2028-01-31T10:00:00.25-0130')).toBe(Date.UTC(2028, 0, 31, 11, 30, 0, 250));
    expect(() => parseStartTime('yesterday')).toThrow(/not an ISO date-time/);
  });

  it('refuses dates and times the calendar does not have, instead of rolling them over', () => {
    // Date.parse takes 2028-02-30 as 1 March and 2027-02-29 as 1 March 2027.
    for (const bad of ['2028-02-30T00:00:00Z', '2027-02-29', '2028-04-31T10:00', '2028-13-01', '2028-01-31T24:00:00Z', '2028-01-31T10:60Z', '2028-01-31T10:00+24:00', '0050-01-01']) {
      expect(() => parseStartTime(bad), bad).toThrow(/not an ISO date-time/);
    }
    expect(parseStartTime('2028-02-29T12:00:00Z')).toBe(Date.UTC(2028, 1, 29, 12));
  });
});
