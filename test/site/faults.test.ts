// The fault hook fleet runs use: consulted per request before any handler, on both servers.
import { describe, it, expect, afterEach } from 'vitest';
import { request } from 'undici';
import { startServerFixture, type ServerFixture } from './server-fixture.js';
import type { FaultDecision, FaultRequest } from '../../src/site/site-servers.js';

let fx: ServerFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

describe('fault hook', () => {
  it('answers 503, resets the connection, or delays on the site clock, per request', async () => {
    const seen: FaultRequest[] = [];
    let next: FaultDecision = 'ok';
    fx = await startServerFixture({
      faults: (req) => {
        seen.push(req);
        return next;
      },
    });
    const url = `${fx.servers.mpUrl}/SMS_MP/.sms_aut?MPLIST`;

    next = '503';
    const busy = await request(url);
    expect(busy.statusCode).toBe(503);
    expect(busy.headers['retry-after']).toBe('60');
    await busy.body.dump();

    next = 'reset';
    await expect(request(url)).rejects.toThrow();

    next = { delayMs: 30_000 };
    const start = fx.clock.now();
    const pending = request(url);
    while (fx.clock.pending === 0) await new Promise((r) => setTimeout(r, 5));
    await fx.clock.advance(30_000);
    const delayed = await pending;
    expect(delayed.statusCode).toBe(200);
    await delayed.body.dump();
    expect(fx.clock.now() - start).toBe(30_000);

    next = 'ok';
    const cmg = await request(`${fx.cmgServerAuth}/SMS_MP/.sms_aut?MPLIST`, { dispatcher: fx.cmgDispatcher });
    expect(cmg.statusCode).toBe(200);
    await cmg.body.dump();
    expect(seen.map((r) => r.server)).toEqual(['mp', 'mp', 'mp', 'cmg']);
    expect(seen[3]).toMatchObject({ method: 'GET', path: '/CCM_Proxy_ServerAuth/72186325152220500/SMS_MP/.sms_aut' });
  });
});
