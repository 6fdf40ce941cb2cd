/**
 * Owns the cap on work in flight (`--concurrency`): a FIFO semaphore. Waiting here is real waiting, never a clock
 * sleep, so a waiting agent keeps the virtual clock from moving and the cap changes throughput, never outcomes.
 */
export interface Limiter {
  run<T>(fn: () => Promise<T>): Promise<T>;
  readonly inFlight: number;
  readonly peak: number;
}

export function createLimiter(max: number): Limiter {
  if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`limiter size ${max}`);
  let inFlight = 0;
  let peak = 0;
  const waiting: Array<() => void> = [];
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else inFlight--;
  };
  return {
    async run<T>(fn: () => Promise<T>): Promise<T> {
      if (inFlight < max) {
        inFlight++;
        peak = Math.max(peak, inFlight);
      } else {
        // The slot is handed over directly by release(), so inFlight stays at max.
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
      try {
        return await fn();
      } finally {
        release();
      }
    },
    get inFlight() {
      return inFlight;
    },
    get peak() {
      return peak;
    },
  };
}
