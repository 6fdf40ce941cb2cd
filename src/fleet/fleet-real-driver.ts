/**
 * Owns the real fleet driver: each agent runs the agent engineer's `runCcmsetup` (the same flow as `ccmsetup-sim`,
 * with Microsoft's documented command lines: the CMG and a bulk token on the internet, the MP on the intranet), then
 * the lifecycle's `RealClientRuntime` for its client starts. Agents share one keep-alive transport to the site; each
 * agent's requests go through a thin wrapper that waits for a --concurrency slot, stamps `X-CCMSim-Fault-Key`
 * (agent.attempt) and times the round trip.
 */
import { join } from 'node:path';
import type { Clock, VirtualClock } from '../clock/clock.js';
import { Random } from '../clock/random.js';
import { CcmsimError } from '../errors.js';
import type { KeyProvider } from '../crypto/key-provider.js';
import { openCmLogSet, type CmLogSet } from '../log/cm-log-set.js';
import { runCcmsetup } from '../agent/ccmsetup-flow.js';
import { parseCcmsetupCommandLine } from '../agent/command-line.js';
import { createCcmSiteClient } from '../agent/ccm-site-client.js';
import type { SiteTransport } from '../agent/site-transport.js';
import { RealClientRuntime } from '../agent/lifecycle/real-runtime.js';
import { openLifecycleLog } from '../agent/lifecycle/lifecycle-log.js';
import { DAY_MS, MINUTE_MS } from '../agent/lifecycle/duration.js';
import type { FleetAgentDriver, FleetServices, SiteCounts } from './fleet-driver.js';
import { createFaultHook, FAULT_KEY_HEADER, faultKey, type FaultKind } from './fleet-faults.js';
import type { FleetKeys } from './fleet-keys.js';
import { requestOpOf } from './fleet-metrics.js';
import type { FleetOptions } from './fleet-options.js';
import { startFleetSite, type FleetSite } from './fleet-site.js';
import { localBackend, type SiteBackend } from './site-backend.js';
import { siteWorkerAvailable, startSiteWorker } from './site-thread.js';
import type { RsaKeyPair } from '../crypto/rsa-keys.js';

export interface RealDriverOptions {
  options: FleetOptions;
  clock: Clock;
  services: FleetServices;
  keys: FleetKeys;
  /** Keys for a new embedded site (default: fresh); tests pass the committed test keys. */
  siteKeys?: KeyProvider;
  /** The same keys as pairs, for a site in a worker thread (a KeyProvider cannot cross threads). */
  siteKeyPairs?: RsaKeyPair[];
  /** Run the embedded site in a worker thread (the second core); needs the built JavaScript and a batching VirtualClock. */
  siteThread?: boolean;
  /** For --site-url with internet agents: the bulk token to install with. */
  regtoken?: string;
  /** For --site-url (required then): the site already connected (runFleetToDir reads its clock first); the driver closes it. */
  remoteSite?: FleetSite;
}

/** A bulk token is valid 7 days at most; one is made per 5-day period of arrivals so each has 2 days to spare. */
const BULK_PERIOD_MS = 5 * DAY_MS;
const BULK_MAX_MINUTES = 10_080;

/** Drops the disabled logs of finished agents now and then so the quiet sink does not grow with the fleet. */
const QUIET_LOGS_CAP = 2000;

export async function createRealDriver(d: RealDriverOptions): Promise<FleetAgentDriver> {
  const o = d.options;
  const clock = d.clock;
  const machinesDir = join(o.out, 'machines');
  let site: FleetSite;
  let backend: SiteBackend | undefined;
  if (o.siteUrl !== undefined) {
    // runFleetToDir connects (and checks --regtoken) first: it must read the site's clock before the run's clock exists.
    if (d.remoteSite === undefined) throw new CcmsimError('CCMSIM_INTERNAL', 'a --site-url run connects to its site before its driver starts');
    site = d.remoteSite;
  } else if (d.siteThread === true && siteWorkerAvailable() && 'shareTime' in clock) {
    const worker = await startSiteWorker({
      siteDir: join(o.out, 'site'),
      seed: o.seed,
      startMs: o.startMs,
      faults: o.faults,
      timeZone: o.timeZone,
      clock: clock as VirtualClock,
      siteKeys: d.siteKeyPairs,
    });
    site = worker;
    backend = worker.backend;
  } else {
    site = await startFleetSite({
      siteDir: join(o.out, 'site'),
      clock,
      random: new Random(o.seed),
      keys: d.siteKeys,
      faults: o.faults.active ? createFaultHook(o.faults, o.seed, clock, o.startMs, (kind, agent) => d.services.fault(kind, agent)) : undefined,
      timeZone: o.timeZone,
    });
    backend = localBackend(site.site!);
  }
  const logSet: CmLogSet = openCmLogSet({ root: machinesDir, format: 'cmtrace', timeZone: o.timeZone });
  let quietSet: CmLogSet = openCmLogSet({ root: machinesDir, format: 'cmtrace', timeZone: o.timeZone, enabled: false });

  const bulk = new Map<number, Promise<{ guid: string; token: string }>>();
  /** Once the bulk token is blocked (a site event), installs keep using the blocked one: the admin handed it out. */
  let blocked: Promise<{ guid: string; token: string }> | undefined;
  const bulkTokenFor = (period: number): Promise<{ guid: string; token: string }> => {
    let p = bulk.get(period);
    if (!p) {
      // The token's expiry is pinned to its period (not to whoever asked first), within a minute.
      const elapsedMin = Math.max(0, Math.floor((clock.now() - (o.startMs + period * BULK_PERIOD_MS)) / MINUTE_MS));
      p = backend!.createBulkToken(BULK_MAX_MINUTES - elapsedMin);
      bulk.set(period, p);
    }
    return p;
  };
  const bulkTokenNow = async (): Promise<string> => {
    if (d.regtoken !== undefined) return d.regtoken;
    if (blocked) return (await blocked).token;
    return (await bulkTokenFor(Math.floor((clock.now() - o.startMs) / BULK_PERIOD_MS))).token;
  };


  const cmg = site.siteNames.cmgUrl.replace(/^https:\/\//i, '');
  const mpHost = new URL(site.siteNames.mpUrl).hostname;
  // The command lines name the site's code, as an admin copies it from the console: the remote site publishes it
  // at /ccmsim/site (SMSSITECODE=AUTO is not allowed with CCMHOSTNAME).
  const siteCode = site.remote?.siteCode ?? backend?.siteCode ?? 'AUTO';

  /** The shared transport, seen through one agent: concurrency slot, fault key, timing. */
  const agentTransport = (agent: number): SiteTransport => {
    let attempt = 0;
    const shared = site.transport;
    return {
      endpoints: shared.endpoints,
      request(url, init) {
        const n = ++attempt;
        return d.services.limit(async () => {
          const t0 = d.services.wallNow();
          const op = requestOpOf(url);
          try {
            const reply = await shared.request(url, { ...init, headers: { ...(init.headers ?? {}), [FAULT_KEY_HEADER]: faultKey(agent, n) } });
            d.services.request(agent, op, (d.services.wallNow() - t0) * 1000, reply.status >= 200 && reply.status < 300);
            return reply;
          } catch (err) {
            d.services.request(agent, op, (d.services.wallNow() - t0) * 1000, false);
            throw err;
          }
        });
      },
      close: async () => undefined,
    };
  };

  return {
    description:
      `real agents (ccmsetup flow and client lifecycle of ccmsetup-sim) against ${o.siteUrl ?? `the embedded site${site.site === undefined ? ' (in a worker thread)' : ''}`}` +
      `${o.faults.active ? ' with injected faults' : ''}`,

    async install(spec, ctx) {
      const machineDir = join(machinesDir, spec.name);
      const retry = `/retry:${o.retryMinutes}`;
      const line =
        spec.network === 'internet'
          ? `/mp:https://${cmg} CCMHOSTNAME=${cmg} SMSSiteCode=${siteCode} ${retry} /regtoken:${await bulkTokenNow()}`
          : `/mp:${mpHost} SMSSITECODE=${siteCode} ${retry}`;
      const commandLine = parseCcmsetupCommandLine(line);
      const client = createCcmSiteClient(agentTransport(spec.index), clock);
      const logs = spec.writeLogs ? logSet : quietSet;
      const outcome = await runCcmsetup({
        commandLine,
        machineDir,
        computerName: spec.name,
        network: spec.network,
        timeZone: spec.timeZone,
        clock,
        random: spec.random,
        keys: d.keys.forAgent(spec.index),
        site: client,
        siteNames: site.siteNames,
        logs: { set: logs, root: machinesDir },
        onEvent: (e) => {
          if (e.kind === 'retry') ctx.retry(e.reason);
        },
      });
      if (!spec.writeLogs && quietSet.paths.length > QUIET_LOGS_CAP) {
        quietSet.closeAll();
        quietSet = openCmLogSet({ root: machinesDir, format: 'cmtrace', timeZone: o.timeZone, enabled: false });
      }
      if (outcome.exitCode !== 0 || outcome.registration !== 'registered') {
        return { result: { ok: false, via: outcome.via, failure: outcome.error?.code ?? `result:${outcome.result}`, token: undefined }, client: undefined };
      }
      const runtime = await RealClientRuntime.load({
        machineDir,
        timeZone: spec.timeZone,
        clock,
        site: client,
        siteNames: site.siteNames,
        ...(spec.writeLogs
          ? { log: openLifecycleLog({ machineDir, timeZone: spec.timeZone, clock, thread: spec.random.int(300, 4000) * 4, shared: { set: logSet, root: machinesDir } }) }
          : {}),
      });
      return {
        result: { ok: true, via: outcome.via, failure: undefined, token: runtime.state().token },
        client: {
          token: () => runtime.state().token,
          start: (ctx2) => runtime.start(ctx2),
        },
      };
    },

    async siteEvent(action) {
      if (!backend) return 'no embedded site';
      if (action.kind === 'rotate-token-signing') {
        // The thumbprints stay out: a new key differs from run to run, and events.ndjson must not.
        await backend.apply(action, clock.now());
        return 'SMS Token Signing certificate rotated: the active one retired, a new one active';
      }
      if (action.kind !== 'block-bulk-token') return backend.apply(action, clock.now());
      blocked ??= bulkTokenFor(Math.floor((clock.now() - o.startMs) / BULK_PERIOD_MS));
      const all = await Promise.all(bulk.values());
      for (const t of all) await backend.blockBulkToken(t.guid);
      return `bulk registration token${all.length > 1 ? 's' : ''} ${all.map((t) => t.guid).join(', ')} blocked`;
    },

    async siteCounts(): Promise<SiteCounts | undefined> {
      if (!backend) return undefined;
      // A hook in a worker counted its faults there.
      for (const [kind, n] of Object.entries(await backend.faults())) for (let i = 0; i < n; i++) d.services.fault(kind as FaultKind, -1);
      return backend.counts();
    },

    async close() {
      logSet.closeAll();
      quietSet.closeAll();
      await site.close();
    },
  };
}
