/**
 * Owns the in-memory stand-ins used to test the lifecycle without HTTP: a `FakeSite` (CMG client setting, token-signing
 * generations) and a `FakeClientRuntime` that applies the pure rule of renewal-rule.ts and writes the same client
 * log lines as the real runtime when given a log.
 */
import { logStart, LIFECYCLE_LINES, type LifecycleLog } from './lifecycle-log.js';
import type { SiteEventAction } from './lifecycle-options.js';
import { decideStartSteps, problemOf, TOKEN_LIFETIME_MS, type HeldToken, type SiteView, type StartDecision, type TokenProblem } from './renewal-rule.js';
import type { ClientRuntime, ClientStartContext, ClientStartResult, ClientTokenState, SiteControl } from './client-runtime.js';

export class FakeSite implements SiteControl {
  cmgEnabled = true;
  mpIssuesTokens = true;
  private generation = 1;
  private issued = 0;
  cmgUrl = 'https://CONTOSO.CLOUDAPP.NET/CCM_Proxy_ServerAuth/72186325152220500';
  mpUrl = 'https://MP01.CONTOSO.COM';

  get activeSigner(): string {
    return `token-signing-${this.generation}`;
  }

  view(): SiteView {
    return { cmgEnabled: this.cmgEnabled, activeSigner: this.activeSigner, mpIssuesTokens: this.mpIssuesTokens };
  }

  issue(nowMs: number, via: HeldToken['via']): HeldToken {
    this.issued++;
    return { tokenId: `token-${this.issued}`, issuedMs: nowMs, expiresMs: nowMs + TOKEN_LIFETIME_MS, signer: this.activeSigner, via };
  }

  async apply(action: SiteEventAction): Promise<string> {
    if (action.kind === 'rotate-token-signing') {
      const old = this.activeSigner;
      this.generation++;
      return `SMS Token Signing certificate rotated: ${old} retired, ${this.activeSigner} active`;
    }
    this.cmgEnabled = action.value;
    return `client setting "Enable clients to use a cloud management gateway" = ${action.value ? 'Yes' : 'No'}`;
  }
}

export class FakeClientRuntime implements ClientRuntime {
  private token: HeldToken | undefined;
  private problem: TokenProblem | undefined;

  constructor(
    readonly name: string,
    readonly timeZone: string,
    private readonly site: FakeSite,
    installMs: number,
    installVia: 'CMG' | 'MP' | 'install' = 'install',
    private readonly log?: LifecycleLog,
  ) {
    this.token = site.issue(installMs, installVia);
  }

  state(): ClientTokenState {
    return { token: this.token, problem: this.problem };
  }

  async start(ctx: ClientStartContext): Promise<ClientStartResult[]> {
    this.log?.write(LIFECYCLE_LINES.startup());
    const steps = decideStartSteps({ nowMs: ctx.nowMs, location: ctx.location, token: this.token, problem: this.problem }, this.site.view());
    return steps.map((d) => this.apply(d, ctx.nowMs));
  }

  private apply(d: StartDecision, nowMs: number): ClientStartResult {
    const tz = this.timeZone;
    const url = (via: 'CMG' | 'MP', path: string): string => `${via === 'CMG' ? this.site.cmgUrl : this.site.mpUrl}/${path}`;
    if (d.action === 'none') {
      logStart(this.log, tz, d.why === 'offline' ? { kind: 'offline' } : { kind: 'quiet' });
      return { action: 'none', why: d.why };
    }
    if (d.action === 'refused') {
      const target = d.attempted === 'renew' ? url(d.via, 'CCM_STS') : url(d.via, 'ccm_system_tokenauth/request');
      if (d.attempted === 'renew') logStart(this.log, tz, { kind: 'renewing', token: this.token, why: d.why ?? 'due', url: target });
      logStart(this.log, tz, { kind: 'refused', via: d.via, url: target, port: 443, attempted: d.attempted, refusal: d.refusal });
      this.problem = problemOf(d.refusal.code) ?? this.problem;
      const r = d.refusal;
      return { action: 'refused', via: d.via, attempted: d.attempted, ...(d.why ? { why: d.why } : {}), code: r.code, httpStatus: r.httpStatus, hresult: r.hresult, message: r.message };
    }
    logStart(this.log, tz, { kind: 'renewing', token: this.token, why: d.why, url: url(d.via, 'CCM_STS') });
    this.token = this.site.issue(nowMs, d.via);
    this.problem = undefined;
    logStart(this.log, tz, { kind: 'renewed', token: this.token });
    return { action: 'renewed', via: d.via, why: d.why, token: this.token };
  }
}
