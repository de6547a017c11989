import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context } from 'hono';
import { METHOD_NAME_ALL } from 'hono/router';
import { matchedRoutes } from 'hono/route';
import type { Logger } from '../logger.js';
import { HAR_SNIFF_BYTES, startsLikeHar } from '../projects/import/detect.js';
import { checkDepth } from '../store/document-limits.js';
import { headerOf, setResponseHeader, type AppEnv } from './env.js';
import { ApiError } from './problem.js';

/** A valid incoming X-Request-ID is echoed (Hono's request-id middleware's rule); otherwise one is made. */
const validRequestId = (id: string | undefined): id is string => id !== undefined && id.length <= 255 && !/[^\w\-=]/.test(id);

/** The shell around a request: `enter` before anything else handles it, `leave` once it is answered. */
export interface HardShell {
  /** Sets the request id and starts the clock. */
  enter(c: Context<AppEnv>): void;
  leave(c: Context<AppEnv>): void;
}

/** What the shell keeps on a request's context, for `leave` and `respondJson`. */
export interface ShellState {
  /** The fixed headers, as `[name, value, name, value, ...]`. */
  fixed: string[];
  requestId: string;
  started: number;
  /** What `respondJson` wrote on Node's response, with the shell's headers. */
  sent?: { status: number; ms: string };
}

const elapsed = (state: ShellState) => (performance.now() - state.started).toFixed(2);

/** The shell's headers, as `[name, value, name, value, ...]`. */
function shellHeaders(state: ShellState, ms: string): string[] {
  const headers = state.fixed.slice();
  headers.push('X-Request-ID', state.requestId, 'X-Response-Time', `${ms}ms`);
  return headers;
}

/**
 * The hard-shell headers of DESIGN.md (HSTS only where the listener speaks TLS), the request id,
 * the response time, and one JSON log line per request (method, path but never the query, which
 * may hold a token, status, time): header and log line come from the one measurement. In place of
 * Hono's request-id and secure-headers middleware: the headers go on Node's response (see
 * `setResponseHeader`), so a response with only its Content-Type stays on the adapter's fast path
 * instead of building a Fetch Response and `Headers` for every request.
 */
export function hardShell(tls: boolean, log: Logger): HardShell {
  // Only the headers DESIGN.md asks for: a JSON API has no use for the legacy browser ones
  // (X-Frame-Options is covered by frame-ancestors), and every header set costs per request.
  const fixed = [
    'Cache-Control', 'no-store',
    'Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'",
    'Cross-Origin-Resource-Policy', 'same-origin',
    'Referrer-Policy', 'no-referrer',
    'X-Content-Type-Options', 'nosniff',
    ...(tls ? ['Strict-Transport-Security', 'max-age=31536000'] : []),
  ];
  const enter = (c: Context<AppEnv>) => {
    const given = headerOf(c, 'x-request-id');
    const requestId = validRequestId(given) ? given : randomUUID();
    c.set('requestId', requestId);
    c.set('shell', { fixed, requestId, started: performance.now() });
  };
  const leave = (c: Context<AppEnv>) => {
    const state = c.get('shell');
    const ms = state.sent?.ms ?? elapsed(state);
    const outgoing = c.env?.outgoing;
    if (!state.sent) {
      const headers = shellHeaders(state, ms);
      const onNode = outgoing && !outgoing.headersSent;
      for (let i = 0; i < headers.length; i += 2) {
        if (onNode) outgoing.setHeader(headers[i], headers[i + 1]);
        else c.res.headers.set(headers[i], headers[i + 1]);
      }
    }
    log.info('request', { requestId: state.requestId, method: c.req.method, path: c.req.path, status: state.sent?.status ?? c.res.status, ms: Number(ms) });
  };
  return { enter, leave };
}

/**
 * A JSON answer, `json` (JSON.stringify's text), written straight on Node's response: the
 * shell's headers, the route's and the body's go in one `writeHead`, where `c.json` builds a
 * Response whose headers the adapter then merges with those set on Node's response, checking each
 * twice. A request from a browser (`Origin`: the CORS middleware adds its headers to Hono's
 * response), or one without a Node response, is answered with `c.json`, which gives the same text.
 */
export function respondJson(c: Context<AppEnv>, json: string, headers: string[], status: 200 | 201 = 200): Response {
  const outgoing = c.env?.outgoing;
  const state = c.get('shell') as ShellState | undefined;
  if (!outgoing || outgoing.headersSent || !state || headerOf(c, 'origin') !== undefined) {
    for (let i = 0; i < headers.length; i += 2) setResponseHeader(c, headers[i], headers[i + 1]);
    return c.json(JSON.parse(json) as object, status);
  }
  const ms = elapsed(state);
  const all = shellHeaders(state, ms);
  for (const header of headers) all.push(header);
  all.push('Content-Type', 'application/json', 'Content-Length', String(Buffer.byteLength(json)));
  outgoing.writeHead(status, all);
  outgoing.end(json);
  state.sent = { status, ms };
  return RESPONSE_ALREADY_SENT;
}

export const isJson = (type: string) => /^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type);

/** Whether a request carries a body, from its headers alone: touching c.req.raw would make the adapter build a full Request. */
export function hasBody(c: Context<AppEnv>): boolean {
  const method = c.req.method;
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return false;
  const length = headerOf(c, 'content-length');
  return !(length === '0' || (length === undefined && headerOf(c, 'transfer-encoding') === undefined));
}

/**
 * The routes whose body is a file's contents when asked with `?alt=media` (routes/files.ts).
 * `anyType`: the contents may be of any type; a body that is not JSON reaches the route unparsed.
 */
const mediaRoutes = new Map<string, { anyType: boolean }>([
  ['POST /files', { anyType: false }],
  ['PUT /files/:key', { anyType: true }],
  ['PATCH /files/:key', { anyType: false }],
]);

/**
 * Routes that also take text bodies, which the route itself parses, with the media cap: an
 * import reads YAML (Insomnia v5, OpenAPI) and cURL command lines (routes/import.ts).
 */
const textRoutes = new Set(['POST /import']);
const isText = (type: string) => /^(application\/(x-)?yaml|text\/(x-)?yaml|text\/plain)\s*(;|$)/i.test(type);

/**
 * Routes that stream a HAR body themselves, under `harImportBytes` (routes/import.ts): a JSON body
 * that starts like a HAR is left unread here, and any other one is read as usual.
 */
const harRoutes = new Set(['POST /import']);

/** The route a request reached, as `METHOD /path/:param` below the prefix; none when only middleware matched (404, 405). */
function routeOf(c: Context<AppEnv>, prefix: string): string | undefined {
  const route = matchedRoutes(c).filter((candidate) => candidate.method !== METHOD_NAME_ALL).at(-1);
  return route && route.path.startsWith(prefix) ? `${route.method} ${route.path.slice(prefix.length)}` : undefined;
}

const megabytes = (bytes: number) => `${Math.round((bytes / (1024 * 1024)) * 100) / 100} MB`;

const tooLarge = (cap: number, what: string) =>
  new ApiError('payload_too_large', `The request body is larger than ${cap} bytes (${megabytes(cap)}), the most this store accepts for ${what}.`, { extra: { limit: cap } });

/**
 * Bodies are size-capped and, but for text imports and contents of any type, JSON only and
 * depth-capped. The cap comes from the route the request reached: a file's contents (`?alt=media`
 * on a media route) and imports up to `mediaBytes`, every other body up to `metadataBytes`. The
 * body is read here, once, straight from Node's request (no Fetch Request is built for it) and put
 * in Hono's body cache, where the route's validator and `c.req.json()` find it, before the route
 * runs. A body that reaches no route is read up to the cap, not parsed.
 */
export function jsonBodies(
  limits: { metadataBytes: number; mediaBytes: number; harImportBytes: number; jsonDepth: number },
  prefix: string,
): (c: Context<AppEnv>) => Promise<void> | undefined {
  const acceptJsonBody = async (c: Context<AppEnv>) => {
    const route = routeOf(c, prefix);
    const contents = route !== undefined && c.req.query('alt') === 'media' ? mediaRoutes.get(route) : undefined;
    const textRoute = route !== undefined && textRoutes.has(route);
    const type = headerOf(c, 'content-type');
    const json = type !== undefined && isJson(type);
    const text = textRoute && type !== undefined && isText(type);
    if (!json && !text && !contents?.anyType) {
      const accepted = textRoute ? 'JSON, YAML or text' : 'JSON (Content-Type: application/json)';
      throw new ApiError('unsupported_media_type', `Request bodies must be ${accepted}.`);
    }
    const [cap, what] = contents || textRoute ? [limits.mediaBytes, 'a file’s contents or an import'] : [limits.metadataBytes, 'this request'];
    let start: { bytes: Buffer; ended: boolean } | undefined;
    if (json && route !== undefined && harRoutes.has(route)) {
      if (Number(headerOf(c, 'content-length')) > limits.harImportBytes) throw tooLarge(limits.harImportBytes, 'a HAR import');
      start = await readStart(c.env.incoming);
      if (startsLikeHar(start.bytes.toString('utf8'))) {
        c.set('harBody', rest(start, c.env.incoming));
        return;
      }
    }
    if (Number(headerOf(c, 'content-length')) > cap) throw tooLarge(cap, what);
    const bytes = start?.ended ? start.bytes : await readBody(c.env.incoming, cap, () => tooLarge(cap, what), start?.bytes);
    if (route === undefined) return;
    // Hono keeps promises in its body cache (`c.req.json()` chains on it), though it types them as values.
    if (json || text) {
      const body = bytes.toString('utf8');
      // A text body is parsed (and depth-checked) by its route.
      if (json) {
        const value = parseJson(body);
        checkDepth(value, limits.jsonDepth);
        c.set('jsonBody', { value });
      }
      c.req.bodyCache.text = Promise.resolve(body) as unknown as string;
    } else {
      c.req.bodyCache.arrayBuffer = Promise.resolve(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) as unknown as ArrayBuffer;
    }
  };
  // No promise for a request without a body.
  return (c) => (hasBody(c) ? acceptJsonBody(c) : undefined);
}

/** A request's JSON body: the value `jsonBodies` parsed, else Hono's own parse of the body. */
export function jsonBodyOf(c: Context<AppEnv>): Promise<unknown> {
  const parsed = c.get('jsonBody');
  return parsed ? Promise.resolve(parsed.value) : c.req.json();
}

/** The first bytes of a body, enough for `startsLikeHar`; the stream is left paused. */
function readStart(incoming: IncomingMessage): Promise<{ bytes: Buffer; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const done = (settle: () => void) => {
      incoming.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      settle();
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      const bytes = Buffer.concat(chunks);
      // Leading whitespace does not count, up to a bound.
      if (bytes.toString('utf8').trimStart().length < HAR_SNIFF_BYTES && bytes.length < 16 * HAR_SNIFF_BYTES) return;
      incoming.pause();
      done(() => resolve({ bytes, ended: false }));
    };
    const onEnd = () => done(() => resolve({ bytes: Buffer.concat(chunks), ended: true }));
    const onError = (error: Error) => done(() => reject(error));
    const onClose = () => done(() => reject(new Error('The client closed the request before its body ended.')));
    incoming.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/**
 * A body's bytes from its start on, read as the route consumes them. A route that stops early
 * leaves the stream as it is, for the listener to discard the rest once the answer is sent.
 */
async function* rest(start: { bytes: Buffer; ended: boolean }, incoming: IncomingMessage): AsyncGenerator<Buffer> {
  yield start.bytes;
  if (!start.ended) yield* incoming.iterator({ destroyOnReturn: false });
}

/**
 * The whole body (after `start`, when its first bytes were read already), refused as soon as it
 * passes `cap` bytes. The stream is then paused: the listener reads and discards the rest once
 * the answer is sent (listen.ts).
 */
function readBody(incoming: IncomingMessage, cap: number, tooLarge: () => ApiError, start?: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = start ? [start] : [];
  let size = start?.length ?? 0;
  // A body that has all arrived (a small one comes with its headers) is taken from the stream's
  // buffer at once: the events below cost a turn each, several times the read.
  if (incoming.complete && !incoming.destroyed) {
    for (let chunk: Buffer | null = incoming.read(); chunk !== null; chunk = incoming.read()) {
      size += chunk.length;
      chunks.push(chunk);
    }
    return size > cap ? Promise.reject(tooLarge()) : Promise.resolve(Buffer.concat(chunks, size));
  }
  return new Promise((resolve, reject) => {
    if (size > cap) return reject(tooLarge());
    const done = (settle: () => void) => {
      incoming.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      settle();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= cap) return void chunks.push(chunk);
      incoming.pause();
      done(() => reject(tooLarge()));
    };
    const onEnd = () => done(() => resolve(Buffer.concat(chunks, size)));
    const onError = (error: Error) => done(() => reject(error));
    const onClose = () => done(() => reject(new Error('The client closed the request before its body ended.')));
    incoming.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
    // After readStart the stream is paused, and a new listener does not resume it.
    incoming.resume();
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError('malformed_json', 'The request body is not valid JSON.');
  }
}
