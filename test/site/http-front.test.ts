// The HTTP/1.1 front: CCM_POST accepted, keep-alive, limits and malformed input refused while the server keeps serving.
import { describe, it, expect, afterEach } from 'vitest';
import { connect } from 'node:net';
import { Client, request } from 'undici';
import { startHttpServer, type HttpServer, type ProtocolRefusal } from '../../src/site/http/http-server.js';
import type { HttpRequest } from '../../src/site/http/http-types.js';

const servers: HttpServer[] = [];
afterEach(async () => {
  while (servers.length > 0) await servers.pop()!.close();
});

async function echoServer(limits: Parameters<typeof startHttpServer>[0]['limits'] = {}) {
  const seen: HttpRequest[] = [];
  const refusals: ProtocolRefusal[] = [];
  const server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    now: () => Date.UTC(2026, 0, 2, 3, 4, 5),
    limits,
    onRefusal: (r) => refusals.push(r),
    handler: async (req) => {
      seen.push(req);
      return { status: 200, headers: { 'Content-Type': 'text/plain' }, body: `${req.method} ${req.path} ${req.query} ${req.body.length} #${req.sequence}` };
    },
  });
  servers.push(server);
  return { server, seen, refusals, url: `http://127.0.0.1:${server.port}` };
}

/** Writes raw bytes and collects everything the server sends until it closes (or `untilMs`). */
function raw(port: number, chunks: Array<string | Buffer>, untilMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let out = '';
    socket.on('data', (d) => (out += d.toString('latin1')));
    socket.on('close', () => resolve(out));
    socket.on('error', () => resolve(out));
    socket.setTimeout(untilMs, () => {
      socket.destroy();
      resolve(out);
    });
    socket.on('connect', () => {
      for (const c of chunks) socket.write(c);
    });
  });
}

describe('HTTP/1.1 front', () => {
  it('accepts CCM_POST, which Node’s own server refuses, and reads the Content-Length body', async () => {
    const { url, seen } = await echoServer();
    const res = await request(`${url}/ccm_system/request`, { method: 'CCM_POST', body: Buffer.from('hello') });
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toBe('CCM_POST /ccm_system/request  5 #1');
    expect(res.headers.server).toBe('Microsoft-IIS/10.0');
    expect(res.headers.date).toBe('Fri, 02 Jan 2026 03:04:05 GMT');
    expect(seen[0]!.headers['content-length']).toBe('5');
  });

  it('keeps the connection alive for several requests and splits path from query', async () => {
    const { server, url } = await echoServer();
    const client = new Client(url, { pipelining: 1 });
    try {
      const a = await client.request({ path: '/SMS_MP/.sms_aut?MPLIST', method: 'GET' });
      expect(await a.body.text()).toBe('GET /SMS_MP/.sms_aut MPLIST 0 #1');
      const b = await client.request({ path: '/x', method: 'CCM_POST', body: 'abc' });
      expect(await b.body.text()).toBe('CCM_POST /x  3 #2');
      expect(server.connectionCount()).toBe(1);
    } finally {
      await client.close();
    }
  });

  it('serves pipelined requests in order and closes after Connection: close', async () => {
    const { server } = await echoServer();
    const out = await raw(server.port, [
      'GET /a HTTP/1.1\r\nHost: x\r\n\r\nCCM_POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi',
    ]);
    expect(out).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*GET \/a  0 #1HTTP\/1\.1 200 OK\r\n[\s\S]*Connection: close[\s\S]*CCM_POST \/b  2 #2$/);
  });

  it('answers 400 to a malformed request line and header, and keeps serving', async () => {
    const { server, url, refusals } = await echoServer();
    expect(await raw(server.port, ['NOT HTTP AT ALL\r\n\r\n'])).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*Connection: close/);
    expect(await raw(server.port, ['GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n'])).toMatch(/^HTTP\/1\.1 400 /);
    expect(await raw(server.port, ['GET / HTTP/1.1\r\n\r\n'])).toMatch(/^HTTP\/1\.1 400 /); // no Host
    expect(await raw(server.port, ['GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 2\r\n\r\n'])).toMatch(/^HTTP\/1\.1 400 /);
    expect(await raw(server.port, ['GET / HTTP/2.0\r\nHost: x\r\n\r\n'])).toMatch(/^HTTP\/1\.1 505 /);
    expect(refusals.map((r) => r.status)).toEqual([400, 400, 400, 400, 505]);
    const res = await request(`${url}/still-up`);
    expect(res.statusCode).toBe(200);
    await res.body.dump();
  });

  it('answers 400 to a request target with bytes outside visible ASCII, without echoing them', async () => {
    const { server, url, seen } = await echoServer();
    for (const target of ['/SMS_MP/\x00', '/a\x01b', '/a\x7f', Buffer.from('/SMS_MP/é', 'utf8').toString('latin1'), '/a\xff']) {
      const out = await raw(server.port, [Buffer.from(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`, 'latin1')]);
      expect(out).toMatch(/^HTTP\/1\.1 400 [\s\S]*\r\n\r\n400 control character or non-ASCII byte in the request target\r\n$/);
    }
    // A malformed request line is quoted back in ASCII only.
    expect(await raw(server.port, [Buffer.from('G\x85T / HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1')])).toMatch(/malformed method "G\\u0085T"\r\n$/);
    expect(seen).toHaveLength(0);
    const ok = await request(`${url}/SMS_MP/.sms_aut?MPLIST&x=%C3%A9{a|b}~`);
    expect(ok.statusCode).toBe(200);
    await ok.body.dump();
  });

  it('answers 400 to more than one Host header or an invalid one (RFC 9112 §3.2), and serves valid ones', async () => {
    const { server, seen } = await echoServer();
    for (const hosts of [['a', 'b'], ['a', 'a'], ['a b c'], ['a:b'], ['a@b'], ['[::1']]) {
      const head = `GET /SMS_MP/.sms_aut?MPLIST HTTP/1.1\r\n${hosts.map((h) => `Host: ${h}\r\n`).join('')}\r\n`;
      expect(await raw(server.port, [head]), hosts.join(' + ')).toMatch(/^HTTP\/1\.1 400 /);
    }
    expect(seen).toHaveLength(0);
    for (const host of ['MP01.CONTOSO.COM', 'mp01.contoso.com:80', '127.0.0.1:8080', '[::1]:443', '']) {
      const out = await raw(server.port, [`GET /x HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`]);
      expect(out, host).toMatch(/^HTTP\/1\.1 200 /);
    }
  });

  it('answers a head with bare LF or CR line ends with a prompt 400, and still waits for a head merely incomplete', async () => {
    const { server, url, refusals } = await echoServer(); // the idle timer stays at 120 s: an answer within 2 s is prompt
    for (const head of [
      'GET /SMS_MP/.sms_aut?MPLIST HTTP/1.1\nHost: x\n\n',
      'GET /SMS_MP/.sms_aut?MPLIST HTTP/1.1\r\nHost: x\n\n',
      'GET /SMS_MP/.sms_aut?MPLIST HTTP/1.1\rHost: x\r\r',
      'GET /SMS_MP/.sms_aut?MPLIST HTTP/1.1\n', // refused before the rest arrives
    ]) {
      expect(await raw(server.port, [head]), JSON.stringify(head)).toMatch(/^HTTP\/1\.1 400 [\s\S]*400 bare CR or LF in the request head\r\n$/);
    }
    expect(refusals.map((r) => r.requestLine)).toEqual(Array(4).fill('GET /SMS_MP/.sms_aut?MPLIST HTTP/1.1'));
    // Byte by byte, with a pause after each (a CR last is half a CRLF): the head is served once whole.
    const head = 'GET /slowly HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
    const out = await new Promise<string>((resolve) => {
      const socket = connect(server.port, '127.0.0.1');
      socket.setNoDelay(true);
      let got = '';
      socket.on('data', (d) => (got += d.toString('latin1')));
      socket.on('close', () => resolve(got));
      socket.on('connect', async () => {
        for (const c of head) {
          socket.write(c);
          await new Promise((r) => setTimeout(r, 2));
        }
      });
    });
    expect(out).toMatch(/^HTTP\/1\.1 200 [\s\S]*GET \/slowly  0 #1$/);
    const ok = await request(`${url}/still-up`);
    expect(ok.statusCode).toBe(200);
    await ok.body.dump();
  });

  it('refuses bodies over the limit with 413 without reading them, and heads over the limit with 431', async () => {
    const { server, url } = await echoServer({ maxBodyBytes: 1000, maxHeaderBytes: 512 });
    const big = await request(`${url}/ccm_system/request`, { method: 'CCM_POST', body: Buffer.alloc(1001) });
    expect(big.statusCode).toBe(413);
    await big.body.dump();
    const headers = await request(`${url}/`, { headers: { 'X-Filler': 'a'.repeat(600) } });
    expect(headers.statusCode).toBe(431);
    await headers.body.dump();
    // Without a blank line in sight the head can't grow forever either.
    expect(await raw(server.port, [`GET / HTTP/1.1\r\nHost: x\r\nX: ${'b'.repeat(600)}`])).toMatch(/^HTTP\/1\.1 431 /);
    const ok = await request(`${url}/`, { method: 'CCM_POST', body: Buffer.alloc(1000) });
    expect(ok.statusCode).toBe(200);
    await ok.body.dump();
  });

  it('refuses chunked request bodies with 411 (every CCM client sends Content-Length)', async () => {
    const { server } = await echoServer();
    const out = await raw(server.port, ['CCM_POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n']);
    expect(out).toMatch(/^HTTP\/1\.1 411 Length Required/);
  });

  it('closes idle connections: 408 when a request was half read, silently otherwise', async () => {
    const { server, refusals } = await echoServer({ idleTimeoutMs: 150 });
    const half = await raw(server.port, ['CCM_POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc']);
    expect(half).toMatch(/^HTTP\/1\.1 408 Request Timeout/);
    const silent = await raw(server.port, []);
    expect(silent).toBe('');
    expect(refusals.some((r) => r.status === 408)).toBe(true);
  });

  it('answers 100 Continue when asked and serves HTTP/1.0 without keep-alive', async () => {
    const { server } = await echoServer();
    const out = await raw(server.port, ['CCM_POST /c HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\n'], 300);
    expect(out.startsWith('HTTP/1.1 100 Continue\r\n\r\n')).toBe(true);
    const old = await raw(server.port, ['GET /old HTTP/1.0\r\n\r\n']);
    expect(old).toMatch(/Connection: close[\s\S]*GET \/old  0 #1$/);
  });

  it('closes cleanly: idle keep-alive connections are cut, an answer in progress is finished with Connection: close', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const server = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      now: () => 0,
      handler: async (req) => {
        if (req.path === '/slow') await gate;
        return { status: 200, body: req.path };
      },
    });
    const idle = new Client(`http://127.0.0.1:${server.port}`);
    const first = await idle.request({ path: '/fast', method: 'GET' });
    expect(await first.body.text()).toBe('/fast');
    const slow = raw(server.port, ['GET /slow HTTP/1.1\r\nHost: x\r\n\r\n']);
    while (server.connectionCount() < 2) await new Promise((r) => setTimeout(r, 5));
    const closing = server.close();
    release();
    expect(await slow).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*Connection: close\r\n[\s\S]*\/slow$/);
    await closing;
    expect(server.connectionCount()).toBe(0);
    await idle.close();
  });

  it('answers 500 when a handler throws and reports the error', async () => {
    const errors: unknown[] = [];
    const server = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      now: () => 0,
      onHandlerError: (err) => errors.push(err),
      handler: async () => {
        throw new Error('boom');
      },
    });
    servers.push(server);
    const res = await request(`http://127.0.0.1:${server.port}/`);
    expect(res.statusCode).toBe(500);
    await res.body.dump();
    expect(errors).toHaveLength(1);
  });
});
