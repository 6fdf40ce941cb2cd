/**
 * Owns how an agent writes its three logs: catalog lines (log-catalog.ts) stamped with the clock's time and the
 * simulated process's thread, through a shared `CmLogSet` (one light sink for many agents) or one of its own.
 */
import type { Clock } from '../clock/clock.js';
import { openCmLogSet, type CmLogOverrides, type CmLogSet } from '../log/cm-log-set.js';
import type { CmLogLevel } from '../log/winston-format.js';
import { relative } from 'node:path';
import { maskJwtsIn } from '../args/masking.js';
import type { CatalogLine, ClientLogName } from './log-catalog.js';
import { machinePaths } from './machine-dir.js';

export interface ClientLogSettings {
  /** CCMLOGMAXSIZE, CCMLOGMAXHISTORY, CCMLOGLEVEL, CCMENABLELOGGING: they govern the CCM logs, not ccmsetup.log. */
  maxSize?: number;
  maxHistory?: number;
  level?: CmLogLevel;
  enabled?: boolean;
}

/** The CmLog options a CCM log takes from the client's settings (only those set; the rest keep CmLog's defaults). */
export function ccmLogOverrides(s: ClientLogSettings): CmLogOverrides {
  return {
    ...(s.maxSize !== undefined ? { maxSize: s.maxSize } : {}),
    ...(s.maxHistory !== undefined ? { maxHistory: s.maxHistory } : {}),
    ...(s.level !== undefined ? { level: s.level } : {}),
    ...(s.enabled !== undefined ? { enabled: s.enabled } : {}),
  };
}

export interface ClientLogs {
  /** Writes one catalog line on `thread`. */
  write(line: CatalogLine, thread: number): void;
  /** Absolute paths of the logs written so far. */
  readonly written: string[];
  close(): void;
}

export interface ClientLogsOptions {
  machineDir: string;
  timeZone: string;
  clock: Clock;
  settings?: ClientLogSettings;
  /**
   * On a virtual clock many lines fall on the same millisecond; a few milliseconds of jitter per line (never going
   * back in time) make the logs look like a real process wrote them. Not used on the real clock.
   */
  jitterMs?: () => number;
  /** A shared sink whose `root` contains `machineDir` (its owner closes it); without one the agent opens and closes its own. */
  shared?: { set: CmLogSet; root: string };
}

export function openClientLogs(options: ClientLogsOptions): ClientLogs {
  const own = options.shared === undefined;
  const set = options.shared?.set ?? openCmLogSet({ root: options.machineDir, format: 'cmtrace', timeZone: options.timeZone });
  const root = options.shared?.root ?? options.machineDir;
  const paths = machinePaths(options.machineDir);
  const files: Record<ClientLogName, string> = {
    ccmsetup: paths.ccmsetupLog,
    ClientIDManagerStartup: paths.clientIdLog,
    ClientLocation: paths.clientLocationLog,
  };
  // Relative names worked out once: a fleet writes a few dozen lines per install through the shared set.
  const rels: Record<ClientLogName, string> = {
    ccmsetup: relative(root, files.ccmsetup),
    ClientIDManagerStartup: relative(root, files.ClientIDManagerStartup),
    ClientLocation: relative(root, files.ClientLocation),
  };
  const written = new Set<string>();
  const s = options.settings ?? {};
  let last = Number.NEGATIVE_INFINITY;
  const stamp = (): number => {
    const now = options.clock.now();
    if (options.clock.kind !== 'virtual' || !options.jitterMs) return now;
    last = Math.max(now, last + options.jitterMs());
    return last;
  };
  // Per log, worked out once: the options its first line opens it with (the CCM logs follow the client's settings).
  const ccmLog: CmLogOverrides = { format: 'cmtrace', timeZone: options.timeZone, ...ccmLogOverrides(s) };
  const overrides: Record<ClientLogName, CmLogOverrides> = {
    ccmsetup: { format: 'cmtrace', timeZone: options.timeZone },
    ClientIDManagerStartup: ccmLog,
    ClientLocation: ccmLog,
  };
  return {
    write(line, thread) {
      const abs = files[line.log];
      const log = set.get(rels[line.log], overrides[line.log]);
      if (!log.enabled) {
        // Dropped unmasked and unformatted (a fleet's agents without logs write thousands of lines), but the line
        // still takes its jitter, so the lines of the agent's other logs keep the times they have with it enabled.
        stamp();
        written.add(abs);
        return;
      }
      log.write({
        // A safety net under the catalog's own masking: no JWT-shaped text reaches a client log, wherever it came from
        // (a token pasted as an /mp value ends up in URLs and host names).
        message: maskJwtsIn(line.message),
        component: line.component,
        type: line.type,
        thread,
        file: line.file,
        time: stamp(),
        context: '',
      });
      written.add(abs);
    },
    get written() {
      return [...written];
    },
    close() {
      if (own) {
        set.closeAll();
        return;
      }
      // A shared set keeps the log objects; the run's file descriptors are released until the agent writes again.
      for (const abs of written) set.get(relative(root, abs)).suspend();
    },
  };
}

