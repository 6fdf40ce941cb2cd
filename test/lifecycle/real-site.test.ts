/**
 * The lifecycle against the real embedded site: clients installed by the real ccmsetup flow (bulk token through the
 * CMG, or on the intranet), then kept running for months on the virtual clock with real HTTP(S) requests. Committed
 * test keys only. Reads as usage: install, load the runtime from the machine directory, run, read the timeline.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../../src/clock/clock.js';
import { Random } from '../../src/clock/random.js';
import type { KeyProvider } from '../../src/crypto/key-provider.js';
import { runCcmsetup, type AgentCommandLine } from '../../src/agent/ccmsetup-flow.js';
import { runOnClock } from '../../src/agent/run-on-clock.js';
import { RealClientRuntime } from '../../src/agent/lifecycle/real-runtime.js';
import { openLifecycleLog, type LifecycleLog } from '../../src/agent/lifecycle/lifecycle-log.js';
import { parseLifecycleOptions, type RawLifecycleOptions } from '../../src/agent/lifecycle/lifecycle-options.js';
import { planLifecycle } from '../../src/agent/lifecycle/lifecycle-plan.js';
import { runLifecycle, type LifecycleClient } from '../../src/agent/lifecycle/lifecycle-runner.js';
import { siteControlFor } from '../../src/agent/lifecycle/site-control.js';
import { DAY_MS } from '../../src/agent/lifecycle/duration.js';
import type { Timeline } from '../../src/agent/lifecycle/timeline.js';
import { createBulkToken } from '../../src/site/bulk-tokens.js';
import { startEmbeddedSite, type SiteConnection } from '../../src/embedded/embedded-site.js';
import { testKeyPair } from '../helpers/test-keys.js';

const START = Date.parse('2028-01-10T09:00:00Z');
const TZ = 'UTC';

function testKeys(first: number): KeyProvider {
  let i = first;
  return { kind: 'fixed', next: async () => testKeyPair(i++ % 16) } as KeyProvider;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface World {
  dir: string;
  clock: VirtualClock;
  connection: SiteConnection;
}

async function world(): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'ccmsim-lifecycle-real-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const clock = new VirtualClock(START);
  const connection = await startEmbeddedSite({ siteDir: join(dir, 'site'), clock, random: new Random('lifecycle-real'), keys: testKeys(0) });
  cleanups.push(() => connection.close());
  return { dir, clock, connection };
}

/** Installs one client with the real ccmsetup flow: `internet` = bulk token through the CMG. */
async function install(w: World, name: string, network: 'internet' | 'intranet', keyIndex: number): Promise<{ machineDir: string; log: LifecycleLog }> {
  const { cmgUrl, mpUrl } = w.connection.siteNames;
  let commandLine: AgentCommandLine;
  if (network === 'internet') {
    const bulk = await createBulkToken(w.connection.site!);
    commandLine = {
      parameters: { mp: [cmgUrl], regtoken: bulk.token, retry: 10, downloadtimeout: 1440 },
      properties: { CCMHOSTNAME: cmgUrl.replace(/^https:\/\//, ''), SMSSITECODE: 'ABC' },
      maskedCommandLine: `ccmsetup.exe /mp:${cmgUrl} CCMHOSTNAME=… SMSSITECODE=ABC /regtoken:…`,
    };
  } else {
    commandLine = {
      parameters: { mp: [mpUrl], retry: 10, downloadtimeout: 1440 },
      properties: { SMSSITECODE: 'ABC' },
      maskedCommandLine: `ccmsetup.exe /mp:${mpUrl} SMSSITECODE=ABC`,
    };
  }
  const machineDir = join(w.dir, name);
  const outcome = await runOnClock(w.clock, () =>
    runCcmsetup({
      commandLine,
      machineDir,
      computerName: name,
      network,
      timeZone: TZ,
      clock: w.clock,
      random: new Random(`agent-${name}`),
      keys: testKeys(keyIndex),
      site: w.connection.client,
      siteNames: w.connection.siteNames,
    }),
  );
  expect(outcome.result).toBe('installed');
  const log = openLifecycleLog({ machineDir, timeZone: TZ, clock: w.clock, thread: 3904 });
  cleanups.push(() => log.close());
  return { machineDir, log };
}

async function runClients(
  w: World,
  runFor: string,
  clients: Array<{ name: string; network: 'internet' | 'intranet'; raw?: Omit<RawLifecycleOptions, 'runFor' | 'siteEvent'> }>,
  siteEvent?: string[],
): Promise<Timeline> {
  const installed = [];
  for (const [i, c] of clients.entries()) installed.push(await install(w, c.name, c.network, 4 + 2 * i));
  // Offsets count from the moment the installs finished (the clients' first start), as ccmsetup-sim --run-for does.
  const installMs = w.clock.now();
  const list: LifecycleClient[] = [];
  let plan: ReturnType<typeof planLifecycle> | undefined;
  for (const [i, c] of clients.entries()) {
    const { machineDir, log } = installed[i]!;
    const parsed = parseLifecycleOptions({ runFor, siteEvent, ...c.raw }, { alwaysInternet: false })!;
    plan = planLifecycle(parsed, { installMs, timeZone: TZ, network: c.network });
    const runtime = await RealClientRuntime.load({ machineDir, timeZone: TZ, clock: w.clock, site: w.connection.client, siteNames: w.connection.siteNames, log });
    list.push({ runtime, schedule: plan.schedule });
  }
  return runLifecycle({ clock: w.clock, clients: list, siteEvents: plan!.siteEvents, site: siteControlFor(w.connection.site!), endMs: plan!.endMs });
}

const of = (t: Timeline, client: string, kind: string) => t.entries.filter((e) => e.client === client && e.kind === kind);
const day = (ms: number): number => Math.round((ms - START) / DAY_MS);
const count = (text: string, needle: string): number => text.split(needle).length - 1;

describe('the lifecycle against the embedded site', () => {
  it('a year on the internet: about monthly CMG renewals, never expired, each one in the client and the site logs', async () => {
    const w = await world();
    const t = await runClients(w, '365d', [{ name: 'NETPC', network: 'internet' }]);
    const renewals = of(t, 'NETPC', 'renewed');
    expect(renewals.length).toBeGreaterThanOrEqual(11);
    expect(renewals.length).toBeLessThanOrEqual(13);
    expect(renewals.every((r) => r.via === 'CMG')).toBe(true);
    expect(of(t, 'NETPC', 'lapsed')).toHaveLength(0);
    expect(of(t, 'NETPC', 'refused')).toHaveLength(0);
    expect(t.final[0]).toMatchObject({ status: 'valid' });

    const messaging = readFileSync(join(w.dir, 'NETPC', 'Windows', 'CCM', 'Logs', 'CcmMessaging.log'), 'utf8');
    expect(count(messaging, "Cached encrypted token for 'S-1-5-18'")).toBe(renewals.length);
    expect(count(messaging, '/CCM_Proxy_ServerAuth/72186325152220500/CCM_STS]LOG]')).toBe(renewals.length);
    const sts = readFileSync(join(w.dir, 'site', 'SMS_CCM', 'Logs', 'CCM_STS.log'), 'utf8');
    expect(count(sts, 'purpose Renew, through the cloud management gateway')).toBe(renewals.length);
    // The bulk token served the install's first token request and was never presented again.
    expect(count(sts, 'Validated bulk registration token')).toBe(1);
    const cmg = readFileSync(join(w.dir, 'site', 'CMG', 'Logs', 'CMGService.log'), 'utf8');
    expect(cmg).toContain('RequestUri: /CCM_PROXY_SERVERAUTH/72186325152220500/CCM_STS');
  });

  it('offline past expiry: the CMG refuses; internet-only stays refused; an intranet start brings a new token and the CMG works again', async () => {
    const w = await world();
    const t = await runClients(w, '160d', [
      { name: 'ROAMER', network: 'internet', raw: { offline: '10d-110d', roam: 'internet:0d-120d,intranet:120d-122d,internet:122d-' } },
      { name: 'NOMAD', network: 'internet', raw: { offline: '10d-110d' } },
    ]);
    for (const name of ['ROAMER', 'NOMAD']) expect(of(t, name, 'lapsed').map((e) => day(e.atMs))).toEqual([90]);
    expect(of(t, 'NOMAD', 'refused').every((e) => e.code === 'CCMSIM_TOKEN_EXPIRED' && e.via === 'CMG')).toBe(true);
    expect(of(t, 'NOMAD', 'refused')[0]!.detail).toMatch(/^token renewal refused: the client token expired at 2028-04-09T09:\d\d:\d\d\.000Z$/);
    expect(of(t, 'NOMAD', 'refused').map((e) => day(e.atMs))).toEqual(Array.from({ length: 51 }, (_, i) => 110 + i));
    expect(of(t, 'ROAMER', 'renewed').map((e) => [day(e.atMs), e.via])).toEqual([
      [120, 'MP'],
      [150, 'CMG'],
    ]);
    expect(t.final.find((f) => f.client === 'ROAMER')!.status).toBe('valid');
    const startup = readFileSync(join(w.dir, 'NOMAD', 'Windows', 'CCM', 'Logs', 'ClientIDManagerStartup.log'), 'utf8');
    expect(startup).toContain('RetrieveTokenFromStsServerImpl failed with error 0x87d0027e');
    expect(startup).toContain('The client must connect to a management point on the internal network to receive a new token.');
  });

  it('token-signing rotation: the CMG refuses the old-signed token, the client renews through CCM_STS and gets a new-signed token', async () => {
    const w = await world();
    const t = await runClients(w, '60d', [{ name: 'NETPC', network: 'internet' }, { name: 'OFFICE', network: 'intranet' }], ['45d:rotate-token-signing']);
    const events = t.entries.filter((e) => e.client === 'NETPC' && (e.kind === 'refused' || e.kind === 'renewed'));
    expect(events.map((e) => [day(e.atMs), e.kind, e.code ?? e.why])).toEqual([
      [30, 'renewed', 'due'],
      [45, 'refused', 'CCMSIM_TOKEN_SIGNER_RETIRED'],
      [45, 'renewed', 'signer-retired'],
    ]);
    const active = w.connection.site!.certificates().find((c) => c.role === 'token-signing' && c.status === 'active')!;
    expect(t.final.find((f) => f.client === 'NETPC')!.token!.signer).toBe(active.thumbprint);
    expect(of(t, 'OFFICE', 'refused')).toHaveLength(0);
    // The log says what happens next (a new token through the CMG, this startup), not "go to the intranet"; and the
    // token it replaces, with 45 days left, is not "already expired or close to expire".
    const logs = join(w.dir, 'NETPC', 'Windows', 'CCM', 'Logs');
    const startup = readFileSync(join(logs, 'ClientIDManagerStartup.log'), 'utf8');
    expect(startup).toContain('The client token is signed by a retired SMS Token Signing certificate. The client requests a new token, signed with the new certificate.');
    expect(startup).not.toContain('internal network to receive a token signed with the new certificate');
    expect(readFileSync(join(logs, 'CcmMessaging.log'), 'utf8').match(/close to expire/g)).toHaveLength(1);
  });

  it('CMG disabled: every internet token client is refused from then on, intranet clients keep renewing', async () => {
    const w = await world();
    const t = await runClients(w, '70d', [{ name: 'NETPC', network: 'internet' }, { name: 'OFFICE', network: 'intranet' }], ['40d:cmg-enabled=false']);
    expect(of(t, 'NETPC', 'refused').map((e) => [day(e.atMs), e.code])).toEqual(Array.from({ length: 31 }, (_, i) => [40 + i, 'CCMSIM_CMG_NOT_ALLOWED']));
    expect(of(t, 'OFFICE', 'refused')).toHaveLength(0);
    expect(of(t, 'OFFICE', 'renewed').map((e) => [day(e.atMs), e.via])).toEqual([
      [30, 'MP'],
      [60, 'MP'],
    ]);
  });
});
