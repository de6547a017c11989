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
export const pairsOf = (list: unknown) => (Array.isArray(list) ? list.filter(isObject) : []).map((pair) => ({ name: String(pair.name ?? '').trim(), value: String(pair.value ?? '') }));

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

export const noRequest = 'An entry needs a request with a method and a URL.';

/** What a client sends for a HAR entry's request; none when the entry has no usable request. */
export function harRequestOf(entry: unknown): { method: string; url: string; headers: { name: string; value: string }[]; payload?: Payload } | undefined {
  const request = isObject(entry) ? entry.request : undefined;
  if (!isObject(request) || typeof request.url !== 'string' || typeof request.method !== 'string') return undefined;
  // HTTP/2 pseudo-headers (`:authority`…) are not headers a client sends.
  const headers = pairsOf(request.headers).filter((header) => header.name && !header.name.startsWith(':'));
  const cookies = pairsOf(request.cookies);
  if (cookies.length && !headers.some((header) => header.name.toLowerCase() === 'cookie')) {
    headers.push({ name: 'Cookie', value: cookies.map((cookie) => `${cookie.name}=${cookie.value}`).join('; ') });
  }
  return { method: request.method, url: request.url, headers, payload: payloadOf(request.postData) };
}

/** A HAR's entries as one project, added one at a time (the streaming import holds only the project). */
export class HarProject {
  readonly skipped: Skipped[] = [];
  private readonly builder = new ProjectBuilder('');
  private creator?: string;
  /** The length of the requests' text so far: what the project document grows with. */
  size = 0;

  constructor(
    private readonly format: ImportFormat = 'har-1.2',
    private readonly name = 'HAR import',
  ) {}

  setCreator(creator: unknown): void {
    if (isObject(creator) && typeof creator.name === 'string') this.creator = creator.name;
  }

  addEntry(entry: unknown, index: number): void {
    const request = harRequestOf(entry);
    if (!request) {
      this.skipped.push({ location: pointer('log', 'entries', index), reason: noRequest });
      return;
    }
    const { method, url, headers, payload } = request;
    this.size += url.length + headers.reduce((sum, header) => sum + header.name.length + header.value.length, 0) + (typeof payload === 'string' ? payload.length : JSON.stringify(payload ?? '').length);
    this.builder.addRequest(undefined, { name: nameOf(method, url), method, url, headers, payload });
  }

  plan(): ImportPlan {
    const name = this.creator ? `${this.name} (${this.creator})` : this.name;
    const contents = this.builder.document;
    contents.info.name = name;
    return { format: this.format, files: [{ kind: HTTP_PROJECT_KIND, meta: { info: { name } }, contents }], skipped: this.skipped };
  }
}

export function importHar(value: unknown, format: ImportFormat = 'har-1.2', name = 'HAR import'): ImportPlan {
  const log = (value as { log: Json }).log;
  const project = new HarProject(format, name);
  project.setCreator(log.creator);
  (log.entries as unknown[]).forEach((entry, index) => project.addEntry(entry, index));
  return project.plan();
}

export async function importCurl(command: string): Promise<ImportPlan> {
  // curlconverter brings a shell parser with native bindings: loaded only for a cURL import.
  const { toHarStringWarn } = await import('curlconverter');
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
