/**
 * Owns the client start against a real site: the installed client's state, certificates and cached token are read
 * from its machine directory, and each start applies the client side of the rule (renewal-rule.ts) with real
 * requests through the agent's `SiteClient` — a token-authenticated Confirmation through the CMG when nothing is due,
 * CCM_STS Renew through the CMG or the MP when it is — then caches the new token and writes the client log lines.
 * The site decides every refusal; its X-CCMSim-Error code arrives as the CcmsimError code.
 */
import type { KeyObject } from 'node:crypto';
import type { Clock } from '../../clock/clock.js';
import { CcmsimError, HRESULT, isCcmsimError } from '../../errors.js';
import { loadCertificate, readCachedToken, readClientState, writeCachedToken, type ClientState } from '../client-state.js';
import { machinePaths, type MachinePaths } from '../machine-dir.js';
import { serverAuthUrl, type RegistrationRequestInput, type RequestAuth, type Route, type SiteClient } from '../site-client.js';
import type { ClientRuntime, ClientStartContext, ClientStartResult, ClientTokenState } from './client-runtime.js';
import { logStart, LIFECYCLE_LINES, type LifecycleLog } from './lifecycle-log.js';
import { clientIntent, problemOf, type HeldToken, type Refusal, type RenewReason, type TokenProblem, type Via } from './renewal-rule.js';

export interface RealClientRuntimeOptions {
  machineDir: string;
  timeZone: string;
  clock: Clock;
  site: SiteClient;
  /** The site's MP and CMG as clients name them (defaults: the URLs the client state recorded at the install). */
  siteNames?: { mpUrl: string; cmgUrl: string };
  log?: LifecycleLog;
}

/** The parts of a JWT the client may read without verifying it (it cannot verify: it has no site key). */
function peekJwt(token: string): { x5t: string | undefined; iatMs: number | undefined } {
  try {
    const [h, p] = token.split('.');
    const header = JSON.parse(Buffer.from(h ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    const payload = JSON.parse(Buffer.from(p ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    return {
      // x5t is the base64url SHA-1 of the signing certificate: shown as the thumbprint the site's tools print.
      x5t: typeof header['x5t'] === 'string' ? Buffer.from(header['x5t'], 'base64url').toString('hex').toUpperCase() : undefined,
      iatMs: typeof payload['iat'] === 'number' ? payload['iat'] * 1000 : undefined,
    };
  } catch {
    return { x5t: undefined, iatMs: undefined };
  }
}

function portOf(url: string): number {
  const u = new URL(url);
  return Number(u.port || (u.protocol === 'https:' ? 443 : 80));
}

function refusalOf(err: unknown): Refusal {
  if (isCcmsimError(err)) {
    return {
      code: err.code,
      httpStatus: err.httpStatus ?? 0,
      hresult: err.hresult ?? HRESULT.CCM_E_BAD_HTTP_STATUS_CODE,
      // refusalError (ccm-site-client.ts) already took a CCM_STS refusal's text out of its `<Error>`.
      message: err.message,
    };
  }
  throw err;
}

export class RealClientRuntime implements ClientRuntime {
  readonly timeZone: string;
  private readonly paths: MachinePaths;
  private held: (HeldToken & { jwt: string }) | undefined;
  private problem: TokenProblem | undefined;

  private constructor(
    private readonly o: RealClientRuntimeOptions,
    private readonly client: ClientState,
    private readonly signingKey: KeyObject,
    private readonly certs: { signingDer: Buffer; encryptionDer: Buffer },
    /** The SMS Encryption Certificate's key, which the cached token is encrypted with (loaded once, not per token). */
    private readonly encryption: { thumbprint: string; key: KeyObject },
    readonly name: string,
  ) {
    this.timeZone = o.timeZone;
    this.paths = machinePaths(o.machineDir);
  }

  /** Loads an installed, registered client from its machine directory. */
  static async load(options: RealClientRuntimeOptions): Promise<RealClientRuntime> {
    const paths = machinePaths(options.machineDir);
    const state = await readClientState(paths);
    if (state === undefined || state.registration !== 'registered') {
      throw new CcmsimError('CCMSIM_USAGE', `--run-for needs an installed, registered client in ${options.machineDir}`);
    }
    const signing = await loadCertificate(paths, state.signingThumbprint);
    const encryption = await loadCertificate(paths, state.encryptionThumbprint);
    if (signing === undefined || encryption === undefined) {
      throw new CcmsimError('CCMSIM_FILE_UNREADABLE', `the SMS certificates of ${state.computerName} are missing from ${paths.certStore}`);
    }
    const runtime = new RealClientRuntime(
      options,
      state,
      signing.privateKey,
      {
        signingDer: signing.der,
        encryptionDer: encryption.der,
      },
      { thumbprint: encryption.thumbprint, key: encryption.privateKey },
      state.computerName,
    );
    await runtime.reloadToken();
    return runtime;
  }

  private async reloadToken(): Promise<void> {
    const cached = await readCachedToken(this.paths, this.encryption.key);
    if (cached === undefined) {
      this.held = undefined;
      return;
    }
    const peek = peekJwt(cached.token);
    this.held = {
      tokenId: cached.tokenId,
      issuedMs: peek.iatMs ?? Date.parse(cached.cachedAt),
      expiresMs: Date.parse(cached.expiresAt),
      signer: peek.x5t ?? 'unknown',
      via: 'install',
      jwt: cached.token,
    };
  }

  state(): ClientTokenState {
    if (this.held === undefined) return { token: undefined, problem: this.problem };
    const { jwt: _jwt, ...token } = this.held;
    return { token, problem: this.problem };
  }

  private route(via: Via): Route {
    const names = this.o.siteNames ?? { mpUrl: this.client.mpUrl ?? '', cmgUrl: this.client.cmgUrl ?? '' };
    if (via === 'CMG') return { kind: 'cmg', base: serverAuthUrl(names.cmgUrl), configured: names.cmgUrl };
    const mp = names.mpUrl.replace(/\/+$/, '');
    return { kind: 'mp', base: mp, configured: mp };
  }

  private auth(): RequestAuth {
    // Only ever the client's own token: the bulk token was forgotten after the install.
    return {
      ...(this.held !== undefined ? { clientToken: this.held.jwt } : {}),
      client: { smsId: this.client.smsId, signingKey: this.signingKey },
    };
  }

  private registrationInput(): RegistrationRequestInput {
    return {
      smsId: this.client.smsId,
      computerName: this.client.computerName,
      fqdn: this.client.computerName,
      hardwareId: this.client.hardwareId,
      internet: true,
      signingCertDer: this.certs.signingDer,
      encryptionCertDer: this.certs.encryptionDer,
      signingKey: this.signingKey,
    };
  }

  async start(ctx: ClientStartContext): Promise<ClientStartResult[]> {
    this.o.log?.write(LIFECYCLE_LINES.startup());
    const results: ClientStartResult[] = [];
    for (let attempt = 0; attempt < 2; attempt++) {
      const intent = clientIntent({ nowMs: ctx.nowMs, location: ctx.location, token: this.state().token, problem: this.problem });
      if (intent.kind === 'none') {
        logStart(this.o.log, this.timeZone, intent.why === 'offline' ? { kind: 'offline' } : { kind: 'quiet' });
        results.push({ action: 'none', why: intent.why });
        break;
      }
      if (intent.kind === 'use-cmg') {
        const result = await this.useCmg();
        results.push(result);
        // A refusal that shows the token is unusable (retired signer) makes the client ask for a new one at once.
        if (result.action === 'refused' && result.attempted === 'use-cmg' && problemOf(result.code) !== undefined) continue;
        break;
      }
      results.push(await this.renew(intent.via, intent.why, ctx.nowMs));
      break;
    }
    return results;
  }

  private async useCmg(): Promise<ClientStartResult> {
    const route = this.route('CMG');
    const url = `${route.base}/ccm_system_tokenauth/request`;
    try {
      await this.o.site.confirm(route, this.auth(), this.registrationInput());
      return { action: 'none', why: 'cmg-ok' };
    } catch (err) {
      const refusal = refusalOf(err);
      logStart(this.o.log, this.timeZone, { kind: 'refused', via: 'CMG', url, port: portOf(url), attempted: 'use-cmg', refusal });
      this.problem = problemOf(refusal.code) ?? this.problem;
      return { action: 'refused', via: 'CMG', attempted: 'use-cmg', code: refusal.code, httpStatus: refusal.httpStatus, hresult: refusal.hresult, message: refusal.message };
    }
  }

  private async renew(via: Via, why: RenewReason, nowMs: number): Promise<ClientStartResult> {
    const route = this.route(via);
    const url = `${route.base}/CCM_STS`;
    logStart(this.o.log, this.timeZone, { kind: 'renewing', token: this.state().token, why, url });
    try {
      const issued = await this.o.site.requestToken(route, this.auth(), this.client.smsId, 'Renew');
      await writeCachedToken(
        this.paths,
        {
          tokenId: issued.tokenId,
          token: issued.token,
          expiresAt: new Date(issued.expiresAtMs).toISOString(),
          cachedAt: new Date(this.o.clock.now()).toISOString(),
        },
        this.encryption,
      );
      const peek = peekJwt(issued.token);
      this.held = { tokenId: issued.tokenId, issuedMs: peek.iatMs ?? nowMs, expiresMs: issued.expiresAtMs, signer: peek.x5t ?? 'unknown', via, jwt: issued.token };
      this.problem = undefined;
      const token = this.state().token!;
      logStart(this.o.log, this.timeZone, { kind: 'renewed', token });
      return { action: 'renewed', via, why, token };
    } catch (err) {
      const refusal = refusalOf(err);
      logStart(this.o.log, this.timeZone, { kind: 'refused', via, url, port: portOf(url), attempted: 'renew', refusal });
      this.problem = problemOf(refusal.code) ?? this.problem;
      return { action: 'refused', via, attempted: 'renew', why, code: refusal.code, httpStatus: refusal.httpStatus, hresult: refusal.hresult, message: refusal.message };
    }
  }
}
