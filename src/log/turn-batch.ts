/**
 * Owns writing bytes to a file descriptor completely, and a file's batch of one event-loop turn: a fleet's busy site
 * writes many lines a turn, and one write at the end of the turn costs far less than one per line. `flush` writes the
 * batch sooner (before a rollover, a day's file changes or a close).
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

  /** `fd` gives the descriptor at flush time (a writer may have closed and reopened its file meanwhile). */
  constructor(private readonly fd: () => number) {}

  add(bytes: Buffer): void {
    this.pending.push(bytes);
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.flushQueued = false;
    if (this.pending.length === 0) return;
    const bytes = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    this.pending = [];
    writeAll(this.fd(), bytes);
  }
}
