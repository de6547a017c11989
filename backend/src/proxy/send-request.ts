import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';
import { Agent, ProxyAgent, type Dispatcher } from 'undici';
import { ProxyFailure, utf8Text, type ProxyErrorCode } from './failure.js';
import { isPublicAddress } from './public-address.js';
import { harTimings, timedConnector, timedDispatch, type HopClock, type Timings } from './timings.js';

export interface OutgoingRequest {
  url: string;
  method: string;
  headers: [string, string][];
  body?: Buffer;
}

export interface TlsSettings {
  validateCertificates: boolean;
  /** PEM of an extra certificate authority, trusted besides the system's. */
  ca?: string;
  /** A client certificate: PEM `cert` and `key`, or a PKCS#12 `pfx`; `passphrase` unlocks the key or the PKCS#12. */
  cert?: string;
  key?: string;
  pfx?: Buffer;
  passphrase?: string;
}

export interface SendOptions {
  timeoutMs: number;
  followRedirects: boolean;
  maxRedirects: number;
  tls: TlsSettings;
  /** An HTTP(S) proxy to send through. */
  proxyUrl?: string;
  /** Response body bytes returned; the rest is counted and dropped (`truncated`). */
  maxBodyBytes: number;
}

export interface RedirectHop {
  url: string;
  method: string;
  status: number;
  statusText: string;
  location: string;
  timings: Timings;
}

export interface ProxyResponse {
  status: number;
  statusText: string;
  headers: [string, string][];
  body: string;
  bodyEncoding: 'utf8' | 'base64';
  /** The whole body's size in bytes, also when `truncated`. */
  size: number;
  truncated: boolean;
  timings: Timings;
}

export interface ProxyResult {
  /** Epoch milliseconds when the request was started. */
  startTime: number;
  /** The last request sent (after variables, authorization and redirects). */
  request: { url: string; method: string; headers: [string, string][] };
  redirects: RedirectHop[];
  response?: ProxyResponse;
  error?: { code: ProxyErrorCode; message: string; timings: Timings; [field: string]: unknown };
  /** Milliseconds from the start to the last byte or the failure, redirects included. */
  total: number;
  /** The history entry written for the request, or why none could be (the route fills this in). */
  history?: { key: string } | { error: { code: string; message: string } };
}

export type Lookup = typeof dnsLookup;

const targetForbidden = () => new ProxyFailure('target_forbidden', 'This store does not send requests to loopback or private addresses.');

/**
 * The lookup every connection uses. It runs inside the connection, so for a teammate the address
 * checked is the address connected to, on the first hop and on every redirect (no DNS-rebinding
 * gap between check and use). A resolver failure becomes `dns_failure`.
 */
function connectionLookup(lookup: Lookup, allowed: ((address: string) => boolean) | undefined): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(new ProxyFailure('dns_failure', `${hostname} could not be resolved (${error.code ?? error.message}).`), '', 0);
      const list = addresses as unknown as LookupAddress[];
      if (list.length === 0) return callback(new ProxyFailure('dns_failure', `${hostname} has no address.`), '', 0);
      if (allowed && list.some((entry) => !allowed(entry.address))) return callback(targetForbidden(), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
      callback(null, list[0].address, list[0].family);
    });
  };
}

function tlsOptions(tls: TlsSettings) {
  return {
    rejectUnauthorized: tls.validateCertificates,
    ...(tls.ca ? { ca: [...rootCertificates, tls.ca] } : {}),
    ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}),
    ...(tls.pfx ? { pfx: tls.pfx } : {}),
    ...(tls.passphrase !== undefined ? { passphrase: tls.passphrase } : {}),
  };
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|ERR_OSSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH|ERR_CRYPTO_)/;

/** The failure as one of the stable codes, judged from the error chain and how far the hop got. */
function classify(error: unknown, timedOut: boolean, clock: HopClock, secure: boolean): ProxyFailure {
  if (timedOut) return new ProxyFailure('timeout', 'The request did not complete within its timeout.');
  const chain: { code?: string; message?: string; cause?: unknown }[] = [];
  for (let link = error as { cause?: unknown } | undefined; link && typeof link === 'object' && chain.length < 5; link = link.cause as typeof link) chain.push(link);
  if (clock.connectionError) chain.push(clock.connectionError);
  const failure = chain.find((link) => link instanceof ProxyFailure);
  if (failure) return failure as ProxyFailure;
  const message = chain[0]?.message ?? String(error);
  const codes = chain.map((link) => link.code ?? '');
  if (codes.some((code) => TIMEOUT_CODES.has(code))) return new ProxyFailure('timeout', message);
  if (codes.includes('ECONNREFUSED')) return new ProxyFailure('connection_refused', message);
  if (codes.some((code) => TLS_CODE.test(code)) || (secure && clock.connectEnd !== undefined && clock.tlsEnd === undefined)) return new ProxyFailure('tls_error', message);
  if (codes.some((code) => code === 'UND_ERR_INVALID_ARG' || code.startsWith('ERR_INVALID_'))) return new ProxyFailure('invalid_request', message);
  return new ProxyFailure('connection_failed', message);
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Headers that carry the caller's credentials or describe a body, dropped when a redirect goes elsewhere or drops the body. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);
const BODY_HEADERS = new Set(['content-type', 'content-length', 'content-encoding', 'transfer-encoding']);

/** The request a redirect leads to, as browsers and core's engine make it. */
function redirected(previous: OutgoingRequest, status: number, location: URL): OutgoingRequest {
  const toGet = status === 303 ? previous.method !== 'HEAD' : (status === 301 || status === 302) && previous.method === 'POST';
  const crossOrigin = new URL(previous.url).origin !== location.origin;
  const headers = previous.headers.filter(([name]) => {
    const lower = name.toLowerCase();
    return lower !== 'host' && !(crossOrigin && CREDENTIAL_HEADERS.has(lower)) && !(toGet && BODY_HEADERS.has(lower));
  });
  return { url: location.href, method: toGet ? 'GET' : previous.method, headers, body: toGet ? undefined : previous.body };
}

function headerList(headers: Record<string, string | string[] | undefined>): [string, string][] {
  const list: [string, string][] = [];
  for (const [name, value] of Object.entries(headers)) {
    for (const one of Array.isArray(value) ? value : [value ?? '']) list.push([name, one]);
  }
  return list;
}

/** Reads the body: up to `keep` bytes kept, the rest counted; past `limit` the download stops with `response_too_large`. */
async function readBody(body: Dispatcher.ResponseData['body'], keep: number, limit: number) {
  const chunks: Buffer[] = [];
  let kept = 0;
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      throw new ProxyFailure('response_too_large', `The response is larger than ${limit} bytes.`);
    }
    if (kept < keep) {
      const part = chunk.subarray(0, keep - kept);
      chunks.push(part);
      kept += part.length;
    }
  }
  return { bytes: Buffer.concat(chunks), size, truncated: size > kept };
}

export interface SenderOptions {
  /** Whether loopback, private and reserved addresses may be reached (the admin; teammates when the operator allows it). */
  allowPrivateTargets: boolean;
  /** The most response bytes downloaded at all; beyond it the result is `response_too_large`. */
  maxResponseBytes: number;
  lookup?: Lookup;
  /** Which addresses count as public; tests narrow it to tell two loopback servers apart. */
  isPublic?: (address: string) => boolean;
}

/**
 * The dispatchers of requests sent one after another, as a project run sends them: requests
 * with the same settings share one dispatcher and its keep-alive connections. A session's
 * requests must not overlap, because a new connection times onto the session's current hop.
 */
export class SendSession {
  clock: HopClock = { start: performance.now() };
  readonly dispatchers = new Map<string, Dispatcher>();

  /** `cancelled` aborts the request in flight, as when a run's client goes away. */
  constructor(readonly cancelled?: AbortSignal) {}

  close(): void {
    for (const dispatcher of this.dispatchers.values()) dispatcher.destroy().catch(() => undefined);
    this.dispatchers.clear();
  }
}

/**
 * Sends the app's HTTP request, follows redirects, and returns the response or the failure with
 * the timings of every hop. Never throws for a failure of the target: that is the result's `error`.
 */
export function createRequestSender(options: SenderOptions) {
  const allowed = options.allowPrivateTargets ? undefined : (options.isPublic ?? isPublicAddress);
  const lookup = connectionLookup(options.lookup ?? dnsLookup, allowed);

  /** The session's dispatcher for these settings: the TLS settings are the request's, and its connections time onto the session's hops. */
  function dispatcherFor(session: SendSession, settings: SendOptions): Dispatcher {
    const key = JSON.stringify([settings.tls, settings.proxyUrl ?? null, settings.timeoutMs]);
    let dispatcher = session.dispatchers.get(key);
    if (!dispatcher) {
      const tls = tlsOptions(settings.tls);
      dispatcher = settings.proxyUrl
        ? new ProxyAgent({ uri: settings.proxyUrl, requestTls: tls, proxyTls: { lookup }, headersTimeout: settings.timeoutMs, bodyTimeout: settings.timeoutMs })
        : new Agent({
            connect: timedConnector({ ...tls, lookup, timeout: settings.timeoutMs }, () => session.clock),
            headersTimeout: settings.timeoutMs,
            bodyTimeout: settings.timeoutMs,
          });
      session.dispatchers.set(key, dispatcher);
    }
    return dispatcher;
  }

  /** Sends one request; in `shared` (a run's session) or in a session of its own, closed when it is done. */
  async function sendRequest(first: OutgoingRequest, settings: SendOptions, shared?: SendSession): Promise<ProxyResult> {
    const session = shared ?? new SendSession();
    const startTime = Date.now();
    const started = performance.now();
    let clock: HopClock = { start: started };
    let current = first;
    const redirects: RedirectHop[] = [];
    const deadline = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      deadline.abort();
    }, settings.timeoutMs);
    const dispatcher = dispatcherFor(session, settings);
    const sent = () => ({ url: current.url, method: current.method, headers: current.headers });
    const finish = (result: Omit<ProxyResult, 'startTime' | 'request' | 'redirects' | 'total'>): ProxyResult => ({
      startTime,
      request: sent(),
      redirects,
      ...result,
      total: performance.now() - started,
    });

    // Literal addresses need no lookup, so the connection-time check never sees them: they are checked here, the proxy's too.
    const forbiddenLiteral = (address: string) => {
      const host = new URL(address).hostname.replace(/^\[|\]$/g, '');
      return !!allowed && isIP(host) !== 0 && !allowed(host);
    };
    try {
      if (settings.proxyUrl && forbiddenLiteral(settings.proxyUrl)) throw targetForbidden();
      for (;;) {
        clock = session.clock = { start: performance.now() };
        const url = new URL(current.url);
        if (forbiddenLiteral(current.url)) throw targetForbidden();
        const request = current;
        const response = await timedDispatch(clock, () =>
          dispatcher.request({
            origin: url.origin,
            path: `${url.pathname}${url.search}`,
            method: request.method as Dispatcher.HttpMethod,
            headers: request.headers.flat(),
            body: request.body,
            signal: session.cancelled ? AbortSignal.any([deadline.signal, session.cancelled]) : deadline.signal,
          }),
        );
        const location = response.headers.location;
        const next = settings.followRedirects && REDIRECTS.has(response.statusCode) && typeof location === 'string' ? URL.parse(location, url) : null;
        // A redirect to another scheme ends the chain: its response is the answer.
        if (next && (next.protocol === 'http:' || next.protocol === 'https:')) {
          await response.body.dump();
          clock.end ??= performance.now();
          redirects.push({ url: url.href, method: request.method, status: response.statusCode, statusText: response.statusText ?? '', location: next.href, timings: harTimings(clock) });
          if (redirects.length > settings.maxRedirects) throw new ProxyFailure('too_many_redirects', `More than ${settings.maxRedirects} redirects.`);
          current = redirected(request, response.statusCode, next);
          continue;
        }
        const body = await readBody(response.body, settings.maxBodyBytes, options.maxResponseBytes);
        clock.end ??= performance.now();
        const text = utf8Text(body.bytes);
        return finish({
          response: {
            status: response.statusCode,
            statusText: response.statusText ?? '',
            headers: headerList(response.headers),
            body: text ?? body.bytes.toString('base64'),
            bodyEncoding: text === undefined ? 'base64' : 'utf8',
            size: body.size,
            truncated: body.truncated,
            timings: harTimings(clock),
          },
        });
      }
    } catch (error) {
      const failure = session.cancelled?.aborted && !timedOut
        ? new ProxyFailure('cancelled', 'The request was cancelled: its client went away.')
        : classify(error, timedOut, clock, new URL(current.url).protocol === 'https:');
      return finish({ error: { code: failure.code, message: failure.message, ...failure.extra, timings: harTimings(clock) } });
    } finally {
      clearTimeout(timer);
      if (!shared) session.close();
    }
  }
  return sendRequest;
}
