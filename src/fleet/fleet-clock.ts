/**
 * Owns the fleet's virtual clock: the same `Clock` contract and the same event queue (src/clock/event-queue.ts, a
 * binary heap keyed by time and sequence) as `VirtualClock`, with one difference that a fleet needs: every event due
 * at the same instant is dispatched at once, and time moves on when all of them are asleep or done. `VirtualClock`
 * runs one event at a time, which serialises thousands of agents behind each other's sockets; here agents due at the
 * same instant overlap their HTTP and crypto work, up to --concurrency.
 *
 * Event times are rounded up to the tick (`--tick`, default 1 s), so agents whose events fall in the same tick share
 * an instant. Rounding is a function of the time alone, so outcomes stay deterministic; only the interleaving of
 * concurrent agents' requests at the site varies, and no agent's outcome depends on it.
 */
import type { Clock } from '../clock/clock.js';
import { EventQueue } from '../clock/event-queue.js';

type Wake = () => void | Promise<void>;
interface Entry {
  fn: Wake;
  cancelled: boolean;
  first: boolean;
}

export class FleetClock implements Clock {
  readonly kind = 'virtual' as const;
  private current: number;
  private readonly queue = new EventQueue<Entry>();
  private busy = 0;
  private idleWaiters: Array<() => void> = [];
  private failure: unknown = undefined;
  /** Instants at which more than one event ran together, and the largest such batch (for the bench). */
  batches = 0;
  largestBatch = 0;

  /** Shared memory a site in a worker thread reads the time from (see site-worker.ts). */
  private timeView: Float64Array | undefined;

  constructor(
    startMs: number,
    readonly tickMs = 1000,
  ) {
    if (!Number.isFinite(startMs)) throw new RangeError('FleetClock needs a finite start time');
    if (!(tickMs >= 1)) throw new RangeError('FleetClock tick must be at least 1 ms');
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  /** Publishes the time in `view[0]` from now on (for a site running in another thread). */
  shareTime(view: Float64Array): void {
    this.timeView = view;
    view[0] = this.current;
  }

  private setCurrent(ms: number): void {
    this.current = ms;
    if (this.timeView) this.timeView[0] = ms;
  }

  get pending(): number {
    return this.queue.size;
  }

  private quantize(atMs: number): number {
    return Math.ceil(atMs / this.tickMs) * this.tickMs;
  }

  /**
   * `first`: the event runs before the other events of its instant, and they wait until it is asleep or done (site
   * events come before the client starts they affect).
   */
  schedule(atMs: number, fn: Wake, options: { first?: boolean } = {}): () => void {
    const entry: Entry = { fn, cancelled: false, first: options.first === true };
    this.queue.push(Math.max(this.quantize(atMs), this.current), entry);
    return () => {
      entry.cancelled = true;
    };
  }

  sleep(ms: number): Promise<void> {
    // As VirtualClock: a sleeping task stops counting as busy; a sleep outside any task leaves the count alone.
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

  /** Runs events until none is left before `untilMs`; all events of one instant run together. */
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
      const at = next.at;
      this.setCurrent(Math.max(this.current, at));
      const batch: Entry[] = [];
      const firsts: Entry[] = [];
      while (this.queue.peek()?.at === at) {
        const ev = this.queue.pop()!;
        if (ev.value.cancelled) continue;
        (ev.value.first ? firsts : batch).push(ev.value);
      }
      if (firsts.length > 0) {
        this.dispatch(firsts);
        await this.idle();
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

  private dispatch(entries: Entry[]): number {
    let n = 0;
    for (const entry of entries) {
      if (entry.cancelled) continue;
      n++;
      this.busy++;
      Promise.resolve()
        .then(() => entry.fn())
        .catch((err: unknown) => {
          if (this.failure === undefined) this.failure = err;
        })
        .finally(() => this.release());
    }
    return n;
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
      return new Promise((r) => setImmediate(r)).then(() => (this.busy === 0 ? undefined : this.idle()));
    }
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve)).then(() => this.idle());
  }
}
