/**
 * Owns the seam between the fleet engine and what one agent does: `FleetAgentDriver` installs an agent (the ccmsetup
 * flow) and hands back a `FleetClient` whose starts apply the lifecycle rule. The real driver (fleet-real-driver.ts)
 * runs the agent engineer's `runCcmsetup` and the lifecycle's `RealClientRuntime` against the site over HTTP; tests use
 * a fake one. The engine owns the clock, the schedule, the metrics and the limit on requests in flight.
 */
import type { Random } from '../clock/random.js';
import type { ClientStartContext, ClientStartResult } from '../agent/lifecycle/client-runtime.js';
import type { HeldToken } from '../agent/lifecycle/renewal-rule.js';
import type { FaultKind } from './fleet-faults.js';
import type { RequestOp } from './fleet-metrics.js';
import type { FleetSiteAction } from './fleet-options.js';

export type Network = 'internet' | 'intranet';

export interface FleetAgentSpec {
  index: number;
  /** NetBIOS computer name, unique in the fleet. */
  name: string;
  network: Network;
  arrivalMs: number;
  timeZone: string;
  /** This agent's own stream (`random.fork(index)` of the run's seed): independent of every other agent. */
  random: Random;
  /** Whether this agent writes its client logs (`--agent-logs`). */
  writeLogs: boolean;
}

export interface InstallResult {
  ok: boolean;
  via: 'mp' | 'cmg' | undefined;
  /** Error code of a failed install. */
  failure: string | undefined;
  token: HeldToken | undefined;
}

export interface FleetClient {
  /** The client token held now. */
  token(): HeldToken | undefined;
  /** A client start (CCMExec restart): what the lifecycle rule did. */
  start(ctx: ClientStartContext): Promise<ClientStartResult[]>;
}

/** What the engine offers a driver while an agent runs. */
export interface AgentContext {
  /** The ccmsetup flow waits /retry minutes and tries again. */
  retry(reason: string): void;
}

/** What the engine offers a driver for the whole run. */
export interface FleetServices {
  /** Runs `fn` when fewer than `--concurrency` requests are in flight (waits in real time, never on the clock). */
  limit<T>(fn: () => Promise<T>): Promise<T>;
  /** Records one request: its kind, real round-trip time in µs, and whether it got a 2xx answer. */
  request(agent: number, op: RequestOp, micros: number, ok: boolean): void;
  /** Records a fault the site injected for this agent. */
  fault(kind: FaultKind, agent: number): void;
  /** Real elapsed milliseconds (fractional), for latency only. */
  wallNow(): number;
}

export interface FleetAgentDriver {
  /** One line for the summary: what the agents run and against which site. */
  readonly description: string;
  install(spec: FleetAgentSpec, ctx: AgentContext): Promise<{ result: InstallResult; client: FleetClient | undefined }>;
  /** Applies a site event now (embedded site); resolves to a one-line description. */
  siteEvent?(action: FleetSiteAction): Promise<string>;
  /** Counts from the site's own database (embedded site only), to check the summary against. */
  siteCounts?(): Promise<SiteCounts | undefined>;
  close(): Promise<void>;
}

export interface SiteCounts {
  clients: number;
  /** Client records that share an SMS ID or a computer name with another record (must be 0). */
  duplicateClients: number;
  clientTokens: number;
}
