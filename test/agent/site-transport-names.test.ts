import { describe, it, expect, afterAll } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSiteTransport } from '../../src/agent/site-transport.js';

// A bare loopback answerer: the transport's name resolution is what is under test, not the site.
const server: Server = createServer((req, res) => res.end(`${req.headers.host}`));
const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function transport(hostMap: Record<string, { address: string; port: number }>) {
  return createSiteTransport({ mpUrl: 'http://MP01.CONTOSO.COM', cmgUrl: 'https://CONTOSO.CLOUDAPP.NET/CCM_Proxy_MutualAuth/1', trustedRootPem: '', hostMap });
}

describe('how the simulated network resolves the names a client is given', () => {
  it('resolves an FQDN in any case, and a NetBIOS name to the one FQDN it starts', async () => {
    const t = transport({ 'MP01.CONTOSO.COM': { address: '127.0.0.1', port } });
    try {
      for (const name of ['MP01.CONTOSO.COM', 'mp01.contoso.com', 'MP01', 'mp01']) {
        const res = await t.request(`http://${name}/sms_mp/.sms_aut?mplist`, { method: 'GET' });
        expect(res.status).toBe(200);
        expect(res.body.toString()).toBe(name.toLowerCase());
      }
    } finally {
      await t.close();
    }
  });

  it('leaves a NetBIOS name unresolved when two FQDNs start with it, and an unknown name too', async () => {
    const t = transport({ 'MP01.CONTOSO.COM': { address: '127.0.0.1', port }, 'MP01.FABRIKAM.COM': { address: '127.0.0.1', port } });
    try {
      await expect(t.request('http://MP01/sms_mp/.sms_aut?mplist', { method: 'GET' })).rejects.toMatchObject({ code: 'CCMSIM_SITE_UNREACHABLE' });
      // WinHTTP's ERROR_WINHTTP_NAME_NOT_RESOLVED, not the cannot-connect of a known host that does not answer.
      await expect(t.request('http://MP02/sms_mp/.sms_aut?mplist', { method: 'GET' })).rejects.toMatchObject({ code: 'CCMSIM_SITE_UNREACHABLE', hresult: '0x80072ee7' });
    } finally {
      await t.close();
    }
  });
});
