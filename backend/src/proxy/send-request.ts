import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { Agent, request } from 'undici';
import { ApiError } from '../http/problem.js';

export interface ProxyRequest {
  url: string;
  method: string;
  headers: [string, string][];
  /** The request body as text (`utf8`) or bytes (`base64`). */
  body?: string;
  bodyEncoding: 'utf8' | 'base64';
  timeoutMs: number;
}

export interface ProxyResponse {
  status: number;
  statusText: string;
  headers: [string, string][];
  body: string;
  bodyEncoding: 'utf8' | 'base64';
  size: number;
  /** Milliseconds from the start: response headers received, and the last body byte. */
  timings: { start: number; response: number; total: number };
}

export type Lookup = typeof dnsLookup;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The body as text when it is valid UTF-8, else undefined (it goes back as base64). */
function utf8Text(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Loopback, private, link-local, reserved and other non-public ranges a shared store must not reach for a teammate. */
const nonPublic = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 3],
] as const) {
  nonPublic.addSubnet(net, prefix, 'ipv4');
}
// Ranges that embed an IPv4 address in a known place are judged by that address instead (see embeddedIpv4).
for (const [net, prefix] of [
  ['::1', 128],
  ['64:ff9b:1::', 48], // local-use NAT64 (RFC 8215): its translator serves a private network
  ['100::', 64], // discard-only
  ['2001::', 32], // Teredo: tunnels to an IPv4 address the prefix hides
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  nonPublic.addSubnet(net, prefix, 'ipv6');
}

/** The 16 bytes of an IPv6 address (`isIP` already said it is one), zone id ignored. */
function ipv6Bytes(address: string): number[] {
  let text = address.split('%')[0];
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const groups = (part: string | undefined) => (part ? part.split(':').map((group) => parseInt(group, 16)) : []);
  const start = groups(head);
  const end = groups(tail);
  const all = [...start, ...Array<number>(8 - start.length - end.length).fill(0), ...end];
  return all.flatMap((group) => [group >> 8, group & 0xff]);
}

const startsWith = (bytes: number[], prefix: number[]) => prefix.every((byte, index) => bytes[index] === byte);
const zeros = (count: number) => Array<number>(count).fill(0);

/**
 * The IPv4 address an IPv6 address stands for, where the network reaches it by that IPv4
 * address: IPv4-mapped (::ffff:a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d), IPv4-compatible
 * (::a.b.c.d, which also covers :: and ::1 as 0.0.0.0 and 0.0.0.1), NAT64 (64:ff9b::a.b.c.d)
 * and 6to4 (2002:aabb:ccdd::).
 */
function embeddedIpv4(bytes: number[]): string | undefined {
  const dotted = (from: number) => bytes.slice(from, from + 4).join('.');
  if (startsWith(bytes, [...zeros(10), 0xff, 0xff])) return dotted(12);
  if (startsWith(bytes, [...zeros(8), 0xff, 0xff, 0, 0])) return dotted(12);
  if (startsWith(bytes, zeros(12))) return dotted(12);
  if (startsWith(bytes, [0, 0x64, 0xff, 0x9b, ...zeros(8)])) return dotted(12);
  if (startsWith(bytes, [0x20, 0x02])) return dotted(2);
  return undefined;
}

export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !nonPublic.check(address, 'ipv4');
  if (family !== 6) return false;
  const bytes = ipv6Bytes(address);
  const ipv4 = embeddedIpv4(bytes);
  if (ipv4 !== undefined) return isPublicAddress(ipv4);
  return !nonPublic.check(address.split('%')[0], 'ipv6');
}

const targetForbidden = () => new ApiError('proxy_target_forbidden', 'This store does not send requests to loopback or private addresses.');

/**
 * A lookup that refuses non-public addresses. It runs inside the connection, so the address
 * checked is the address connected to (no DNS-rebinding gap between check and use).
 */
function publicOnlyLookup(lookup: Lookup): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const list = addresses as unknown as LookupAddress[];
      if (list.some((entry) => !isPublicAddress(entry.address))) return callback(targetForbidden(), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
      callback(null, list[0].address, list[0].family);
    });
  };
}

/**
 * Sends the app's HTTP request and returns the whole response with timings. Responses larger
 * than `maxBytes` are refused rather than held in memory.
 */
export function createRequestSender(options: { allowPrivateTargets: boolean; maxBytes: number; lookup?: Lookup; now?: () => number }) {
  const now = options.now ?? (() => performance.now());
  const lookup = options.lookup ?? dnsLookup;
  const dispatcher = new Agent({ connect: options.allowPrivateTargets ? { lookup } : { lookup: publicOnlyLookup(lookup) } });

  return async function sendRequest(input: ProxyRequest): Promise<ProxyResponse> {
    const target = new URL(input.url);
    const host = target.hostname.replace(/^\[|\]$/g, '');
    if (!options.allowPrivateTargets && isIP(host) && !isPublicAddress(host)) throw targetForbidden();
    const started = now();
    let response;
    try {
      response = await request(target, {
        dispatcher,
        method: input.method as 'GET',
        headers: input.headers.flat(),
        body: input.body === undefined ? undefined : Buffer.from(input.body, input.bodyEncoding),
        headersTimeout: input.timeoutMs,
        bodyTimeout: input.timeoutMs,
      });
    } catch (error) {
      if (error instanceof ApiError) throw error;
      const cause = (error as { cause?: unknown }).cause;
      if (cause instanceof ApiError) throw cause;
      throw new ApiError('proxy_failed', `The request failed: ${(error as Error).message}`);
    }
    const responded = now();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body) {
      size += chunk.length;
      if (size > options.maxBytes) {
        response.body.destroy();
        throw new ApiError('proxy_failed', `The response is larger than ${options.maxBytes} bytes.`);
      }
      chunks.push(chunk);
    }
    const bytes = Buffer.concat(chunks);
    const text = utf8Text(bytes);
    const headers: [string, string][] = [];
    for (const [name, value] of Object.entries(response.headers)) {
      for (const one of Array.isArray(value) ? value : [value ?? '']) headers.push([name, one]);
    }
    return {
      status: response.statusCode,
      statusText: response.statusText ?? '',
      headers,
      body: text ?? bytes.toString('base64'),
      bodyEncoding: text === undefined ? 'base64' : 'utf8',
      size,
      timings: { start: 0, response: responded - started, total: now() - started },
    };
  };
}
