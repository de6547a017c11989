import { z } from '@hono/zod-openapi';
import { certificateSchema, projectDocumentSchema, type Certificate, type StoredCertificate, type ProjectDocument, type ProjectItem, type ProjectRequest } from '../projects/project-document.js';
import { loadStoredCertificates, prepareRequest, type ProxyDefaults } from './prepare-request.js';
import { CoreRequestBody } from './request-schema.js';
import { ProxyFailure } from './failure.js';
import type { OutgoingRequest, ProxyResult } from './send-request.js';
import { isSecretMarker } from '../secrets/contents.js';

/**
 * A project run: the requests of a stored `Core#HttpProject`, in the project's order, with an
 * environment's variables and server. The project is read as the store's project document.
 */

export const ProjectRunBody = z.object({
  kind: z.literal('Core#HttpProject'),
  /** The project file's key. */
  pid: z.string().min(1).max(128),
  options: z
    .object({
      /** An environment of the project, by key or name. */
      environment: z.string().optional(),
      /** Variables over the environment's. */
      variables: z.record(z.string(), z.string()).optional(),
      /** Only these requests, or only the requests under these folders; in the project's order either way. */
      requests: z.array(z.string()).optional(),
      folders: z.array(z.string()).optional(),
      iterations: z.number().int().min(1).max(1000).default(1),
      delayMs: z.number().int().min(0).max(60_000).default(0),
      /** Stop at the first failure or 4xx/5xx answer. */
      bail: z.boolean().default(false),
    })
    .default({ iterations: 1, delayMs: 0, bail: false }),
  history: z.boolean().default(true),
});
export type ProjectRunInput = z.infer<typeof ProjectRunBody>;

interface RunnableRequest {
  key: string;
  name: string;
  expects: ProjectRequest['expects'];
  authorization?: ProjectRequest['authorization'];
  config?: ProjectRequest['config'];
}

/** The project's requests in tree order: top-level items first to last, a folder's contents where the folder is. */
function requestsInOrder(project: ProjectDocument, only: { requests?: string[]; folders?: string[] }): RunnableRequest[] {
  const requests = new Map((project.definitions.requests ?? []).map((request) => [request.key, request]));
  const folders = new Map((project.definitions.folders ?? []).map((folder) => [folder.key, folder]));
  const ordered: RunnableRequest[] = [];
  const visited = new Set<string>();
  const walk = (items: ProjectItem[], inChosenFolder: boolean) => {
    for (const item of items) {
      if (visited.has(item.key)) continue;
      visited.add(item.key);
      const folder = folders.get(item.key);
      if (item.kind === 'Core#ProjectFolder' && folder) walk(folder.items, inChosenFolder || !!only.folders?.includes(folder.key));
      const request = requests.get(item.key);
      if (item.kind !== 'Core#ProjectRequest' || !request) continue;
      const chosen = only.requests ? only.requests.includes(request.key) : only.folders ? inChosenFolder : true;
      if (chosen) ordered.push({ key: request.key, name: request.info.name ?? request.key, expects: request.expects, authorization: request.authorization, config: request.config });
    }
  };
  walk(project.items, false);
  return ordered;
}

/** The environment's variables (enabled ones) under the caller's, and its server's URI. */
function environmentOf(project: ProjectDocument, wanted: string | undefined, overrides: Record<string, string> = {}): { variables: Record<string, string>; server?: string } {
  if (wanted === undefined) return { variables: overrides };
  const environment = (project.definitions.environments ?? []).find((candidate) => candidate.key === wanted || candidate.info.name === wanted);
  if (!environment) throw new ProxyFailure('invalid_request', `The project has no environment ${wanted}.`);
  // A secret still sealed (the caller may not use it) is not defined for this run.
  const usable = environment.variables.filter((variable) => variable.enabled !== false && !isSecretMarker(variable.value));
  const variables = Object.fromEntries(usable.map((variable) => [variable.name, String(variable.value)]));
  return { variables: { ...variables, ...overrides }, server: environment.server?.uri };
}

export interface RunLine {
  type: 'request';
  iteration: number;
  key: string;
  name: string;
  result: ProxyResult;
}

export interface RunSummary {
  type: 'summary';
  requests: number;
  byStatusClass: Record<string, number>;
  failures: number;
  total: number;
  cancelled: boolean;
  bailed: boolean;
}

export interface RunDependencies {
  send: (request: OutgoingRequest, settings: ReturnType<typeof prepareRequest>['settings']) => Promise<ProxyResult>;
  defaults: ProxyDefaults;
  /** Writes the history entry of one sent request (the route's own writer). */
  record?: (sent: OutgoingRequest, result: ProxyResult, requestKey: string) => Promise<ProxyResult['history']>;
  /** Loads a stored certificate a request names, if the caller may read it (see `readStoredCertificate`). */
  readCertificate: (key: string) => Promise<Certificate>;
  signal: AbortSignal;
}

const notSent = { blocked: -1, dns: -1, connect: -1, ssl: -1, send: -1, wait: -1, receive: -1, total: 0 };

/** A result for a request that could not be sent (unknown variable, invalid after substitution). */
export function unsentResult(failure: ProxyFailure, url = ''): ProxyResult {
  return { startTime: Date.now(), request: { url, method: '', headers: [] }, redirects: [], error: { code: failure.code, message: failure.message, ...failure.extra, timings: notSent }, total: 0 };
}

const isFailure = (result: ProxyResult) => !!result.error || (result.response?.status ?? 0) >= 400;

export interface RunPlan {
  requests: RunnableRequest[];
  variables: Record<string, string>;
  /** The environment's server URI, put in front of request URLs that are not absolute. */
  server?: string;
  /** The project's own certificates (`definitions.certificates`), by key: found before stored ones. */
  certificates: Map<string, StoredCertificate>;
}

/** A project's own certificate, whose secrets were opened for writers (a reader's run holds only their markers). */
async function presentable(certificate: StoredCertificate): Promise<Certificate> {
  const parsed = certificateSchema.safeParse(certificate);
  if (parsed.success) return parsed.data;
  throw new ProxyFailure('certificate_not_found', `The key of the project's certificate ${certificate.key} is a secret: only writers of the project can present it.`);
}

/** What a run will send; a document that is not a project, or an environment it lacks, is an `invalid_request` failure before anything is sent. */
export function planProjectRun(document: unknown, input: ProjectRunInput): RunPlan {
  const parsed = projectDocumentSchema.safeParse(document);
  if (!parsed.success) throw new ProxyFailure('invalid_request', `File ${input.pid} is not an HTTP project.`);
  const environment = environmentOf(parsed.data, input.options.environment, input.options.variables);
  const certificates = new Map((parsed.data.definitions.certificates ?? []).map((certificate) => [certificate.key, certificate]));
  return { requests: requestsInOrder(parsed.data, input.options), ...environment, certificates };
}

/**
 * Runs the plan, calling `emit` with one line per request as it completes and a summary last.
 * An aborted `signal` (the client went away) stops the run before the next request; the sender
 * is expected to cancel the request in flight with the same signal.
 */
export async function runProject(plan: RunPlan, options: ProjectRunInput['options'], deps: RunDependencies, emit: (line: RunLine | RunSummary) => Promise<void>): Promise<void> {
  const started = performance.now();
  const summary: RunSummary = { type: 'summary', requests: 0, byStatusClass: {}, failures: 0, total: 0, cancelled: false, bailed: false };
  const { server } = plan;
  // A request's certificate is the project's own, else a stored one, read once per run however many requests present it.
  const certificates = new Map<string, Promise<Certificate>>();
  const readCertificate = (key: string) => {
    let reading = certificates.get(key);
    const own = plan.certificates.get(key);
    if (!reading) certificates.set(key, (reading = own ? presentable(own) : deps.readCertificate(key)));
    return reading;
  };
  const withServer = (url: string) => (server && !/^[a-z][a-z0-9+.-]*:/i.test(url) ? `${server.replace(/\/+$/, '')}/${url.replace(/^\/+/, '')}` : url);

  run: for (let iteration = 1; iteration <= options.iterations; iteration++) {
    for (const request of plan.requests) {
      if (deps.signal.aborted) {
        summary.cancelled = true;
        break run;
      }
      const body = CoreRequestBody.safeParse({ kind: 'Core#HttpRequest', request: request.expects, authorization: request.authorization, config: request.config, variables: plan.variables });
      let result: ProxyResult;
      let sent: OutgoingRequest | undefined;
      if (!body.success) {
        result = unsentResult(new ProxyFailure('invalid_request', `Request ${request.key} is not a valid HTTP request: ${body.error.issues[0]?.message ?? ''}`));
      } else {
        try {
          const stored = await loadStoredCertificates(body.data, readCertificate);
          const prepared = prepareRequest({ ...body.data, request: { ...body.data.request, url: withServer(body.data.request.url) } }, deps.defaults, stored);
          sent = prepared.request;
          result = await deps.send(prepared.request, prepared.settings);
        } catch (error) {
          if (!(error instanceof ProxyFailure)) throw error;
          result = unsentResult(error);
        }
      }
      if (sent && deps.record) result.history = await deps.record(sent, result, request.key);
      summary.requests += 1;
      if (result.response) {
        const statusClass = `${Math.floor(result.response.status / 100)}xx`;
        summary.byStatusClass[statusClass] = (summary.byStatusClass[statusClass] ?? 0) + 1;
      }
      if (isFailure(result)) summary.failures += 1;
      await emit({ type: 'request', iteration, key: request.key, name: request.name, result });
      if (options.bail && isFailure(result)) {
        summary.bailed = true;
        break run;
      }
      if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
    }
  }
  summary.total = performance.now() - started;
  await emit(summary);
}
