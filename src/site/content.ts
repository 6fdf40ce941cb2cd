/**
 * Owns the client installation content the MP serves under `/CCM_Client/`: small stand-in `ccmsetup.cab` and
 * `x64/client.msi` files (deterministic bytes) and `ccmsetup.xml`, a manifest of their SHA-256 hashes signed with the
 * site's SMS Issuing root key. With the site's corrupt-manifest switch on, the manifest's hash for client.msi is
 * wrong (ccmsetup must then fail with return code 10). The manifest format is the simulator's own (docs/site.md).
 */
import { createHash, sign, verify, X509Certificate } from 'node:crypto';
import type { Site } from './site.js';
import { activeCertificate, privateKeyOf } from './site-pki.js';

export const CLIENT_VERSION = '5.00.9128.1000';

export interface ContentFile {
  /** Path under the MP, as served (case-insensitive on the wire). */
  urlPath: string;
  name: string;
  platform?: 'x64';
  bytes: Buffer;
  contentType: string;
}

const STAND_IN_SIZE = 16 * 1024;

/** Deterministic filler: a SHA-256 chain seeded with `label`, so every site serves the same bytes. */
function filler(label: string, size: number): Buffer {
  const blocks: Buffer[] = [];
  let block = createHash('sha256').update(label).digest();
  let total = 0;
  while (total < size) {
    blocks.push(block);
    total += block.length;
    block = createHash('sha256').update(block).digest();
  }
  return Buffer.concat(blocks).subarray(0, size);
}

function standIn(magic: Buffer, description: string): Buffer {
  const text = Buffer.from(`\r\nccmsetup-sim stand-in: ${description}. Not a Microsoft file.\r\n`, 'latin1');
  const body = Buffer.concat([magic, text]);
  return Buffer.concat([body, filler(description, STAND_IN_SIZE - body.length)]);
}

let cachedFiles: ContentFile[] | undefined;

/** The two stand-in files (same bytes for every site). */
export function contentFiles(): ContentFile[] {
  cachedFiles ??= [
    {
      urlPath: '/CCM_Client/ccmsetup.cab',
      name: 'ccmsetup.cab',
      // "MSCF" is the cabinet signature.
      bytes: standIn(Buffer.from('MSCF\0\0\0\0', 'latin1'), `ccmsetup.cab for client ${CLIENT_VERSION}`),
      contentType: 'application/vnd.ms-cab-compressed',
    },
    {
      urlPath: '/CCM_Client/x64/client.msi',
      name: 'client.msi',
      platform: 'x64',
      // The OLE compound-file signature every .msi starts with.
      bytes: standIn(Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), `x64 client.msi ${CLIENT_VERSION}`),
      contentType: 'application/octet-stream',
    },
  ];
  return cachedFiles;
}

export const MANIFEST_URL_PATH = '/CCM_Client/ccmsetup.xml';

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex').toUpperCase();
}

/** A hash that is plainly wrong but well-formed (every hex digit shifted by one). */
function corruptHash(hex: string): string {
  return hex.replace(/[0-9A-F]/g, (c) => '123456789ABCDEF0'[parseInt(c, 16)]!);
}

/** The `<Files>` element: the signed part of the manifest. */
export function manifestFilesElement(siteCode: string, corrupt: boolean): string {
  const files = contentFiles()
    .map((f) => {
      let hash = sha256Hex(f.bytes);
      if (corrupt && f.name === 'client.msi') hash = corruptHash(hash);
      const platform = f.platform ? ` Platform="${f.platform}"` : '';
      return `<File Name="${f.name}"${platform} Url="${f.urlPath}" Size="${f.bytes.length}" SHA256="${hash}" />`;
    })
    .join('');
  return `<Files SiteCode="${siteCode}" ClientVersion="${CLIENT_VERSION}">${files}</Files>`;
}

/**
 * `ccmsetup.xml`: `<CcmSetupManifest SchemaVersion="1.0"><Files …>…</Files><Signature Algorithm="RSA-SHA256"
 * Signer="<root thumbprint>">base64</Signature></CcmSetupManifest>`; the signature is RSA PKCS#1 v1.5 SHA-256 over
 * the UTF-8 bytes of the `<Files …>…</Files>` text exactly as it appears. Read from the store per request, so
 * `ccmsim site config --corrupt-manifest` takes effect at once.
 */
export function buildManifest(site: Site): string {
  const config = site.config();
  const root = activeCertificate(site.db, 'issuing-root');
  // The signature is deterministic (PKCS#1 v1.5), so the text only changes with these three; every install asks.
  const key = `${config.siteCode}|${config.corruptManifest}|${root.thumbprint}`;
  const cached = manifestCache.get(site);
  if (cached?.key === key) return cached.xml;
  const files = manifestFilesElement(config.siteCode, config.corruptManifest);
  const signature = sign('sha256', Buffer.from(files, 'utf8'), privateKeyOf(site.paths, root)).toString('base64');
  const xml =
    `<?xml version="1.0" encoding="utf-8"?>\r\n` +
    `<CcmSetupManifest SchemaVersion="1.0">${files}<Signature Algorithm="RSA-SHA256" Signer="${root.thumbprint}">${signature}</Signature></CcmSetupManifest>`;
  manifestCache.set(site, { key, xml });
  return xml;
}

const manifestCache = new WeakMap<Site, { key: string; xml: string }>();

export interface ManifestEntry {
  name: string;
  url: string;
  size: number;
  sha256: string;
}

/**
 * Checks a manifest's signature against the site root certificate and returns its entries. Throws an Error naming
 * the problem. (Used by tests; an agent, which may not import the site, implements the same documented rule.)
 */
export function verifyManifest(xml: string, rootPem: string): ManifestEntry[] {
  const files = /<Files\b[^>]*>[\s\S]*?<\/Files>/.exec(xml)?.[0];
  const sig = /<Signature Algorithm="RSA-SHA256" Signer="([0-9A-F]{40})">([A-Za-z0-9+/=]+)<\/Signature>/.exec(xml);
  if (!files || !sig) throw new Error('the manifest has no <Files> element or no signature');
  const root = new X509Certificate(rootPem);
  if (!verify('sha256', Buffer.from(files, 'utf8'), root.publicKey, Buffer.from(sig[2]!, 'base64'))) {
    throw new Error('the manifest signature does not verify with the site root certificate');
  }
  return [...files.matchAll(/<File Name="([^"]+)"(?: Platform="[^"]*")? Url="([^"]+)" Size="(\d+)" SHA256="([0-9A-F]{64})" \/>/g)].map((m) => ({
    name: m[1]!,
    url: m[2]!,
    size: Number(m[3]),
    sha256: m[4]!,
  }));
}
