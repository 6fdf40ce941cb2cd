import { describe, it, expect, afterAll } from 'vitest';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createSiteTransport } from '../../src/agent/site-transport.js';

// Holds every request until 32 are waiting at once (or a second has passed), then answers them all: the peak of
// requests open together is how many connections the transport used.
const held: ServerResponse[] = [];
const sockets = new Set<Socket>();
let peak = 0;
let timer: NodeJS.Timeout | undefined;
const releaseAll = (): void => {
  clearTimeout(timer);
  timer = undefined;
  for (const res of held.splice(0)) res.end('ok');
};
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  sockets.add(req.socket);
  held.push(res);
  peak = Math.max(peak, held.length);
  if (held.length >= 32) releaseAll();
  else timer ??= setTimeout(releaseAll, 1000);
});
const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const transport = () =>
  createSiteTransport({ mpUrl: 'http://MP01.CONTOSO.COM', cmgUrl: 'https://CONTOSO.CLOUDAPP.NET/CCM_Proxy_MutualAuth/1', trustedRootPem: '', hostMap: { 'MP01.CONTOSO.COM': { address: '127.0.0.1', port } } });

describe('the connections a transport opens to one site server', () => {
  it('opens up to 32 keep-alive connections for the agents of a fleet sharing it', async () => {
    const shared = transport();
    try {
      const replies = await Promise.all(Array.from({ length: 40 }, () => shared.request('http://MP01.CONTOSO.COM/sms_mp/.sms_aut?mplist', { method: 'GET' })));
      expect(replies.every((r) => r.status === 200)).toBe(true);
      expect(peak).toBe(32);
      expect(sockets.size).toBe(32);
    } finally {
      await shared.close();
    }
  });
});
