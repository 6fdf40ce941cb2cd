/**
 * Owns the bench's floor: what the crypto and HTTP work of an agent costs alone, in isolation, on this machine —
 * CCM_POST round trips through undici to a bare loopback server (HTTP and HTTPS, keep-alive, many in flight), RSA
 * signatures (the CCM signature the client puts on its messages), and the native RSA-2048 key-generation rate on all
 * cores. No site, no agent logic: the fleet can only be slower than this.
 */
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { generateKeyPairSync } from 'node:crypto';
import { Pool } from 'undici';
import { signCcm } from '../crypto/ccm-signature.js';
import { createCertificate } from '../crypto/certificate.js';
import { generateRsaKeyPair } from '../crypto/rsa-keys.js';

export interface FloorFigures {
  /** One request at a time (the reference machine's ~2,900/s figure is of this kind). */
  httpSerialRoundTripsPerSecond: number;
  httpRoundTripsPerSecond: number;
  httpsRoundTripsPerSecond: number;
  rsaSignaturesPerSecond: number;
  rsaKeysPerSecond: number;
  requestBodyBytes: number;
}

/** A minimal HTTP/1.1 answerer: reads Content-Length bodies, answers 200 with a fixed body, keeps connections open. */
function answer(socket: Socket, reply: Buffer): void {
  let buf: Buffer = Buffer.alloc(0);
  socket.setNoDelay(true);
  socket.on('data', (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      const len = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      if (buf.length < end + 4 + len) return;
      buf = buf.subarray(end + 4 + len);
      socket.write(reply);
    }
  });
  socket.on('error', () => undefined);
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

async function roundTrips(origin: string, tls: { ca: string; servername: string } | undefined, body: Buffer, count: number, inFlight: number, wallNow: () => number): Promise<number> {
  const pool = new Pool(origin, { connections: 8, ...(tls ? { connect: { ca: tls.ca, servername: tls.servername, rejectUnauthorized: true } } : {}) });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      const res = await pool.request({ method: 'CCM_POST' as 'POST', path: '/ccm_system/request', body, reset: false, headers: { 'content-type': 'multipart/mixed; boundary="aAbBcCdDv1234567890VxXyYzZ"' } });
      await res.body.arrayBuffer();
    }
  };
  // Warm up the connections first.
  await Promise.all(Array.from({ length: 8 }, () => pool.request({ method: 'CCM_POST' as 'POST', path: '/', body, reset: false }).then((r) => r.body.arrayBuffer())));
  const t0 = wallNow();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = (wallNow() - t0) / 1000;
  await pool.close();
  return count / seconds;
}

export async function measureFloor(wallNow: () => number, options: { roundTrips?: number; signatures?: number; keys?: number } = {}): Promise<FloorFigures> {
  // A registration request is a few KiB: two certificates, a signature, multipart with UTF-16 and zlib.
  const body = Buffer.alloc(4096, 0x41);
  const replyBody = Buffer.alloc(1024, 0x42);
  const reply = Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${replyBody.length}\r\nContent-Type: multipart/mixed\r\n\r\n`, 'latin1'), replyBody]);
  const n = options.roundTrips ?? 5000;

  const plain = createNetServer((s) => answer(s, reply));
  const httpPort = await listen(plain);
  const httpSerial = await roundTrips(`http://127.0.0.1:${httpPort}`, undefined, body, Math.ceil(n / 2), 1, wallNow);
  const http = await roundTrips(`http://127.0.0.1:${httpPort}`, undefined, body, n, 64, wallNow);
  plain.close();

  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cert = createCertificate({
    subject: [{ name: 'commonName', value: 'BENCH.LOCAL' }],
    publicKey,
    privateKey,
    serial: '01',
    notBefore: new Date(Date.UTC(2020, 0, 1)),
    notAfter: new Date(Date.UTC(2040, 0, 1)),
    dnsNames: ['BENCH.LOCAL'],
    ekus: ['serverAuth'],
  });
  const secure = createTlsServer({ cert: cert.pem, key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }, (s) => answer(s, reply));
  const httpsPort = await listen(secure);
  const https = await roundTrips(`https://127.0.0.1:${httpsPort}`, { ca: cert.pem, servername: 'BENCH.LOCAL' }, body, n, 64, wallNow);
  secure.close();

  // The fastest of five batches: a moment of the VM's own noise in one batch once made signatures look 20 % dearer,
  // and with it the whole floor; what a signature costs alone is the fastest the machine did it.
  const sigs = options.signatures ?? 2000;
  const data = Buffer.alloc(2048, 0x43);
  const batch = Math.max(1, Math.ceil(sigs / 5));
  let rsaSignaturesPerSecond = 0;
  for (let b = 0; b < 5; b++) {
    const s0 = wallNow();
    for (let i = 0; i < batch; i++) signCcm(privateKey, data);
    rsaSignaturesPerSecond = Math.max(rsaSignaturesPerSecond, batch / ((wallNow() - s0) / 1000));
  }

  // RSA key generation time varies widely from key to key (the prime search), so 16 keys gave a native rate that moved
  // by a quarter from run to run; 64 keys take a few seconds and hold it within a few percent.
  const k = options.keys ?? 64;
  const k0 = wallNow();
  await Promise.all(Array.from({ length: k }, () => generateRsaKeyPair()));
  const rsaKeysPerSecond = k / ((wallNow() - k0) / 1000);

  return { httpSerialRoundTripsPerSecond: httpSerial, httpRoundTripsPerSecond: http, httpsRoundTripsPerSecond: https, rsaSignaturesPerSecond, rsaKeysPerSecond, requestBodyBytes: body.length };
}
