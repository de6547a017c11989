import postman, { type Collection, type Item, type ItemGroup, type RequestAuth } from 'postman-collection';

const { Collection: PostmanCollection, ItemGroup: PostmanItemGroup } = postman;
import { HTTP_PROJECT_KIND, type Payload } from '../project-document.js';
import { ProjectBuilder, type Parent, type RequestInput } from '../project-builder.js';
import { isObject } from './detect.js';
import { importFailed, pointer, type ImportFormat, type ImportPlan, type Skipped } from './plan.js';

/**
 * Postman collections (v2.0 and v2.1) through Postman's own SDK, and Postman environments.
 * Folders become folders, requests requests (every body mode, auth, scripts as text), collection
 * variables an environment.
 */

/** Postman's auth types that core names differently; the others keep Postman's name. */
const coreAuthType: Record<string, string> = { basic: 'basic', bearer: 'bearer', digest: 'digest', ntlm: 'ntlm', oauth2: 'oauth 2', apikey: 'api key' };
export const postmanAuthType = Object.fromEntries(Object.entries(coreAuthType).map(([postman, core]) => [core, postman]));

const text = (description: unknown): string | undefined => {
  if (typeof description === 'string') return description || undefined;
  if (isObject(description) && typeof description.content === 'string') return description.content || undefined;
  return undefined;
};

type Events = Item['events'];

/** Pre-request and test scripts, as text. */
function scriptsOf(events: Events | undefined): RequestInput['scripts'] {
  const scripts: NonNullable<RequestInput['scripts']> = {};
  events?.each((event) => {
    const exec = event.script?.exec;
    const source = Array.isArray(exec) ? exec.join('\n') : typeof exec === 'string' ? exec : '';
    if (!source.trim()) return;
    if (event.listen === 'prerequest') scripts.preRequest = source;
    if (event.listen === 'test') scripts.afterResponse = source;
  });
  return scripts;
}

function authOf(auth: RequestAuth | undefined, location: string, skipped: Skipped[]): RequestInput['authorization'] {
  if (!auth || auth.type === 'noauth') return undefined;
  const config = auth.parameters().toObject(false, false);
  const type = coreAuthType[auth.type];
  if (!type) skipped.push({ location, reason: `Postman auth "${auth.type}" has no equivalent in the API Client; it is kept with Postman's name and settings.` });
  return [{ type: type ?? auth.type, config }];
}

/** Form fields as parts, disabled ones kept (v2.1 says `disabled: true`, v2.0 `enabled: false`). */
function paramsOf(list: unknown): { name: string; value: string; enabled: boolean; json: Record<string, unknown> }[] {
  if (!Array.isArray(list)) return [];
  return list.filter(isObject).map((json) => ({ name: String(json.key ?? ''), value: String(json.value ?? ''), enabled: json.disabled !== true && json.enabled !== false, json }));
}

/** The body as the collection states it (the SDK turns an unknown mode into an empty raw body). */
function payloadOf(body: unknown, location: string, skipped: Skipped[]): Payload | undefined {
  if (!isObject(body) || body.disabled === true || body.mode === undefined) return undefined;
  switch (body.mode) {
    case 'raw':
      return typeof body.raw === 'string' ? body.raw : '';
    case 'urlencoded':
      return { type: 'x-www-form-urlencoded', data: paramsOf(body.urlencoded).map(({ json, ...part }) => part) };
    case 'formdata':
      return {
        type: 'formdata',
        data: paramsOf(body.formdata).map(({ json, ...part }) => {
          if (json.type !== 'file') return { ...part, ...(typeof json.contentType === 'string' ? { contentType: json.contentType } : {}) };
          const fileName = typeof json.src === 'string' ? json.src : Array.isArray(json.src) ? json.src.join(',') : '';
          return { ...part, value: '', isFile: true, fileName };
        }),
      };
    case 'file': {
      const src = isObject(body.file) && typeof body.file.src === 'string' ? body.file.src : '';
      skipped.push({ location, reason: `The file body "${src}" is not part of the collection; only its name is kept.` });
      return { type: 'file', data: '', meta: { name: src } };
    }
    case 'graphql':
      // What goes on the wire; the request keeps the query and variables as well (see requestOf).
      return JSON.stringify(body.graphql ?? {});
    default:
      skipped.push({ location, reason: `The body mode "${String(body.mode)}" is not one Postman defines; the body is left out.` });
      return undefined;
  }
}

function requestOf(item: Item, source: Record<string, unknown>, location: string, skipped: Skipped[], inherited: RequestAuth | undefined): RequestInput {
  const request = item.request;
  const own = request.auth ?? undefined;
  if (item.responses?.count()) {
    skipped.push({ location: `${location}/response`, reason: `${item.responses.count()} saved example response(s) are not part of a project document.` });
  }
  const body = isObject(source.request) && isObject(source.request.body) ? source.request.body : undefined;
  return {
    ...(body?.mode === 'graphql' && isObject(body.graphql) ? { graphql: body.graphql } : {}),
    name: item.name || request.url.toString() || 'Untitled request',
    description: text(request.description) ?? text(item.description),
    method: request.method || 'GET',
    // The URL as the user typed it: the SDK rebuilds it from its parts, which may disagree.
    url: isObject(source.request) && isObject(source.request.url) && typeof source.request.url.raw === 'string' ? source.request.url.raw : request.url.toString(),
    headers: request.headers.all().filter((header) => !header.disabled).map((header) => ({ name: header.key, value: header.value ?? '' })),
    payload: payloadOf(body, `${location}/request/body`, skipped),
    authorization: authOf(own ?? inherited, `${location}/request/auth`, skipped),
    scripts: scriptsOf(item.events),
  };
}

/** Walks the SDK's items beside the source's own (`sources`), which say what the SDK normalises away. */
function walk(
  builder: ProjectBuilder, group: ItemGroup<Item> | Collection, sources: unknown[], parent: Parent, location: string, skipped: Skipped[], inherited: RequestAuth | undefined,
): void {
  group.items.all().forEach((entry: Item | ItemGroup<Item>, index: number) => {
    const source = isObject(sources[index]) ? sources[index] : {};
    const at = `${location}${pointer('item', index)}`;
    if (PostmanItemGroup.isItemGroup(entry)) {
      const folder = entry as ItemGroup<Item>;
      const key = builder.addFolder(parent, folder.name || 'Untitled folder', text(folder.description));
      const scripts = scriptsOf(folder.events);
      if (scripts?.preRequest || scripts?.afterResponse) builder.document.definitions.folders.at(-1)!.scripts = scripts;
      walk(builder, folder, Array.isArray(source.item) ? source.item : [], key, at, skipped, folder.auth ?? inherited);
    } else {
      builder.addRequest(parent, requestOf(entry as Item, source, at, skipped, inherited));
    }
  });
}

export function importPostmanCollection(value: unknown, format: ImportFormat): ImportPlan {
  let collection: Collection;
  try {
    collection = new PostmanCollection(value as never);
  } catch (error) {
    throw importFailed(format, '', (error as Error).message);
  }
  const { info, item: items } = value as { info: Record<string, unknown>; item?: unknown };
  if (!Array.isArray(items)) throw importFailed(format, '/item', 'a collection needs an "item" array');
  const skipped: Skipped[] = [];
  const builder = new ProjectBuilder(collection.name || 'Postman collection', text(info.description));
  const variables = collection.variables.all();
  if (variables.length) {
    builder.addEnvironment(undefined, {
      name: 'Collection variables',
      variables: variables.map((variable) => ({ name: variable.key ?? '', value: variable.value ?? '', enabled: !variable.disabled })),
    });
  }
  const scripts = scriptsOf(collection.events);
  if (scripts?.preRequest || scripts?.afterResponse) builder.document.scripts = scripts;
  walk(builder, collection, items, undefined, '', skipped, collection.auth ?? undefined);
  return {
    format,
    files: [{ kind: HTTP_PROJECT_KIND, meta: { info: { name: builder.document.info.name! } }, contents: builder.document }],
    skipped,
  };
}

/** A Postman environment becomes a project holding that one environment. */
export function importPostmanEnvironment(value: unknown): ImportPlan {
  const environment = value as { name?: unknown; values: unknown[] };
  const name = typeof environment.name === 'string' && environment.name ? environment.name : 'Postman environment';
  const builder = new ProjectBuilder(name);
  const skipped: Skipped[] = [];
  const variables = environment.values.flatMap((entry, index) => {
    if (!isObject(entry) || typeof entry.key !== 'string') {
      skipped.push({ location: pointer('values', index), reason: 'A variable needs a "key".' });
      return [];
    }
    return [{ name: entry.key, value: entry.value ?? '', enabled: entry.enabled !== false, secret: entry.type === 'secret' }];
  });
  builder.addEnvironment(undefined, { name, variables });
  return { format: 'postman-environment', files: [{ kind: HTTP_PROJECT_KIND, meta: { info: { name } }, contents: builder.document }], skipped };
}
