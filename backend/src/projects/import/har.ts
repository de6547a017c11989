import { toHarStringWarn } from 'curlconverter';
import { HTTP_PROJECT_KIND, type Payload } from '../project-document.js';
import { ProjectBuilder } from '../project-builder.js';
import { isObject } from './detect.js';
import { importFailed, pointer, type ImportFormat, type ImportPlan, type Skipped } from './plan.js';

/**
 * HAR 1.2 logs become a project with one request per entry (responses are not part of a project
 * document). A cURL command line goes through curlconverter's parser to HAR, then the same way.
 */

type Json = Record<string, unknown>;
const str = (value: unknown) => (typeof value === 'string' ? value : undefined);
const pairsOf = (list: unknown) => (Array.isArray(list) ? list.filter(isObject) : []).map((pair) => ({ name: String(pair.name ?? '').trim(), value: String(pair.value ?? '') }));

function payloadOf(postData: unknown): Payload | undefined {
  if (!isObject(postData)) return undefined;
  if (typeof postData.text === 'string') return postData.text;
  if (!Array.isArray(postData.params)) return undefined;
  const parts = postData.params.filter(isObject).map((param) =>
    typeof param.fileName === 'string'
      ? { name: String(param.name ?? ''), value: '', enabled: true, isFile: true, fileName: param.fileName }
      : { name: String(param.name ?? ''), value: String(param.value ?? ''), enabled: true },
  );
  return String(postData.mimeType ?? '').startsWith('multipart/') ? { type: 'formdata', data: parts } : { type: 'x-www-form-urlencoded', data: parts };
}

/** A request's name: its method and path, as a browser's network panel shows it. */
function nameOf(method: string, url: string): string {
  try {
    const parsed = new URL(url);
    return `${method} ${parsed.pathname}${parsed.search}`;
  } catch {
    return `${method} ${url}`;
  }
}

export function importHar(value: unknown, format: ImportFormat = 'har-1.2', name = 'HAR import'): ImportPlan {
  const log = (value as { log: Json }).log;
  const entries = log.entries as unknown[];
  const skipped: Skipped[] = [];
  const creator = isObject(log.creator) && typeof log.creator.name === 'string' ? `${name} (${log.creator.name})` : name;
  const builder = new ProjectBuilder(creator);
  entries.forEach((entry, index) => {
    const location = pointer('log', 'entries', index);
    const request = isObject(entry) ? entry.request : undefined;
    if (!isObject(request) || typeof request.url !== 'string' || typeof request.method !== 'string') {
      skipped.push({ location, reason: 'An entry needs a request with a method and a URL.' });
      return;
    }
    // HTTP/2 pseudo-headers (`:authority`…) are not headers a client sends.
    const headers = pairsOf(request.headers).filter((header) => header.name && !header.name.startsWith(':'));
    const cookies = pairsOf(request.cookies);
    if (cookies.length && !headers.some((header) => header.name.toLowerCase() === 'cookie')) {
      headers.push({ name: 'Cookie', value: cookies.map((cookie) => `${cookie.name}=${cookie.value}`).join('; ') });
    }
    builder.addRequest(undefined, {
      name: nameOf(request.method, request.url),
      method: request.method,
      url: request.url,
      headers,
      payload: payloadOf(request.postData),
    });
  });
  return { format, files: [{ kind: HTTP_PROJECT_KIND, meta: { info: { name: creator } }, contents: builder.document }], skipped };
}

export function importCurl(command: string): ImportPlan {
  let har: string;
  let warnings: [string, string][];
  try {
    [har, warnings] = toHarStringWarn(command);
  } catch (error) {
    throw importFailed('curl', '', (error as Error).message);
  }
  const plan = importHar(JSON.parse(har), 'curl', 'cURL import');
  for (const [, warning] of warnings) plan.skipped.push({ location: 'line 1', reason: warning });
  return plan;
}
