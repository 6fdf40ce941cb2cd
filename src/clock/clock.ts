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

/**
 * A virtual clock. Time advances only inside `run()`/`runUntil()`, and only when no spawned task is busy:
 * the clock then jumps to the next queued event. Tasks wait with `sleep()`; anything else they await
 * (sockets, worker threads) keeps them counted as busy, so real I/O finishes before time moves on.
 */
export class VirtualClock implements Clock {
  readonly kind = 'virtual' as const;
  private current: number;
  private readonly queue = new EventQueue<{ fn: Wake; cancelled: boolean }>();
  private busy = 0;
  private idleWaiters: Array<() => void> = [];
  private failure: unknown = undefined;

  constructor(startMs: number) {
    if (!Number.isFinite(startMs)) throw new RangeError('VirtualClock needs a finite start time');
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  /** Number of events still queued. */
  get pending(): number {
    return this.queue.size;
  }

  schedule(atMs: number, fn: Wake): () => void {
    const entry = { fn, cancelled: false };
    this.queue.push(Math.max(atMs, this.current), entry);
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
      if (this.failure !== undefined) {
        const failure = this.failure;
        this.failure = undefined;
        throw failure;
      }
      const next = this.queue.peek();
      if (!next || next.at > untilMs) break;
      this.queue.pop();
      if (next.value.cancelled) continue;
      this.current = Math.max(this.current, next.at);
      this.busy++;
      Promise.resolve()
        .then(() => next.value.fn())
        .catch((err: unknown) => {
          if (this.failure === undefined) this.failure = err;
        })
        .finally(() => this.release());
    }
    if (Number.isFinite(untilMs) && this.current < untilMs) this.current = untilMs;
  }

  /** Advances by `ms`, running every event due on the way. */
  advance(ms: number): Promise<void> {
    return this.run(this.current + ms);
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

/** Parses `--start` values: an ISO 8601 date-time; without an offset it is taken as UTC. */
export function parseStartTime(value: string): number {
  const withZone = /([zZ]|[+-]\d\d:?\d\d)$/.test(value) || !/T/.test(value) ? value : `${value}Z`;
  const ms = Date.parse(withZone.length === 10 ? `${withZone}T00:00:00Z` : withZone);
  if (!Number.isFinite(ms)) throw new RangeError(`not an ISO date-time: ${value}`);
  return ms;
}
