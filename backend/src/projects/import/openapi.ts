import SwaggerParser from '@apidevtools/swagger-parser';
import { HTTP_PROJECT_KIND, type Payload } from '../project-document.js';
import { ProjectBuilder, type Parent } from '../project-builder.js';
import { isObject } from './detect.js';
import { importFailed, pointer, type ImportFormat, type ImportPlan, type Skipped } from './plan.js';

/**
 * OpenAPI 3.x and Swagger 2.0, dereferenced by swagger-parser: one request per operation (in a
 * folder per first tag), with its header and query parameters and an example body; every server
 * becomes an environment. References to other files or URLs are not followed: an import reads
 * the body it was given and nothing else on the store's machine or network.
 */

type Json = Record<string, unknown>;
const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const str = (value: unknown) => (typeof value === 'string' ? value : undefined);

/** An example value for a schema: its example or default, else a value of its type. */
function sample(schema: unknown, depth = 0): unknown {
  if (!isObject(schema) || depth > 8) return undefined;
  if (schema.example !== undefined) return schema.example;
  if (schema.default !== undefined) return schema.default;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  for (const union of ['allOf', 'oneOf', 'anyOf']) {
    const list = schema[union];
    if (Array.isArray(list) && list.length) {
      if (union !== 'allOf') return sample(list[0], depth + 1);
      return Object.assign({}, ...list.map((part) => sample(part, depth + 1)).filter(isObject));
    }
  }
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === 'object' || isObject(schema.properties)) {
    return Object.fromEntries(Object.entries(isObject(schema.properties) ? schema.properties : {}).map(([name, property]) => [name, sample(property, depth + 1) ?? null]));
  }
  if (type === 'array') return [sample(schema.items, depth + 1)].filter((item) => item !== undefined);
  if (type === 'integer' || type === 'number') return 0;
  if (type === 'boolean') return false;
  if (type === 'string') return schema.format === 'date-time' ? '1970-01-01T00:00:00Z' : '';
  return undefined;
}

/** An example body of a media type object: its example, first named example, or a sample. */
function exampleOf(media: Json): unknown {
  if (media.example !== undefined) return media.example;
  const examples = isObject(media.examples) ? Object.values(media.examples).find(isObject) : undefined;
  if (examples && examples.value !== undefined) return examples.value;
  return sample(media.schema);
}

const bodyText = (value: unknown, mime: string) => (typeof value === 'string' && !mime.includes('json') ? value : JSON.stringify(value, null, 2));

/** A server URL with its variables at their defaults. */
const serverUrl = (server: Json) =>
  String(server.url ?? '').replace(/\{([^}]+)\}/g, (whole, name: string) => {
    const variable = isObject(server.variables) ? server.variables[name] : undefined;
    return isObject(variable) && variable.default !== undefined ? String(variable.default) : whole;
  });

interface Operation {
  path: string;
  method: string;
  operation: Json;
  parameters: Json[];
}

function operationsOf(paths: unknown): Operation[] {
  if (!isObject(paths)) return [];
  return Object.entries(paths).flatMap(([path, item]) => {
    if (!isObject(item)) return [];
    const shared = Array.isArray(item.parameters) ? item.parameters.filter(isObject) : [];
    return methods.flatMap((method) => {
      const operation = item[method];
      if (!isObject(operation)) return [];
      const own = Array.isArray(operation.parameters) ? operation.parameters.filter(isObject) : [];
      // An operation's parameter overrides a path item's of the same name and place.
      const parameters = [...shared.filter((p) => !own.some((o) => o.name === p.name && o.in === p.in)), ...own];
      return [{ path, method, operation, parameters }];
    });
  });
}

/** A parameter's stated example or default; empty when the document gives none. */
const valueOf = (parameter: Json) => {
  const schema = isObject(parameter.schema) ? parameter.schema : {};
  const example = parameter.example ?? parameter['x-example'] ?? parameter.default ?? schema.example ?? schema.default;
  return example === undefined || example === null ? '' : String(example);
};

export async function importOpenApi(value: unknown, format: ImportFormat): Promise<ImportPlan> {
  let api: Json;
  try {
    api = (await SwaggerParser.dereference(structuredClone(value) as never, {
      resolve: { external: false },
      dereference: { circular: 'ignore' },
    })) as unknown as Json;
  } catch (error) {
    throw importFailed(format, '', (error as Error).message.split('\n')[0]);
  }
  const swagger = format === 'swagger-2.0';
  const info = isObject(api.info) ? api.info : {};
  const builder = new ProjectBuilder(str(info.title) || 'OpenAPI import', str(info.description));
  if (typeof info.version === 'string') builder.document.info.version = info.version;
  const skipped: Skipped[] = [];

  const servers: { url: string; description?: string }[] = swagger
    ? (Array.isArray(api.schemes) && api.schemes.length ? api.schemes : ['https']).map((scheme) => ({
        url: `${String(scheme)}://${str(api.host) ?? 'localhost'}${str(api.basePath) ?? ''}`,
      }))
    : (Array.isArray(api.servers) ? api.servers.filter(isObject) : []).map((server) => ({ url: serverUrl(server), description: str(server.description) }));
  servers.forEach((server, index) => builder.addEnvironment(undefined, { name: server.description || server.url || `Server ${index + 1}`, server: server.url, variables: [] }));

  const folders = new Map<string, Parent>();
  const folderOf = (operation: Json): Parent => {
    const tag = Array.isArray(operation.tags) ? str(operation.tags[0]) : undefined;
    if (!tag) return undefined;
    if (!folders.has(tag)) {
      const described = (Array.isArray(api.tags) ? api.tags.filter(isObject) : []).find((t) => t.name === tag);
      folders.set(tag, builder.addFolder(undefined, tag, str(described?.description)));
    }
    return folders.get(tag);
  };

  const consumes = Array.isArray(api.consumes) ? api.consumes.map(String) : [];
  for (const { path, method, operation, parameters } of operationsOf(api.paths)) {
    const location = pointer('paths', path, method);
    const headers: { name: string; value: string }[] = [];
    const query: string[] = [];
    let payload: Payload | undefined;
    for (const parameter of parameters) {
      const name = String(parameter.name ?? '');
      if (parameter.in === 'query') query.push(`${name}=${valueOf(parameter)}`);
      else if (parameter.in === 'header') headers.push({ name, value: valueOf(parameter) });
      else if (parameter.in === 'cookie') headers.push({ name: 'Cookie', value: `${name}=${valueOf(parameter)}` });
      else if (parameter.in === 'body') {
        const mime = (Array.isArray(operation.consumes) ? operation.consumes.map(String) : consumes)[0] ?? 'application/json';
        headers.push({ name: 'Content-Type', value: mime });
        payload = bodyText(sample(parameter.schema) ?? {}, mime);
      }
    }
    const formData = parameters.filter((parameter) => parameter.in === 'formData');
    if (formData.length) {
      const multipart = (Array.isArray(operation.consumes) ? operation.consumes.map(String) : consumes).includes('multipart/form-data');
      const data = formData.map((parameter) =>
        parameter.type === 'file'
          ? { name: String(parameter.name), value: '', enabled: true, isFile: true, fileName: '' }
          : { name: String(parameter.name), value: valueOf(parameter), enabled: true },
      );
      headers.push({ name: 'Content-Type', value: multipart ? 'multipart/form-data' : 'application/x-www-form-urlencoded' });
      payload = { type: multipart ? 'formdata' : 'x-www-form-urlencoded', data };
    }
    const content = isObject(operation.requestBody) && isObject(operation.requestBody.content) ? operation.requestBody.content : undefined;
    if (content) {
      const types = Object.keys(content);
      const mime = types.find((type) => type.includes('json')) ?? types[0];
      const media = mime ? content[mime] : undefined;
      if (mime && isObject(media)) {
        headers.push({ name: 'Content-Type', value: mime });
        const example = exampleOf(media);
        if (example !== undefined) payload = bodyText(example, mime);
      }
    }
    // Security schemes need credentials the document does not have: the user adds them.
    if (Array.isArray(operation.security) && operation.security.length) {
      skipped.push({ location: `${location}/security`, reason: 'Security requirements are not mapped; add the credentials to the request or an environment.' });
    }
    builder.addRequest(folderOf(operation), {
      name: str(operation.summary) || str(operation.operationId) || `${method.toUpperCase()} ${path}`,
      description: str(operation.description),
      method,
      url: `${path}${query.length ? `?${query.join('&')}` : ''}`,
      headers,
      payload,
    });
  }
  return { format, files: [{ kind: HTTP_PROJECT_KIND, meta: { info: { name: builder.document.info.name! } }, contents: builder.document }], skipped };
}
