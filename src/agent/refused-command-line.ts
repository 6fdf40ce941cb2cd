/**
 * Owns the ccmsetup.log of a run whose command line is refused before anything starts: the start-up lines, the command
 * line, why it was refused, and the exit line a tester looks for last (`CcmSetup is exiting with return code 6`,
 * cli.md §8). No site is contacted and nothing else on the machine changes. Client logs mask any token themselves.
 */
import type { Clock } from '../clock/clock.js';
import type { Random } from '../clock/random.js';
import { HRESULT } from '../errors.js';
import { openClientLogs } from './client-logs.js';
import { bootstrapCommandLine, LAUNCH_FOLDER, LINES } from './log-catalog.js';
import { RETURN_CODE } from './outcome.js';

export interface RefusedCommandLine {
  machineDir: string;
  timeZone: string;
  clock: Clock;
  random: Random;
  /** The command line with its secrets masked (`maskedArgumentLine`), starting with `ccmsetup.exe`. */
  maskedCommandLine: string;
  /** Why it was refused (the one line the CLI prints). */
  reason: string;
}

export function logRefusedCommandLine(o: RefusedCommandLine): void {
  const logs = openClientLogs({ machineDir: o.machineDir, timeZone: o.timeZone, clock: o.clock });
  const thread = o.random.int(300, 4000) * 4;
  try {
    logs.write(LINES.started(o.random.int(300, 9000) * 4), thread);
    logs.write(LINES.launchFrom(LAUNCH_FOLDER), thread);
    logs.write(LINES.version(), thread);
    logs.write(LINES.commandLine(bootstrapCommandLine(o.maskedCommandLine)), thread);
    logs.write(LINES.invalidCommandLine(o.reason), thread);
    logs.write(LINES.failedWith(HRESULT.E_INVALIDARG), thread);
    logs.write(LINES.exiting(RETURN_CODE.ERROR), thread);
  } finally {
    logs.close();
  }
}
