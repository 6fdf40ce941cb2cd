/**
 * Owns time. `RealClock` reads the wall clock; `VirtualClock` is a discrete-event scheduler whose time only moves
 * when every spawned task is waiting on the clock, so months pass in milliseconds and runs stay deterministic.
 * Nothing else in the project reads `Date.now()`; long waits go on the event queue, never on one long `setTimeout`.
 */
import { EventQueue } from './event-queue.js';

export interface Clock {
  readonly kind: 'real' | 'virtual';
  /** Milliseconds since the Unix epoch, on this clock. */
  now(): number;
  /** Resolves after `ms` of this clock's time. */
  sleep(ms: number): Promise<void>;
  /** Runs `fn` at `atMs` (this clock's time). Returns a cancel function. */
  schedule(atMs: number, fn: () => void | Promise<void>): () => void;
  /** Runs a task the clock keeps track of (a virtual clock does not advance while a task is busy). */
  spawn<T>(fn: () => Promise<T>): Promise<T>;
}

/** Node's timers fire at once for delays over 2^31-1 ms, so real waits are chunked. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class RealClock implements Clock {
  readonly kind = 'real' as const;

  now(): number {
    return Date.now();
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.schedule(this.now() + ms, resolve);
    });
  }

  schedule(atMs: number, fn: () => void | Promise<void>): () => void {
    let timer: NodeJS.Timeout | undefined;
    let cancelled = false;
    const arm = (): void => {
      const remaining = atMs - Date.now();
      if (remaining <= 0) {
        timer = setTimeout(() => {
          if (!cancelled) void fn();
        }, 0);
        return;
      }
      timer = setTimeout(arm, Math.min(remaining, MAX_TIMER_MS));
    };
    arm();
    return () => {
      cancelled = true;
      if (timer) clearTimeout(timer);
    };
  }

  spawn<T>(fn: () => Promise<T>): Promise<T> {
    return fn();
  }
}

type Wake = () => void | Promise<void>;
interface Entry {
  fn: Wake;
  cancelled: boolean;
  first: boolean;
}

export interface VirtualClockOptions {
  /**
   * Run every event due at the same instant together (a fleet overlaps its agents' HTTP and crypto work this way).
   * Off by default: one event at a time, so the order of I/O, and of server-log lines, follows the queue exactly.
   */
  batch?: boolean;
  /** Round event times up to a multiple of this many ms, so nearby events share an instant (batch mode). */
  tickMs?: number;
}

/**
 * A virtual clock. Time advances only inside `run()`/`runUntil()`, and only when no spawned task is busy:
 * the clock then jumps to the next queued event. Tasks wait with `sleep()`; anything else they await
 * (sockets, worker threads) keeps them counted as busy, so real I/O finishes before time moves on.
 */
export class VirtualClock implements Clock {
  readonly kind = 'virtual' as const;
  readonly batch: boolean;
  readonly tickMs: number;
  private current: number;
  private readonly queue = new EventQueue<Entry>();
  private busy = 0;
  private idleWaiters: Array<() => void> = [];
  private failure: unknown = undefined;
  /** Shared memory another thread reads the time from (`shareTime`). */
  private timeView: Float64Array | undefined;
  /** Instants at which more than one event ran together, and the largest such batch (for the bench). */
  batches = 0;
  largestBatch = 0;

  constructor(startMs: number, options: VirtualClockOptions = {}) {
    if (!Number.isFinite(startMs)) throw new RangeError('VirtualClock needs a finite start time');
    const tickMs = options.tickMs ?? 1;
    if (!(tickMs >= 1)) throw new RangeError('VirtualClock tick must be at least 1 ms');
    this.current = startMs;
    this.batch = options.batch === true;
    this.tickMs = tickMs;
  }

  now(): number {
    return this.current;
  }

  /** Number of events still queued. */
  get pending(): number {
    return this.queue.size;
  }

  /** Publishes the time in `view[0]` from now on (for a site running in a worker thread). */
  shareTime(view: Float64Array): void {
    this.timeView = view;
    view[0] = this.current;
  }

  /**
   * `first`: in batch mode the event runs before the other events of its instant, and they wait until it is asleep
   * or done (site events come before the client starts they affect).
   */
  schedule(atMs: number, fn: Wake, options: { first?: boolean } = {}): () => void {
    const entry: Entry = { fn, cancelled: false, first: options.first === true };
    const at = this.tickMs > 1 ? Math.ceil(atMs / this.tickMs) * this.tickMs : atMs;
    this.queue.push(Math.max(at, this.current), entry);
    return () => {
      entry.cancelled = true;
    };
  }

  /**
   * Called from a spawned task, the task stops counting as busy while it sleeps.
   */
  sleep(ms: number): Promise<void> {
    // A sleep outside any spawned task (a test's top level) must not touch the busy count.
    const owned = this.busy > 0;
    return new Promise<void>((resolve) => {
      this.schedule(this.current + Math.max(0, ms), () => {
        if (owned) this.busy++;
        resolve();
      });
      if (owned) this.release();
    });
  }

  spawn<T>(fn: () => Promise<T>): Promise<T> {
    this.busy++;
    let result: Promise<T>;
    try {
      result = fn();
    } catch (err) {
      result = Promise.reject(err);
    }
    return result.finally(() => this.release());
  }

  /** Runs events until none is left (or the time limit is reached) and every task has finished or is asleep. */
  async run(untilMs = Number.POSITIVE_INFINITY): Promise<void> {
    for (;;) {
      await this.idle();
      this.throwFailure();
      const next = this.queue.peek();
      if (!next || next.at > untilMs) break;
      this.setCurrent(Math.max(this.current, next.at));
      if (!this.batch) {
        this.queue.pop();
        this.dispatch([next.value]);
        continue;
      }
      const batch: Entry[] = [];
      const firsts: Entry[] = [];
      while (this.queue.peek()?.at === next.at) {
        const entry = this.queue.pop()!.value;
        if (!entry.cancelled) (entry.first ? firsts : batch).push(entry);
      }
      if (firsts.length > 0) {
        this.dispatch(firsts);
        await this.idle();
        this.throwFailure();
      }
      // A first event may have cancelled some of the others.
      const n = this.dispatch(batch);
      if (n > 1) {
        this.batches++;
        this.largestBatch = Math.max(this.largestBatch, n);
      }
    }
    if (Number.isFinite(untilMs) && this.current < untilMs) this.setCurrent(untilMs);
  }

  /** Advances by `ms`, running every event due on the way. */
  advance(ms: number): Promise<void> {
    return this.run(this.current + ms);
  }

  private setCurrent(ms: number): void {
    this.current = ms;
    if (this.timeView) this.timeView[0] = ms;
  }

  private throwFailure(): void {
    if (this.failure === undefined) return;
    const failure = this.failure;
    this.failure = undefined;
    throw failure;
  }

  /**
   * Starts the entries one per turn of the event loop: each runs until its first wait, then replies that arrived
   * meanwhile are handled before the next one starts, so a batch's requests flow while its agents are still starting
   * (starting them all in one sweep left the site idle during the sweep and the agents idle after it).
   */
  private dispatch(entries: Entry[]): number {
    const live = entries.filter((e) => !e.cancelled);
    this.busy += live.length; // all counted at once: time must not move while the rest wait for their turn
    let i = 0;
    const startNext = (): void => {
      const entry = live[i++]!;
      Promise.resolve()
        .then(() => {
          try {
            // An entry cancelled by one that started before it (in an earlier turn) does not run.
            return entry.cancelled ? undefined : entry.fn();
          } finally {
            // Queued after whatever the entry queued, so its own immediate callbacks come first.
            if (i < live.length) setImmediate(startNext);
          }
        })
        .catch((err: unknown) => {
          if (this.failure === undefined) this.failure = err;
        })
        .finally(() => this.release());
    };
    if (live.length > 0) startNext();
    return live.length;
  }

  private release(): void {
    this.busy--;
    if (this.busy <= 0) {
      this.busy = 0;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private idle(): Promise<void> {
    if (this.busy === 0) {
      // Let already-resolved continuations run (they may spawn or schedule more work).
      return new Promise((r) => setImmediate(r)).then(() => (this.busy === 0 ? undefined : this.idle()));
    }
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve)).then(() => this.idle());
  }
}

/** Elapsed real time in fractional ms from an arbitrary origin: for measuring latency, never for the simulated time. */
export function stopwatchMs(): number {
  return performance.now();
}

/** A date and time of day by its fields, in no particular zone. */
export interface CalendarDateTime {
  year: number;
  /** 1–12. */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

/** The fields of an ISO 8601 date or date-time as written; `offsetMinutes` is undefined when no zone was given. */
export interface IsoDateTime extends CalendarDateTime {
  /** East of UTC (`+02:00` is 120, `Z` is 0). */
  offsetMinutes: number | undefined;
}

const ISO_DATE_TIME_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([zZ]|[+-]\d{2}:?\d{2})?)?$/;

/**
 * An ISO 8601 date (`2028-01-31`) or date-time (`T` or a space, seconds and fraction optional, `Z` or an offset
 * optional), checked against the calendar: `Date.parse` rolls 2028-02-30 over to 1 March, which a `--start` must not do.
 */
export function parseIsoDateTime(text: string): IsoDateTime | undefined {
  const m = ISO_DATE_TIME_RE.exec(text.trim());
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [number, number, number, number, number, number];
  const millisecond = Number((m[7] ?? '0').slice(0, 3).padEnd(3, '0'));
  const zone = m[8];
  let offsetMinutes: number | undefined;
  if (zone !== undefined) {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
    if (z !== null && (Number(z[2]) > 23 || Number(z[3]) > 59)) return undefined;
    offsetMinutes = z === null ? 0 : (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3]));
  }
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  return { year, month, day, hour, minute, second, millisecond, offsetMinutes };
}

/** Parses `--start` values: an ISO 8601 date or date-time (parseIsoDateTime); without an offset it is taken as UTC. */
export function parseStartTime(value: string): number {
  const t = parseIsoDateTime(value);
  if (t === undefined) throw new RangeError(`not an ISO date-time: ${value}`);
  return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second, t.millisecond) - (t.offsetMinutes ?? 0) * 60_000;
}
