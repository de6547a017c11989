import type { ServerResponse } from 'node:http';
import { stream } from 'hono/streaming';
import { z } from '@hono/zod-openapi';
import type { Api } from '../http/env.js';
import { ApiError } from '../http/problem.js';
import type { Services } from '../http/services.js';
import { loadStoredCertificates, prepareRequest } from '../proxy/prepare-request.js';
import { planProjectRun, ProjectRunBody, runProject, unsentResult } from '../proxy/project-run.js';
import { CoreRequestBody, ProxyResultSchema, SimpleRequest, type CoreRequestInput } from '../proxy/request-schema.js';
import { isSecretMarker, openSecret, revealContents } from '../secrets/contents.js';
import { atLeast } from '../store/access.js';
import { readVisibleFile, requireRole } from '../store/files.js';
import { ProxyFailure, utf8Text } from '../proxy/failure.js';
import type { OutgoingRequest, ProxyResult } from '../proxy/send-request.js';
import { readStoredCertificate } from '../proxy/stored-certificate.js';
import { readMedia } from '../store/file-media.js';
import { createHistory, historyAccessOf } from '../store/history.js';
import { maskValues } from '../store/history-masking.js';
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
    '`{type:"summary"}` line; closing the connection cancels the run before its next request. A client certificate is given ' +
    'inline or stored: a `Core#Certificate` file named by its key (`certificates: [{key}]`, or a `client certificate` ' +
    'authorization\'s `config.id`); one the caller cannot read is a `certificate_not_found` result, and nothing is sent.',
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
async function recordInHistory(store: Store, user: string, from: Attachment, sent: OutgoingRequest, result: ProxyResult, secrets: readonly string[]): Promise<NonNullable<ProxyResult['history']>> {
  const { response, error } = result;
  const requestText = sent.body && utf8Text(sent.body);
  try {
    // The values of secrets the store substituted never reach history.
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
    ], { secretValues: secrets });
    return { key: entry.key };
  } catch (failure) {
    // The request went out: a refused attachment must not hide its response.
    if (failure instanceof StoreError) return { error: { code: failure.code, message: failure.message } };
    throw failure;
  }
}

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

/**
 * A project's contents for a run: its secrets opened for writers and owners, who may reveal
 * them anyway. Readers run without them (a run can be pointed at any host through its
 * variables, so using a secret is as good as reading it); their requests that use one fail
 * with `unknown_variable`.
 */
async function runnableProject(store: Store, user: string, pid: string): Promise<{ document: unknown; secrets: string[] }> {
  const file = await readVisibleFile(store.storage, user, pid);
  const media = await readMedia(store.storage, user, pid);
  if (!atLeast(file.role, 'writer')) return { document: media.value, secrets: [] };
  const revealed = await revealContents(store.secrets, store.storage, pid, file.record.kind, media.value);
  return { document: revealed.document, secrets: revealed.values.map(String) };
}

/**
 * A request's variables with their stored-secret references opened from the project named in
 * `from.project` (writers and owners of it only). A reference the project does not hold stays
 * undefined, so a request using it fails with `unknown_variable`.
 */
async function withSecretVariables(store: Store, user: string, input: CoreRequestInput): Promise<{ input: CoreRequestInput; secrets: string[] }> {
  const { variables } = input;
  const values = variables === undefined ? [] : Array.isArray(variables) ? variables.map((variable) => variable.value) : Object.values(variables);
  if (!values.some(isSecretMarker)) return { input, secrets: [] };
  const project = input.from.project;
  if (project === undefined) throw new ApiError('validation_failed', 'A variable refers to a stored secret: name the project that holds it in from.project.', { errors: [{ path: 'json.from.project', message: 'required with a secret reference' }] });
  requireRole(await readVisibleFile(store.storage, user, project), 'writer', 'use the secrets of');
  const secrets: string[] = [];
  const open = async <T>(value: T): Promise<T | string> => {
    if (!isSecretMarker(value)) return value;
    const opened = await openSecret(store.secrets, store.storage, project, value.$secret);
    if (opened === undefined) return value;
    secrets.push(String(opened));
    return String(opened);
  };
  const resolved = Array.isArray(variables)
    ? await Promise.all(variables.map(async (variable) => ({ ...variable, value: await open(variable.value) })))
    : Object.fromEntries(await Promise.all(Object.entries(variables!).map(async ([name, value]) => [name, await open(value)] as const)));
  return { input: { ...input, variables: resolved }, secrets };
}

type Sender = ReturnType<(typeof import('../proxy/send-request.js'))['createRequestSender']>;

export function registerProxy(api: Api, { config, store }: Services): void {
  const { allowPrivateTargets, maxResponseBytes, ...defaults } = config.proxy;
  // undici and the connection timing hooks load with the first request sent, not at start.
  // The store's admin (the desktop user, or the token holder in server mode) may reach loopback
  // and private targets, as a local API client must; teammates may not, unless the operator allows it.
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
    const readCertificate = (key: string) => readStoredCertificate(store, caller.user, key);
    if ('kind' in input && input.kind === 'Core#HttpProject') {
      const signal = clientGone(c.env.outgoing);
      let plan;
      const project = await runnableProject(store, caller.user, input.pid);
      try {
        plan = planProjectRun(project.document, input);
      } catch (error) {
        if (error instanceof ProxyFailure) throw new ApiError('validation_failed', error.message);
        throw error;
      }
      const { secrets } = project;
      const record = input.history ? (sent: OutgoingRequest, result: ProxyResult, request: string) => recordInHistory(store, caller.user, { project: input.pid, request }, sent, result, secrets) : undefined;
      c.header('Content-Type', 'application/x-ndjson');
      // A stream is not one of the typed JSON answers the route declares, hence the cast.
      return stream(c, async (ndjson) => {
        // Nobody reads the lines of a client that went away.
        // The app gets the requests as sent, but never the secrets' values.
        const emit = async (line: object) => {
          if (!signal.aborted) await ndjson.writeln(JSON.stringify(maskValues(line, secrets)));
        };
        // The run's requests go one after another, so they share keep-alive connections.
        // A client that goes away cancels the request in flight as well as the ones after it.
        const session = new SendSession(signal);
        try {
          await runProject(plan, input.options, { send: (request, settings) => send(request, settings, session), defaults, record, readCertificate, signal }, emit);
        } finally {
          session.close();
        }
      }) as never;
    }
    const { input: request, secrets } = 'kind' in input ? await withSecretVariables(store, caller.user, input) : { input, secrets: [] };
    let prepared;
    try {
      prepared = prepareRequest(request, defaults, await loadStoredCertificates(request, readCertificate));
    } catch (error) {
      if (!(error instanceof ProxyFailure)) throw error;
      return c.json(unsentResult(error), 200);
    }
    const result: ProxyResult = maskValues(await send(prepared.request, prepared.settings), secrets);
    if (input.history) result.history = await recordInHistory(store, caller.user, input.from, prepared.request, result, secrets);
    return c.json(result, 200);
  });
}
