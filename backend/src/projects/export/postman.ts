import { SPACE_KIND } from '../../store/file-records.js';
import type { Storage } from '../../store/storage.js';
import { headerPairs } from '../project-builder.js';
import { HTTP_PROJECT_KIND, projectDocumentSchema, type Payload, type ProjectDocument, type ProjectItem, type ProjectRequest } from '../project-document.js';
import { postmanAuthType } from '../import/postman.js';
import { readTree } from './api-store.js';
import { isSecretMarker } from '../../secrets/contents.js';

/**
 * Postman collection v2.1: a project becomes a collection (folders, requests, bodies, auth,
 * scripts); a space becomes one collection with a folder per project and per space inside it.
 */

type Json = Record<string, unknown>;
const POSTMAN_SCHEMA = 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json';

function bodyOf(payload: Payload | undefined): Json | undefined {
  if (payload === undefined) return undefined;
  if (typeof payload === 'string') return { mode: 'raw', raw: payload };
  const parts = Array.isArray(payload.data) ? (payload.data as Json[]).filter((part) => typeof part === 'object' && part !== null) : [];
  const disabled = (part: Json) => (part.enabled === false ? { disabled: true } : {});
  switch (payload.type) {
    case 'x-www-form-urlencoded':
      return typeof payload.data === 'string'
        ? { mode: 'raw', raw: payload.data }
        : { mode: 'urlencoded', urlencoded: parts.map((part) => ({ key: part.name, value: String(part.value ?? ''), ...disabled(part) })) };
    case 'formdata':
      return {
        mode: 'formdata',
        formdata: parts.map((part) =>
          part.isFile
            ? { key: part.name, type: 'file', src: String(part.fileName ?? ''), ...disabled(part) }
            : { key: part.name, value: String(part.value ?? ''), type: 'text', ...disabled(part) },
        ),
      };
    case 'file':
      return { mode: 'file', file: { src: payload.meta?.name ?? '' } };
    default:
      return typeof payload.data === 'string' ? { mode: 'raw', raw: payload.data } : undefined;
  }
}

function authOf(request: ProjectRequest): Json | undefined {
  const auth = request.authorization?.find((candidate) => candidate.enabled);
  if (!auth) return undefined;
  const type = postmanAuthType[auth.type] ?? auth.type;
  const config = typeof auth.config === 'object' && auth.config !== null ? (auth.config as Json) : {};
  return { type, [type]: Object.entries(config).map(([key, value]) => ({ key, value, type: typeof value === 'string' ? 'string' : 'any' })) };
}

function eventsOf(scripts: unknown): Json[] | undefined {
  if (typeof scripts !== 'object' || scripts === null) return undefined;
  const { preRequest, afterResponse } = scripts as { preRequest?: unknown; afterResponse?: unknown };
  const events = [
    ...(typeof preRequest === 'string' ? [{ listen: 'prerequest', script: { type: 'text/javascript', exec: preRequest.split('\n') } }] : []),
    ...(typeof afterResponse === 'string' ? [{ listen: 'test', script: { type: 'text/javascript', exec: afterResponse.split('\n') } }] : []),
  ];
  return events.length ? events : undefined;
}

const described = (description: string | undefined) => (description ? { description } : {});

function requestItem(request: ProjectRequest): Json {
  const graphql = request.expects.graphql;
  const body = typeof graphql === 'object' && graphql !== null ? { mode: 'graphql', graphql } : bodyOf(request.expects.payload);
  const auth = authOf(request);
  const events = eventsOf(request.scripts);
  return {
    name: request.info.name ?? '',
    request: {
      method: request.expects.method ?? 'GET',
      header: headerPairs(request.expects.headers).map(({ name, value }) => ({ key: name, value })),
      url: request.expects.url,
      ...(body ? { body } : {}),
      ...(auth ? { auth } : {}),
      ...described(request.info.description),
    },
    ...(events ? { event: events } : {}),
  };
}

/** The items of a project, in the order of its tree. */
function itemsOf(document: ProjectDocument): Json[] {
  const requests = new Map((document.definitions.requests ?? []).map((request) => [request.key, request]));
  const folders = new Map((document.definitions.folders ?? []).map((folder) => [folder.key, folder]));
  const seen = new Set<string>();
  const convert = (items: ProjectItem[]): Json[] =>
    items.flatMap((item): Json[] => {
      // A folder listed inside itself would loop for ever: each definition is visited once.
      if (seen.has(item.key)) return [];
      seen.add(item.key);
      const request = item.kind === 'Core#ProjectRequest' ? requests.get(item.key) : undefined;
      if (request) return [requestItem(request)];
      const folder = item.kind === 'Core#ProjectFolder' ? folders.get(item.key) : undefined;
      if (!folder) return [];
      const events = eventsOf(folder.scripts);
      return [{ name: folder.info.name ?? '', item: convert(folder.items), ...described(folder.info.description), ...(events ? { event: events } : {}) }];
    });
  return convert(document.items);
}

/** Variables of the project's first environment, as collection variables. */
function variablesOf(document: ProjectDocument): Json[] | undefined {
  const [environment] = document.definitions.environments ?? [];
  if (!environment?.variables.length) return undefined;
  // A secret leaves as Postman's secret type without its value: the store never exports one.
  return environment.variables.map((variable) => ({
    key: variable.name,
    ...(isSecretMarker(variable.value) ? { value: '', type: 'secret' } : { value: variable.value }),
    ...(variable.enabled === false ? { disabled: true } : {}),
  }));
}

export function projectToPostman(document: ProjectDocument): Json {
  const variables = variablesOf(document);
  const events = eventsOf(document.scripts);
  return {
    info: { name: document.info.name ?? '', ...described(document.info.description), schema: POSTMAN_SCHEMA },
    item: itemsOf(document),
    ...(variables ? { variable: variables } : {}),
    ...(events ? { event: events } : {}),
  };
}

const emptyProject = (name: string): ProjectDocument => ({ kind: HTTP_PROJECT_KIND, info: { name }, items: [], definitions: {} });

/** A project, or a space with every project below it (as folders), as one Postman collection. */
export async function exportPostman(storage: Storage, user: string, key: string): Promise<Json> {
  let root: Json | undefined;
  const folders = new Map<string, Json[]>();
  for await (const { record, parent, contents } of readTree(storage, user, key)) {
    const parsed = projectDocumentSchema.safeParse(contents);
    const document = record.kind === HTTP_PROJECT_KIND && parsed.success ? parsed.data : emptyProject(record.info.name);
    const items = record.kind === SPACE_KIND ? [] : itemsOf(document);
    const entry: Json = { name: record.info.name, item: items, ...described(record.info.description) };
    if (record.kind === SPACE_KIND) folders.set(record.key, items);
    if (parent === undefined) {
      root = record.kind === SPACE_KIND ? { info: { name: record.info.name, ...described(record.info.description), schema: POSTMAN_SCHEMA }, item: items } : projectToPostman(document);
    } else if (record.kind === SPACE_KIND || record.kind === HTTP_PROJECT_KIND) {
      folders.get(parent)?.push(entry);
    }
  }
  return root!;
}
