import type { Api } from '../http/env.js';
import { ApiError } from '../http/problem.js';
import type { Services } from '../http/services.js';
import { prepareRequest } from '../proxy/prepare-request.js';
import { ProxyRequestBody, ProxyResultSchema, type ProxyRequestInput } from '../proxy/request-schema.js';
import { createRequestSender, ProxyFailure, utf8Text, type OutgoingRequest, type ProxyResult } from '../proxy/send-request.js';
import { createHistory, historyAccessOf } from '../store/history.js';
import type { Store } from '../store/store.js';
import { createRoute, jsonBody, jsonResponse } from '../http/openapi.js';

const proxy = createRoute({
  method: 'post',
  path: '/proxy',
  summary: 'Sends an HTTP request for the app and returns the response, or the failure, with timings',
  description:
    'A failure of the target (DNS, connection, TLS, timeout, redirects, size, a forbidden address, an unknown variable) is a 200 ' +
    'whose result has `error: {code, message, timings}` instead of `response`, as net-store answered. 4xx answers are for a ' +
    'call the store refuses before sending anything (validation, authentication, limits).',
  request: jsonBody(ProxyRequestBody),
  responses: { 200: jsonResponse(ProxyResultSchema, 'The request was sent, or failed with a stable code') },
});

const APP = 'api-store';
const headerBlock = (headers: [string, string][]) => headers.map(([name, value]) => `${name}: ${value}`).join('\n');

/**
 * The history entry of a sent request, in the shape `POST /history` accepts, attached to what the
 * request came from. A failure is kept under `log.error` (no `response`).
 */
async function recordInHistory(store: Store, user: string, input: ProxyRequestInput, sent: OutgoingRequest, result: ProxyResult): Promise<NonNullable<ProxyResult['history']>> {
  const { response, error } = result;
  const requestText = sent.body && utf8Text(sent.body);
  try {
    const [entry] = await createHistory(store, historyAccessOf(store.storage, user), [
      {
        app: input.from.app ?? APP,
        ...(input.from.space ? { space: input.from.space } : {}),
        ...(input.from.project ? { project: input.from.project } : {}),
        ...(input.from.request ? { request: input.from.request } : {}),
        created: result.startTime,
        log: {
          request: { url: result.request.url, method: result.request.method, headers: headerBlock(result.request.headers), ...(requestText ? { payload: requestText } : {}), startTime: result.startTime },
          ...(response
            ? {
                response: {
                  status: response.status,
                  statusText: response.statusText,
                  headers: headerBlock(response.headers),
                  ...(response.bodyEncoding === 'utf8' && !response.truncated ? { payload: response.body } : {}),
                  timings: response.timings,
                  size: response.size,
                },
              }
            : {}),
          ...(result.redirects.length ? { redirects: result.redirects } : {}),
          ...(error ? { error } : {}),
        },
      },
    ]);
    return { key: entry.key };
  } catch (failure) {
    // The request went out: a refused attachment must not hide its response.
    if (failure instanceof ApiError) return { error: { code: failure.code, message: failure.message } };
    throw failure;
  }
}

/**
 * The store's admin (the desktop user, or the token holder in server mode) may reach loopback
 * and private targets, as a local API client must; teammates on a shared store may not, unless
 * the operator allows it.
 */
export function registerProxy(api: Api, { config, store }: Services): void {
  const { allowPrivateTargets, maxResponseBytes, ...defaults } = config.proxy;
  const forAdmin = createRequestSender({ allowPrivateTargets: true, maxResponseBytes });
  const forTeammates = createRequestSender({ allowPrivateTargets, maxResponseBytes });
  api.openapi(proxy, async (c) => {
    const caller = c.get('caller');
    const input = c.req.valid('json');
    const send = caller.admin ? forAdmin : forTeammates;
    let prepared;
    try {
      prepared = prepareRequest(input, defaults);
    } catch (error) {
      if (!(error instanceof ProxyFailure)) throw error;
      return c.json({ startTime: Date.now(), request: { url: '', method: '', headers: [] }, redirects: [], error: { code: error.code, message: error.message, ...error.extra, timings: notSent }, total: 0 }, 200);
    }
    const result: ProxyResult = await send(prepared.request, prepared.settings);
    if (input.history) result.history = await recordInHistory(store, caller.user, input, prepared.request, result);
    return c.json(result, 200);
  });
}

const notSent = { blocked: -1, dns: -1, connect: -1, ssl: -1, send: -1, wait: -1, receive: -1, total: 0 };
