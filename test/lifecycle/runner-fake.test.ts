import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../../src/clock/clock.js';
import { DAY_MS } from '../../src/agent/lifecycle/duration.js';
import { FakeClientRuntime, FakeSite } from '../../src/agent/lifecycle/fake-runtime.js';
import { openLifecycleLog } from '../../src/agent/lifecycle/lifecycle-log.js';
import { parseLifecycleOptions, parseStartOption, type RawLifecycleOptions } from '../../src/agent/lifecycle/lifecycle-options.js';
import { planLifecycle } from '../../src/agent/lifecycle/lifecycle-plan.js';
import { runLifecycle, type LifecycleClient } from '../../src/agent/lifecycle/lifecycle-runner.js';
import { formatLocal } from '../../src/agent/lifecycle/local-time.js';
import { formatTimelineTable, timelineJson, type Timeline } from '../../src/agent/lifecycle/timeline.js';

interface ClientSpec {
  name: string;
  raw?: Omit<RawLifecycleOptions, 'runFor' | 'siteEvent'>;
  network?: 'internet' | 'intranet';
  log?: string;
}

/** One run of several clients installed at the same instant against one fake site. */
async function run(options: { start: string; timeZone: string; runFor: string; siteEvent?: string[]; clients: ClientSpec[] }): Promise<Timeline> {
  const installMs = parseStartOption(options.start, options.timeZone);
  const clock = new VirtualClock(installMs);
  const site = new FakeSite();
  let endMs = installMs;
  let siteEvents: ReturnType<typeof planLifecycle>['siteEvents'] = [];
  const clients: LifecycleClient[] = options.clients.map((c, i) => {
    const parsed = parseLifecycleOptions({ runFor: options.runFor, siteEvent: options.siteEvent, ...c.raw }, { alwaysInternet: false })!;
    const plan = planLifecycle(parsed, { installMs, timeZone: options.timeZone, network: c.network ?? 'internet' });
    endMs = plan.endMs;
    if (i === 0) siteEvents = plan.siteEvents;
    const log = c.log === undefined ? undefined : openLifecycleLog({ machineDir: c.log, timeZone: options.timeZone, clock, thread: 4242 });
    return { runtime: new FakeClientRuntime(c.name, options.timeZone, site, installMs, 'install', log), schedule: plan.schedule };
  });
  return runLifecycle({ clock, clients, siteEvents, site, endMs });
}

const of = (t: Timeline, client: string, kind: string) => t.entries.filter((e) => e.client === client && e.kind === kind);
const count = (text: string, needle: string): number => text.split(needle).length - 1;

describe('a year on the internet with daily restarts', () => {
  it('renews about monthly through the CMG and the token never expires', async () => {
    const t = await run({ start: '2027-03-01T09:00', timeZone: 'Europe/Paris', runFor: '365d', clients: [{ name: 'PC1' }] });
    const renewals = of(t, 'PC1', 'renewed');
    expect(renewals.length).toBeGreaterThanOrEqual(11);
    expect(renewals.length).toBeLessThanOrEqual(13);
    expect(renewals.every((r) => r.via === 'CMG')).toBe(true);
    // Only at client starts (09:00 local every day, summer time or not), never between them.
    expect(new Set(renewals.map((r) => formatLocal(r.atMs, 'Europe/Paris').slice(11)))).toEqual(new Set(['09:00:00']));
    expect(of(t, 'PC1', 'lapsed')).toHaveLength(0);
    expect(of(t, 'PC1', 'refused')).toHaveLength(0);
    expect(t.final[0]).toMatchObject({ status: 'valid', starts: 365, renewals: renewals.length });
  });
});

describe('online 10 days, offline 100 days, then back', () => {
  it('lapses while offline; the CMG refuses; an internet-only client stays refused; an intranet visit brings a new token and the CMG works again', async () => {
    const t = await run({
      start: '2028-01-10T09:00',
      timeZone: 'UTC',
      runFor: '200d',
      clients: [
        { name: 'ROAMER', raw: { offline: '10d-110d', roam: 'internet:0d-120d,intranet:120d-122d,internet:122d-' } },
        { name: 'NOMAD', raw: { offline: '10d-110d' } },
      ],
    });
    const day = (ms: number): number => Math.round((ms - Date.UTC(2028, 0, 10, 9)) / DAY_MS);
    for (const name of ['ROAMER', 'NOMAD']) {
      expect(of(t, name, 'lapsed').map((e) => day(e.atMs))).toEqual([90]);
      expect(of(t, name, 'renewed').filter((e) => day(e.atMs) <= 110).map((e) => day(e.atMs))).toEqual([]);
    }
    // NOMAD: refused through the CMG at every start from day 110 to the end, with the HRESULT it logs.
    const nomad = of(t, 'NOMAD', 'refused');
    expect(nomad.map((e) => day(e.atMs))).toEqual(Array.from({ length: 91 }, (_, i) => 110 + i));
    expect(nomad.every((e) => e.code === 'CCMSIM_TOKEN_EXPIRED' && e.hresult === '0x87d0027e' && e.via === 'CMG')).toBe(true);
    expect(t.final.find((f) => f.client === 'NOMAD')!.status).toBe('expired');
    // ROAMER: refused on days 110..119, new token from the MP on day 120, then CMG renewals again.
    expect(of(t, 'ROAMER', 'refused').map((e) => day(e.atMs))).toEqual(Array.from({ length: 10 }, (_, i) => 110 + i));
    expect(of(t, 'ROAMER', 'renewed').map((e) => [day(e.atMs), e.via, e.why])).toEqual([
      [120, 'MP', 'expired'],
      [150, 'CMG', 'due'],
      [180, 'CMG', 'due'],
    ]);
    expect(t.final.find((f) => f.client === 'ROAMER')).toMatchObject({ status: 'valid', lapses: 1, refusals: 10 });
  });
});

describe('a client installed on 2028-01-31 at 10:00, restarted every day at 08:00 (New York)', () => {
  it('renews on the dates the rule gives, through the leap-year February and both DST changes', async () => {
    const t = await run({
      start: '2028-01-31T10:00',
      timeZone: 'America/New_York',
      runFor: '366d',
      clients: [{ name: 'PC1', raw: { restartAt: '08:00' } }],
    });
    const dates = of(t, 'PC1', 'renewed').map((e) => formatLocal(e.atMs, 'America/New_York'));
    // Worked out by hand: a start renews once 30 x 24 h have passed since the token was issued.
    // Jan 31 10:00 + 30 d = Mar 1 10:00 (2028 has Feb 29) -> the 08:00 start on Mar 1 is 2 h early -> Mar 2.
    // Mar 2 08:00 EST + 30 d = Apr 1 09:00 EDT (DST began Mar 12) -> Apr 1 08:00 is 1 h early -> Apr 2.
    // From Apr 2 08:00 EDT every 30 d lands on 08:00 EDT exactly, until DST ends on Nov 5:
    // Oct 29 08:00 EDT + 30 d = Nov 28 07:00 EST -> the 08:00 start that day renews; then Dec 28, Jan 27 2029.
    expect(dates).toEqual([
      '2028-03-02 08:00:00',
      '2028-04-02 08:00:00',
      '2028-05-02 08:00:00',
      '2028-06-01 08:00:00',
      '2028-07-01 08:00:00',
      '2028-07-31 08:00:00',
      '2028-08-30 08:00:00',
      '2028-09-29 08:00:00',
      '2028-10-29 08:00:00',
      '2028-11-28 08:00:00',
      '2028-12-28 08:00:00',
      '2029-01-27 08:00:00',
    ]);
  });
});

describe('site events during a run', () => {
  it('token-signing rotation: CMG messages are refused until the client holds a token signed by the new certificate', async () => {
    const t = await run({
      start: '2028-01-10T09:00',
      timeZone: 'UTC',
      runFor: '150d',
      siteEvent: ['45d:rotate-token-signing'],
      clients: [
        { name: 'NOMAD' },
        { name: 'OFFICE', network: 'intranet' },
        // Offline from before the rotation until after its token expired: only the MP can help it.
        { name: 'SLEEPER', raw: { offline: '40d-125d', roam: 'internet:0d-130d,intranet:130d-131d,internet:131d-' } },
      ],
    });
    const day = (ms: number): number => Math.round((ms - Date.UTC(2028, 0, 10, 9)) / DAY_MS);
    expect(t.entries.filter((e) => e.kind === 'site-event').map((e) => [day(e.atMs), e.detail])).toEqual([
      [45, '45d:rotate-token-signing: SMS Token Signing certificate rotated: token-signing-1 retired, token-signing-2 active'],
    ]);
    // NOMAD's day-30 token is signed by the old certificate. At its next start (day 45, just after the event) the CMG
    // refuses its message with CCMSIM_TOKEN_SIGNER_RETIRED; the client asks CCM_STS for a new token at once, still
    // during startup, and the site's Renew path accepts the old-signed (still valid) token: the new one is signed
    // by token-signing-2 and the CMG accepts the client again.
    const nomad = t.entries.filter((e) => e.client === 'NOMAD' && (e.kind === 'refused' || e.kind === 'renewed'));
    expect(nomad.map((e) => [day(e.atMs), e.kind, e.via, e.code ?? e.why, e.detail.endsWith('token-signing-2')])).toEqual([
      [30, 'renewed', 'CMG', 'due', false],
      [45, 'refused', 'CMG', 'CCMSIM_TOKEN_SIGNER_RETIRED', false],
      [45, 'renewed', 'CMG', 'signer-retired', true],
      [75, 'renewed', 'CMG', 'due', true],
      [105, 'renewed', 'CMG', 'due', true],
      [135, 'renewed', 'CMG', 'due', true],
    ]);
    // The intranet client never presents its token, so it never notices: its next due renewal (day 60) from the MP
    // is signed by the new certificate.
    expect(of(t, 'OFFICE', 'refused')).toHaveLength(0);
    expect(t.final.find((f) => f.client === 'OFFICE')!.token!.signer).toBe('token-signing-2');
    // SLEEPER was offline through the rotation and came back on day 125 with an old-signed token that expired on
    // day 120: the CMG refuses the renewal as expired until its intranet start on day 130 gets a new-signed token
    // from the MP.
    const sleeper = t.entries.filter((e) => e.client === 'SLEEPER' && (e.kind === 'refused' || e.kind === 'renewed' || e.kind === 'lapsed'));
    expect(sleeper.map((e) => [day(e.atMs), e.kind, e.via ?? '', e.code ?? e.why ?? ''])).toEqual([
      [30, 'renewed', 'CMG', 'due'],
      [120, 'lapsed', '', ''],
      [125, 'refused', 'CMG', 'CCMSIM_TOKEN_EXPIRED'],
      [126, 'refused', 'CMG', 'CCMSIM_TOKEN_EXPIRED'],
      [127, 'refused', 'CMG', 'CCMSIM_TOKEN_EXPIRED'],
      [128, 'refused', 'CMG', 'CCMSIM_TOKEN_EXPIRED'],
      [129, 'refused', 'CMG', 'CCMSIM_TOKEN_EXPIRED'],
      [130, 'renewed', 'MP', 'expired'],
    ]);
    expect(t.final.find((f) => f.client === 'SLEEPER')).toMatchObject({ status: 'valid', token: { signer: 'token-signing-2', via: 'MP' } });
  });

  it('CMG disabled: every internet token client is refused from that moment, intranet clients are not', async () => {
    const t = await run({
      start: '2028-01-10T09:00',
      timeZone: 'UTC',
      runFor: '150d',
      siteEvent: ['90d:cmg-enabled=false'],
      clients: [{ name: 'NET1' }, { name: 'NET2', raw: { restartEvery: '3d' } }, { name: 'OFFICE', network: 'intranet' }],
    });
    const day = (ms: number): number => (ms - Date.UTC(2028, 0, 10, 9)) / DAY_MS;
    for (const name of ['NET1', 'NET2']) {
      const refused = of(t, name, 'refused');
      expect(refused.length).toBeGreaterThan(0);
      expect(refused.every((e) => e.code === 'CCMSIM_CMG_NOT_ALLOWED' && day(e.atMs) >= 90)).toBe(true);
      // Every start from the event on is refused, none before.
      expect(of(t, name, 'renewed').every((e) => day(e.atMs) < 90)).toBe(true);
    }
    expect(of(t, 'NET1', 'refused').map((e) => day(e.atMs))).toEqual(Array.from({ length: 61 }, (_, i) => 90 + i));
    expect(of(t, 'OFFICE', 'refused')).toHaveLength(0);
    expect(of(t, 'OFFICE', 'renewed').map((e) => [day(e.atMs), e.via])).toEqual([
      [30, 'MP'],
      [60, 'MP'],
      [90, 'MP'],
      [120, 'MP'],
      [150, 'MP'],
    ]);
  });
});

describe('the timeline and the client logs', () => {
  it('prints a table and JSON, and folds repeated refusals in the table', async () => {
    const t = await run({ start: '2028-01-10T09:00', timeZone: 'UTC', runFor: '130d', clients: [{ name: 'NOMAD', raw: { offline: '10d-110d' } }] });
    const table = formatTimelineTable(t, () => 'UTC');
    expect(table).toMatch(/2028-04-09 09:00:00 +NOMAD +lapsed +token token-1 expired without renewal/);
    expect(table).toMatch(/2028-04-29 09:00:00 +NOMAD +refused x21 +CMG +CCMSIM_TOKEN_EXPIRED 0x87d0027e: .* \(last 2028-05-19 09:00:00\)/);
    expect(table).toMatch(/NOMAD +internet +expired/);
    const json = JSON.parse(timelineJson(t)) as Timeline;
    expect(json.entries.filter((e) => e.kind === 'refused')).toHaveLength(21);
    expect(json.final[0]!.status).toBe('expired');
  });

  it('logs a refusal with its HRESULT and the way out, and nothing but the startup marker while offline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccmsim-lifecycle-'));
    try {
      await run({ start: '2028-01-10T09:00', timeZone: 'Europe/Paris', runFor: '112d', clients: [{ name: 'NOMAD', raw: { offline: '10d-110d' }, log: dir }] });
      const messaging = readFileSync(join(dir, 'Windows', 'CCM', 'Logs', 'CcmMessaging.log'), 'utf8');
      const startup = readFileSync(join(dir, 'Windows', 'CCM', 'Logs', 'ClientIDManagerStartup.log'), 'utf8');
      // The offline window ends 110 x 24 h after the install (2028-04-29 10:00 CEST, an hour later on the wall clock
      // since summer time began), so the 09:00 start that day is still offline: the first refusal is on 04-30 (bias -120).
      expect(messaging).toContain(
        '<![LOG[[CCMHTTP] ERROR: URL=https://CONTOSO.CLOUDAPP.NET/CCM_Proxy_ServerAuth/72186325152220500/CCM_STS, Port=443, Options=224, Code=0, Text=CCM_E_BAD_HTTP_STATUS_CODE]LOG]!><time="09:00:00.000-120" date="04-30-2028" component="CcmMessaging" context="" type="3"',
      );
      expect(messaging).toContain('The cloud management gateway refused the request: HTTP 401, CCMSIM_TOKEN_EXPIRED');
      expect(startup).toContain('<![LOG[RetrieveTokenFromStsServerImpl failed with error 0x87d0027e]LOG]!><time="09:00:00.000-120" date="04-30-2028"');
      expect(startup).toContain('The client token has expired. The client must connect to a management point on the internal network to receive a new token.]LOG]');
      // Offline starts: 01-20 (09:00 CET = the window's start) to 04-29.
      expect(count(startup, 'No network connection; the client token is not checked at this start.')).toBe(101);
      expect(count(startup, '[----- STARTUP -----]')).toBe(112);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes renewal and refusal lines to CcmMessaging.log and ClientIDManagerStartup.log with the bias of the day', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccmsim-lifecycle-'));
    try {
      await run({
        start: '2028-01-31T10:00',
        timeZone: 'America/New_York',
        runFor: '100d',
        clients: [{ name: 'PC1', raw: { restartAt: '08:00', roam: 'internet:0d-60d,intranet:60d-' }, log: dir }],
      });
      const messaging = readFileSync(join(dir, 'Windows', 'CCM', 'Logs', 'CcmMessaging.log'), 'utf8');
      const startup = readFileSync(join(dir, 'Windows', 'CCM', 'Logs', 'ClientIDManagerStartup.log'), 'utf8');
      // Mar 2 (EST, bias +300): renewal through the CMG, the old token's expiry printed in EDT (Apr 30 11:00); Apr 2 (EDT, bias +240): through the MP (on the intranet from day 60).
      expect(messaging).toContain(
        `<![LOG[CCM Token for 'S-1-5-18' (04/30/2028 11:00:00) is already expired or close to expire]LOG]!><time="08:00:00.000+300" date="03-02-2028" component="CcmMessaging"`,
      );
      expect(messaging).toContain('Getting CCM Token from https://CONTOSO.CLOUDAPP.NET/CCM_Proxy_ServerAuth/72186325152220500/CCM_STS]LOG]!><time="08:00:00.000+300" date="03-02-2028"');
      expect(messaging).toContain(`Cached encrypted token for 'S-1-5-18'. Will expire at '05/31/2028 09:00:00'`);
      expect(messaging).toContain('Getting CCM Token from https://MP01.CONTOSO.COM/CCM_STS]LOG]!><time="08:00:00.000+240" date="04-02-2028"');
      expect(startup).toContain('[----- STARTUP -----]');
      expect(startup).toContain(`Cached encrypted token for 'S-1-5-18'. Will expire at '07/01/2028 08:00:00']LOG]!><time="08:00:00.000+240" date="04-02-2028" component="ClientIDManagerStartup"`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
