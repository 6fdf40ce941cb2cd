/**
 * Owns writing bytes to a file descriptor completely, and a file's batch of one event-loop turn: a fleet's busy site
 * writes many lines a turn, and one write at the end of the turn costs far less than one per line. `flush` writes the
 * batch sooner (before a rollover, a day's file changes or a close). A failed end-of-turn write is thrown to the next
 * `add` or `flush`.
 */
import { writeSync } from 'node:fs';

/** Writes all of `bytes` to `fd` (writeSync may write fewer). */
export function writeAll(fd: number, bytes: Buffer): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}

export class TurnBatch {
  private pending: Buffer[] = [];
  private flushQueued = false;
  /** A failed end-of-turn write (a full disk): thrown to the writer's next add or flush, which can say whose file. */
  private failure: unknown;

  /** `fd` gives the descriptor at flush time (a writer may have closed and reopened its file meanwhile). */
  constructor(private readonly fd: () => number) {}

  add(bytes: Buffer): void {
    this.throwFailure();
    this.pending.push(bytes);
    if (!this.flushQueued) {
      this.flushQueued = true;
      // Nobody can catch a throw here (it would end the process with a stack trace): keep it for the writer.
      setImmediate(() => {
        try {
          this.flush();
        } catch (err) {
          this.failure = err;
        }
      });
    }
  }

  flush(): void {
    this.throwFailure();
    this.flushQueued = false;
    if (this.pending.length === 0) return;
    const bytes = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    this.pending = [];
    writeAll(this.fd(), bytes);
  }

  private throwFailure(): void {
    if (this.failure === undefined) return;
    const err = this.failure;
    this.failure = undefined;
    throw err;
  }
}
