import { randomUUID } from 'node:crypto';
import {
  HTTP_PROJECT_KIND, kinds,
  type Payload, type ProjectDocument, type ProjectEnvironment, type ProjectFolder, type ProjectRequest, type Property,
} from './project-document.js';

/** What an importer knows about one request, before it becomes a project request. */
export interface RequestInput {
  name: string;
  description?: string;
  method: string;
  url: string;
  headers?: { name: string; value: string }[];
  payload?: Payload;
  authorization?: { type: string; enabled?: boolean; config: unknown }[];
  /** A GraphQL body's query and variables (the payload is the JSON sent). */
  graphql?: Record<string, unknown>;
  /** Scripts kept as text, by when they run. */
  scripts?: { preRequest?: string; afterResponse?: string };
}

export interface EnvironmentInput {
  name: string;
  description?: string;
  server?: string;
  variables?: { name: string; value: unknown; enabled?: boolean; description?: string; secret?: boolean }[];
}

/** A folder (or the project itself, `undefined`) that new items are appended to. */
export type Parent = string | undefined;

/** Headers as core keeps them: one `Name: value` line each. */
export const headersText = (headers: { name: string; value: string }[]) => headers.map(({ name, value }) => `${name}: ${value}`).join('\n');

/** Parses core's header string back into pairs (a line without a colon is a name with no value). */
export function headerPairs(text: string | undefined): { name: string; value: string }[] {
  if (!text) return [];
  return text
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const colon = line.indexOf(':');
      return colon < 0 ? { name: line.trim(), value: '' } : { name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() };
    });
}

const thing = (name: string, description?: string) => ({ kind: kinds.thing, name, ...(description ? { description } : {}) });

export function variableOf(input: NonNullable<EnvironmentInput['variables']>[number]): Property {
  return {
    kind: kinds.property,
    name: input.name,
    value: input.value ?? '',
    type: typeof input.value === 'number' ? 'number' : typeof input.value === 'boolean' ? 'boolean' : 'string',
    enabled: input.enabled ?? true,
    ...(input.description ? { description: input.description } : {}),
    ...(input.secret ? { secret: true } : {}),
  };
}

/** Builds one project document: folders, requests and environments appended in source order. */
export class ProjectBuilder {
  readonly document: ProjectDocument & { definitions: { requests: ProjectRequest[]; folders: ProjectFolder[]; environments: ProjectEnvironment[] } };
  private readonly folders = new Map<string, ProjectFolder>();
  requestCount = 0;

  constructor(name: string, description?: string, private readonly now = Date.now()) {
    this.document = {
      kind: HTTP_PROJECT_KIND,
      key: randomUUID(),
      info: thing(name, description),
      items: [],
      definitions: { requests: [], folders: [], environments: [] },
    };
  }

  private itemsOf(parent: Parent) {
    return parent === undefined ? this.document.items : this.folders.get(parent)!.items;
  }

  addFolder(parent: Parent, name: string, description?: string): string {
    const key = randomUUID();
    const folder: ProjectFolder = { kind: kinds.folder, key, info: thing(name, description), items: [], created: this.now, updated: this.now };
    this.folders.set(key, folder);
    this.document.definitions.folders.push(folder);
    this.itemsOf(parent).push({ kind: kinds.folder, key });
    return key;
  }

  addRequest(parent: Parent, input: RequestInput): string {
    const key = randomUUID();
    const request: ProjectRequest = {
      kind: kinds.request,
      key,
      info: thing(input.name, input.description),
      expects: {
        kind: kinds.httpRequest,
        url: input.url,
        method: input.method.toUpperCase(),
        ...(input.headers?.length ? { headers: headersText(input.headers) } : {}),
        ...(input.payload !== undefined ? { payload: input.payload } : {}),
        ...(input.graphql ? { graphql: input.graphql } : {}),
      },
      created: this.now,
      updated: this.now,
      ...(input.authorization?.length
        ? { authorization: input.authorization.map((auth) => ({ kind: kinds.authorization, type: auth.type, enabled: auth.enabled ?? true, valid: true, config: auth.config })) }
        : {}),
      ...(input.scripts && (input.scripts.preRequest || input.scripts.afterResponse) ? { scripts: input.scripts } : {}),
    };
    this.document.definitions.requests.push(request);
    this.itemsOf(parent).push({ kind: kinds.request, key });
    this.requestCount += 1;
    return key;
  }

  /** An environment of the project (or of a folder, `parent`). */
  addEnvironment(parent: Parent, input: EnvironmentInput): string {
    const key = randomUUID();
    this.document.definitions.environments.push({
      kind: kinds.environment,
      key,
      info: thing(input.name, input.description),
      ...(input.server ? { server: { kind: kinds.server, uri: input.server } } : {}),
      variables: (input.variables ?? []).map(variableOf),
    });
    this.itemsOf(parent).push({ kind: kinds.environment, key });
    return key;
  }
}
