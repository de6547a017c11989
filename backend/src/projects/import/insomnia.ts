import { HTTP_PROJECT_KIND, type Payload } from '../project-document.js';
import { ProjectBuilder, type EnvironmentInput, type Parent, type RequestInput } from '../project-builder.js';
import { isObject } from './detect.js';
import { importFailed, pointer, type ImportPlan, type PlannedFile, type Skipped } from './plan.js';

/**
 * Insomnia exports: v4 (a flat `resources` list linked by `parentId`) and v5 (YAML, a nested
 * `collection` tree). One project per workspace; folders, requests and environments keep their
 * order; what a project document has no place for (specs, tests, cookie jars…) is reported.
 */

type Json = Record<string, unknown>;
const str = (value: unknown) => (typeof value === 'string' ? value : undefined);
const pairs = (list: unknown) =>
  (Array.isArray(list) ? list : []).filter(isObject).map((pair) => ({ name: String(pair.name ?? ''), value: String(pair.value ?? ''), enabled: pair.disabled !== true, json: pair }));

/** The body of an Insomnia request: text, or form parameters (urlencoded or multipart). */
function payloadOf(body: unknown): Payload | undefined {
  if (!isObject(body)) return undefined;
  const mime = str(body.mimeType) ?? '';
  if (Array.isArray(body.params)) {
    const parts = pairs(body.params).map(({ json, ...part }) =>
      json.type === 'file' ? { ...part, value: '', isFile: true, fileName: str(json.fileName) ?? '' } : part,
    );
    return mime === 'application/x-www-form-urlencoded' ? { type: 'x-www-form-urlencoded', data: parts } : { type: 'formdata', data: parts };
  }
  if (typeof body.text === 'string') return body.text;
  if (typeof body.fileName === 'string') return { type: 'file', data: '', meta: { name: body.fileName, mime } };
  return undefined;
}

/** Insomnia auth settings, under core's name where there is one. */
function authOf(auth: unknown): RequestInput['authorization'] {
  if (!isObject(auth) || typeof auth.type !== 'string' || auth.type === 'none' || !auth.type) return undefined;
  const { type, disabled, ...config } = auth;
  const names: Record<string, string> = { basic: 'basic', bearer: 'bearer', digest: 'digest', ntlm: 'ntlm', oauth2: 'oauth 2', apikey: 'api key' };
  return [{ type: names[type] ?? type, enabled: disabled !== true, config }];
}

/** Appends Insomnia's separate query parameters to the URL. */
function urlOf(url: string, parameters: unknown): string {
  const query = pairs(parameters).filter((p) => p.enabled && p.name).map((p) => `${p.name}=${p.value}`);
  if (!query.length) return url;
  return `${url}${url.includes('?') ? '&' : '?'}${query.join('&')}`;
}

function requestOf(request: Json, scripts: RequestInput['scripts']): RequestInput {
  return {
    name: str(request.name) || 'Untitled request',
    description: str(request.description) ?? str(isObject(request.meta) ? request.meta.description : undefined),
    method: str(request.method) ?? 'GET',
    url: urlOf(str(request.url) ?? '', request.parameters),
    headers: pairs(request.headers).filter((h) => h.enabled && h.name).map(({ name, value }) => ({ name, value })),
    payload: payloadOf(request.body),
    authorization: authOf(request.authentication),
    scripts,
  };
}

/** Environment data as variables; nested objects keep their JSON. */
function environmentOf(name: string, data: unknown): EnvironmentInput {
  const variables = Object.entries(isObject(data) ? data : {}).map(([key, value]) => ({
    name: key,
    value: typeof value === 'object' && value !== null ? JSON.stringify(value) : value,
  }));
  return { name, variables };
}

const projectFile = (builder: ProjectBuilder): PlannedFile => ({
  kind: HTTP_PROJECT_KIND,
  meta: { info: { name: builder.document.info.name!, ...(builder.document.info.description ? { description: builder.document.info.description } : {}) } },
  contents: builder.document,
});

export function importInsomniaV4(value: unknown): ImportPlan {
  const resources = (value as Json).resources;
  if (!Array.isArray(resources)) throw importFailed('insomnia-v4', '/resources', 'an export needs a "resources" array');
  const skipped: Skipped[] = [];
  const children = new Map<string, { resource: Json; index: number }[]>();
  const workspaces: { resource: Json; index: number }[] = [];
  resources.forEach((resource, index) => {
    if (!isObject(resource) || typeof resource._type !== 'string') {
      skipped.push({ location: pointer('resources', index), reason: 'Not an Insomnia resource (no "_type").' });
      return;
    }
    if (resource._type === 'workspace') workspaces.push({ resource, index });
    else if (typeof resource.parentId === 'string') children.set(resource.parentId, [...(children.get(resource.parentId) ?? []), { resource, index }]);
    else skipped.push({ location: pointer('resources', index), reason: `An Insomnia ${resource._type} without a parent.` });
  });
  const sortKey = (entry: { resource: Json }) => (typeof entry.resource.metaSortKey === 'number' ? entry.resource.metaSortKey : 0);
  const files: PlannedFile[] = [];
  const visit = (builder: ProjectBuilder, id: string, parent: Parent) => {
    for (const { resource, index } of [...(children.get(id) ?? [])].sort((a, b) => sortKey(a) - sortKey(b))) {
      const location = pointer('resources', index);
      const name = str(resource.name) ?? '';
      switch (resource._type) {
        case 'request_group':
          visit(builder, String(resource._id), builder.addFolder(parent, name || 'Untitled folder', str(resource.description)));
          break;
        case 'request':
          builder.addRequest(parent, requestOf(resource, { preRequest: str(resource.preRequestScript), afterResponse: str(resource.afterResponseScript) }));
          break;
        case 'environment':
          builder.addEnvironment(parent, environmentOf(name || 'Environment', resource.data));
          visit(builder, String(resource._id), parent);
          break;
        default:
          skipped.push({ location, reason: `An Insomnia ${String(resource._type)} has no place in a project document.` });
          visit(builder, String(resource._id), parent);
      }
    }
  };
  for (const { resource } of workspaces) {
    const builder = new ProjectBuilder(str(resource.name) || 'Insomnia workspace', str(resource.description));
    visit(builder, String(resource._id), undefined);
    files.push(projectFile(builder));
  }
  if (!files.length) throw importFailed('insomnia-v4', '/resources', 'the export has no workspace');
  return { format: 'insomnia-v4', files, skipped };
}

export function importInsomniaV5(value: unknown): ImportPlan {
  const document = value as Json;
  const meta = isObject(document.meta) ? document.meta : {};
  const builder = new ProjectBuilder(str(document.name) || 'Insomnia collection', str(meta.description));
  const skipped: Skipped[] = [];
  if (document.collection !== undefined && !Array.isArray(document.collection)) throw importFailed('insomnia-v5', '/collection', '"collection" must be a list');
  const walk = (items: unknown[], parent: Parent, location: string) => {
    items.forEach((item, index) => {
      const at = `${location}${pointer(index)}`;
      if (!isObject(item)) {
        skipped.push({ location: at, reason: 'Neither a folder nor a request.' });
        return;
      }
      const itemMeta = isObject(item.meta) ? item.meta : {};
      if (Array.isArray(item.children)) {
        const folder = builder.addFolder(parent, str(item.name) || 'Untitled folder', str(itemMeta.description));
        if (isObject(item.environment)) builder.addEnvironment(folder, environmentOf(`${str(item.name) || 'Folder'} environment`, item.environment));
        walk(item.children, folder, `${at}/children`);
      } else if (typeof item.url === 'string' || typeof item.method === 'string') {
        const scripts = isObject(item.scripts) ? { preRequest: str(item.scripts.preRequest), afterResponse: str(item.scripts.afterResponse) } : undefined;
        builder.addRequest(parent, requestOf(item, scripts));
      } else {
        skipped.push({ location: at, reason: 'An Insomnia item of a kind a project document has no place for (gRPC, WebSocket…).' });
      }
    });
  };
  walk(Array.isArray(document.collection) ? document.collection : [], undefined, '/collection');
  const environments = document.environments;
  if (isObject(environments)) {
    builder.addEnvironment(undefined, environmentOf(str(environments.name) || 'Base environment', environments.data));
    (Array.isArray(environments.subEnvironments) ? environments.subEnvironments : []).forEach((sub) => {
      if (isObject(sub)) builder.addEnvironment(undefined, environmentOf(str(sub.name) || 'Environment', sub.data));
    });
  }
  for (const part of ['spec', 'testSuites']) {
    if (document[part] !== undefined) skipped.push({ location: pointer(part), reason: `Insomnia's ${part} has no place in a project document.` });
  }
  return { format: 'insomnia-v5', files: [projectFile(builder)], skipped };
}
