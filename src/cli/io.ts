/**
 * Owns the process boundary for the three front doors: where output goes, the environment, and the one-line error
 * report. Tests pass a capturing `Io` and call each front door's `main()` in-process.
 */
import { CcmsimError, isCcmsimError } from '../errors.js';
import { maskJwtsIn } from '../args/masking.js';

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  readonly isTTY: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

export function processIo(): Io {
  return {
    stdout: quietOnBrokenPipe(process.stdout),
    stderr: quietOnBrokenPipe(process.stderr),
    isTTY: Boolean(process.stdout.isTTY),
    env: process.env,
    cwd: process.cwd(),
  };
}

const guarded = new WeakSet<NodeJS.WriteStream>();

/**
 * A reader that goes away (`ccmsim logs parse x.log | head`) makes the next write fail with EPIPE, which Node raises as
 * an unhandled 'error' event with a stack trace. Instead, writing to that stream stops and the command runs to its
 * end: the exit code stays the one the command returns (a fleet run still completes and writes its --out files, so
 * its code is known), and only output nobody can read any more is dropped. Other stream errors still surface.
 */
function quietOnBrokenPipe(stream: NodeJS.WriteStream): (text: string) => void {
  if (!guarded.has(stream)) {
    guarded.add(stream);
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
    });
  }
  return (text) => {
    if (!stream.destroyed) stream.write(text);
  };
}

/** An `Io` that records what a command prints, for tests. */
export function captureIo(options: { env?: Record<string, string | undefined>; cwd?: string; isTTY?: boolean } = {}): Io & {
  out: string[];
  err: string[];
  readonly stdoutText: string;
  readonly stderrText: string;
} {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    isTTY: options.isTTY ?? false,
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    get stdoutText() {
      return out.join('');
    },
    get stderrText() {
      return err.join('');
    },
  };
}

/** One line on stderr naming the problem, never a stack trace (unless CCMSIM_DEBUG is set). */
export function reportError(io: Io, tool: string, err: unknown): void {
  if (isCcmsimError(err)) {
    const hr = err.hresult ? ` [${err.hresult}]` : '';
    io.stderr(`${tool}: ${oneLine(err.message)}${hr} (${err.code})\n`);
  } else {
    const message = err instanceof Error ? err.message : String(err);
    io.stderr(`${tool}: internal error: ${oneLine(message)} (CCMSIM_INTERNAL)\n`);
  }
  if (io.env['CCMSIM_DEBUG'] && err instanceof Error && err.stack) io.stderr(`${maskJwtsIn(err.stack)}\n`);
}

/**
 * One line, with any token in it masked: a message may quote what the user typed, and a bulk token pasted where a GUID
 * or a path belongs (`ccmsim site tokens block <token>`) must not be echoed back.
 */
function oneLine(text: string): string {
  return maskJwtsIn(text.replace(/\s*[\r\n]+\s*/g, ' ').trim());
}

export function usageError(message: string): CcmsimError {
  return new CcmsimError('CCMSIM_USAGE', message);
}
