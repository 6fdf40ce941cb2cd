/**
 * Owns the `<Msg>` header of a CCM message (protocol.md §1.4): built in the element order real tools send,
 * parsed tolerantly (any order, optional elements) with fast-xml-parser.
 */
import { escapeXml, malformed, parseXml, rootElement, attr, child, text } from './xml-util.js';

export interface MsgHeaderFields {
  /** Message ID; braces are added when missing (`{5DD100CD-…}`). */
  id: string;
  sourceHost: string;
  targetHost: string;
  /** e.g. `MP_ClientRegistration`. */
  targetEndpoint: string;
  /** Default `mp:<targetEndpoint>`. */
  targetAddress?: string;
  /** Default `direct:<sourceHost>:SccmMessaging`. */
  replyTo?: string;
  sentTime: Date;
  /** `GUID:…`; absent on registration (the client has no accepted ID yet). */
  sourceId?: string;
  /** UTF-16 bytes of the body including its NUL; encodeCcmMessage rewrites it to the real value. */
  bodyLength: number;
  /** Default `{00000000-0000-0000-0000-000000000000}`. */
  correlationId?: string;
  /** Default 60000. */
  timeout?: number;
}

export interface MsgHeader {
  id: string | undefined;
  correlationId: string | undefined;
  sourceHost: string | undefined;
  targetHost: string | undefined;
  targetEndpoint: string | undefined;
  targetAddress: string | undefined;
  replyTo: string | undefined;
  /** The text as sent. */
  sentTime: string | undefined;
  /** Epoch ms when `sentTime` is a valid `%Y-%m-%dT%H:%M:%SZ` time. */
  sentTimeMs: number | undefined;
  sourceId: string | undefined;
  bodyLength: number | undefined;
  /** Hook names, e.g. `zlib-compress`. */
  hooks: string[];
  replyCompression: string | undefined;
}

export const NULL_CORRELATION_ID = '{00000000-0000-0000-0000-000000000000}';

/** `%Y-%m-%dT%H:%M:%SZ` in UTC. */
export function formatCcmTime(time: Date): string {
  return `${time.toISOString().slice(0, 19)}Z`;
}

/** Parses `%Y-%m-%dT%H:%M:%SZ` (also accepts fractional seconds); undefined when it is not that. */
export function parseCcmTime(value: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function braced(id: string): string {
  return id.startsWith('{') ? id : `{${id}}`;
}

export function buildMsgHeader(fields: MsgHeaderFields): string {
  const e = escapeXml;
  const replyTo = fields.replyTo ?? `direct:${fields.sourceHost}:SccmMessaging`;
  const targetAddress = fields.targetAddress ?? `mp:${fields.targetEndpoint}`;
  return (
    `<Msg ReplyCompression="zlib" SchemaVersion="1.1">` +
    `<Body Type="ByteRange" Length="${Math.trunc(fields.bodyLength)}" Offset="0" />` +
    `<CorrelationID>${e(fields.correlationId ?? NULL_CORRELATION_ID)}</CorrelationID>` +
    `<Hooks><Hook3 Name="zlib-compress" /></Hooks>` +
    `<ID>${e(braced(fields.id))}</ID>` +
    `<Payload Type="inline" /><Priority>0</Priority><Protocol>http</Protocol><ReplyMode>Sync</ReplyMode>` +
    `<ReplyTo>${e(replyTo)}</ReplyTo>` +
    `<SentTime>${formatCcmTime(fields.sentTime)}</SentTime>` +
    (fields.sourceId !== undefined ? `<SourceID>${e(fields.sourceId)}</SourceID>` : '') +
    `<SourceHost>${e(fields.sourceHost)}</SourceHost>` +
    `<TargetAddress>${e(targetAddress)}</TargetAddress>` +
    `<TargetEndpoint>${e(fields.targetEndpoint)}</TargetEndpoint>` +
    `<TargetHost>${e(fields.targetHost)}</TargetHost>` +
    `<Timeout>${fields.timeout ?? 60000}</Timeout>` +
    `</Msg>`
  );
}

export function parseMsgHeader(xml: string): MsgHeader {
  const msg = rootElement(parseXml(xml, 'the message header'), 'Msg', 'the message header');
  const body = child(msg, 'Body');
  const lengthText = attr(body, 'Length');
  let bodyLength: number | undefined;
  if (lengthText !== undefined) {
    if (!/^\d+$/.test(lengthText)) throw malformed(`the message header's Body Length is not a number: ${JSON.stringify(lengthText)}`);
    bodyLength = Number(lengthText);
  }
  const hooksNode = child(msg, 'Hooks');
  const hooks: string[] = [];
  for (const [key, value] of Object.entries(hooksNode ?? {})) {
    if (key.startsWith('@_') || key === '#text') continue;
    for (const item of Array.isArray(value) ? value : [value]) {
      const name = typeof item === 'object' && item !== null ? (item as Record<string, unknown>)['@_Name'] : undefined;
      hooks.push(name === undefined ? key : String(name));
    }
  }
  const sentTime = text(msg, 'SentTime');
  return {
    id: text(msg, 'ID'),
    correlationId: text(msg, 'CorrelationID'),
    sourceHost: text(msg, 'SourceHost'),
    targetHost: text(msg, 'TargetHost'),
    targetEndpoint: text(msg, 'TargetEndpoint'),
    targetAddress: text(msg, 'TargetAddress'),
    replyTo: text(msg, 'ReplyTo'),
    sentTime,
    sentTimeMs: sentTime === undefined ? undefined : parseCcmTime(sentTime),
    sourceId: text(msg, 'SourceID'),
    bodyLength,
    hooks,
    replyCompression: attr(msg, 'ReplyCompression'),
  };
}
