import type { ServerResponse } from 'node:http';
import { stream } from 'hono/streaming';
import { z } from '@hono/zod-openapi';
import type { Api } from '../http/env.js';
import { ApiError } from '../http/problem.js';
import type { Services } from '../http/services.js';
import { prepareRequest } from '../proxy/prepare-request.js';
import { planProjectRun, ProjectRunBody, runProject, unsentResult } from '../proxy/project-run.js';
import { CoreRequestBody, ProxyResultSchema, SimpleRequest } from '../proxy/request-schema.js';
import { ProxyFailure, utf8Text } from '../proxy/failure.js';
import type { OutgoingRequest, ProxyResult } from '../proxy/send-request.js';
import { readMedia } from '../store/file-media.js';
import { createHistory, historyAccessOf } from '../store/history.js';
import { StoreError } from '../store/store-error.js';
import type { Store } from '../store/store.js';
import { createRoute, jsonBody } from '../http/openapi.js';

const proxy = createRoute({
  method: 'post',
  path: '/proxy',
  summary: 'Sends an HTTP request for the app and returns the response, or the failure, with timings',
  description:
    'A failure of the target (DNS, connection, TLS, timeout, redirects, size, a forbidden address, an unknown variable) is a 200 ' +
    'whose result has `error: {code, message, timings}` instead of `response`, as net-store answered. 4xx answers are for a ' +
    'call the store refuses before sending anything (validation, authentication, limits). A `Core#HttpProject` body runs a ' +
    'stored project and answers `application/x-ndjson`: one `{type:"request"}` line per request as it completes, then a ' +
    '`{type:"summary"}` line; closing the connection cancels the run before its next request.',
  request: jsonBody(z.union([CoreRequestBody, SimpleRequest, ProjectRunBody]).openapi('ProxyRequest')),
  responses: {
    200: {
      description: 'The request was sent, or failed with a stable code; for a project run, one line per request and a summary',
      content: { 'application/json': { schema: ProxyResultSchema }, 'application/x-ndjson': { schema: z.string() } },
    },
  },
});

const APP = 'api-store';
type Attachment = { app?: string; space?: string; project?: string; request?: string };
const headerBlock = (headers: [string, string][]) => headers.map(([name, value]) => `${name}: ${value}`).join('\n');

/**
 * The history entry of a sent request, in the shape `POST /history` accepts, attached to what the
 * request came from. A failure is kept under `log.error` (no `response`).
 */
async function recordInHistory(store: Store, user: string, from: Attachment, sent: OutgoingRequest, result: ProxyResult): Promise<NonNullable<ProxyResult['history']>> {
  const { response, error } = result;
  const requestText = sent.body && utf8Text(sent.body);
  try {
    const [entry] = await createHistory(store, historyAccessOf(store.storage, user), [
      {
        app: from.app ?? APP,
        ...(from.space ? { space: from.space } : {}),
        ...(from.project ? { project: from.project } : {}),
        ...(from.request ? { request: from.request } : {}),
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
                  timings: { ...response.timings },
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
    if (failure instanceof StoreError) return { error: { code: failure.code, message: failure.message } };
    throw failure;
  }
}

/**
 * The store's admin (the desktop user, or the token holder in server mode) may reach loopback
 * and private targets, as a local API client must; teammates on a shared store may not, unless
 * the operator allows it.
 */
/**
 * Aborts once the client is gone before its answer is complete. Read from Node's response:
 * `c.req.raw.signal` would build a Fetch Request over a body the shell has already read.
 */
function clientGone(outgoing: ServerResponse): AbortSignal {
  const controller = new AbortController();
  outgoing.once('close', () => {
    if (!outgoing.writableFinished) controller.abort();
  });
  return controller.signal;
}

type Sender = ReturnType<(typeof import('../proxy/send-request.js'))['createRequestSender']>;

export function registerProxy(api: Api, { config, store }: Services): void {
  const { allowPrivateTargets, maxResponseBytes, ...defaults } = config.proxy;
  // undici and the connection timing hooks load with the first request sent, not at start.
  let loading: Promise<typeof import('../proxy/send-request.js') & { forAdmin: Sender; forTeammates: Sender }> | undefined;
  const sending = () =>
    (loading ??= import('../proxy/send-request.js').then((sender) => ({
      ...sender,
      forAdmin: sender.createRequestSender({ allowPrivateTargets: true, maxResponseBytes }),
      forTeammates: sender.createRequestSender({ allowPrivateTargets, maxResponseBytes }),
    })));
  api.openapi(proxy, async (c) => {
    const caller = c.get('caller');
    const input = c.req.valid('json');
    const { forAdmin, forTeammates, SendSession } = await sending();
    const send = caller.admin ? forAdmin : forTeammates;
    if ('kind' in input && input.kind === 'Core#HttpProject') {
      const signal = clientGone(c.env.outgoing);
      let plan;
      try {
        plan = planProjectRun((await readMedia(store.storage, caller.user, input.pid)).value, input);
      } catch (error) {
        if (error instanceof ProxyFailure) throw new ApiError('validation_failed', error.message);
        throw error;
      }
      const record = input.history ? (sent: OutgoingRequest, result: ProxyResult, request: string) => recordInHistory(store, caller.user, { project: input.pid, request }, sent, result) : undefined;
      c.header('Content-Type', 'application/x-ndjson');
      // A stream is not one of the typed JSON answers the route declares, hence the cast.
      return stream(c, async (ndjson) => {
        // Nobody reads the lines of a client that went away.
        const emit = async (line: object) => {
          if (!signal.aborted) await ndjson.writeln(JSON.stringify(line));
        };
        // The run's requests go one after another, so they share keep-alive connections.
        const session = new SendSession();
        try {
          await runProject(plan, input.options, { send: (request, settings) => send(request, settings, session), defaults, record, signal }, emit);
        } finally {
          session.close();
        }
      }) as never;
    }
    let prepared;
    try {
      prepared = prepareRequest(input, defaults);
    } catch (error) {
      if (!(error instanceof ProxyFailure)) throw error;
      return c.json(unsentResult(error), 200);
    }
    const result: ProxyResult = await send(prepared.request, prepared.settings);
    if (input.history) result.history = await recordInHistory(store, caller.user, input.from, prepared.request, result);
    return c.json(result, 200);
  });
}
