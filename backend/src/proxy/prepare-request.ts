import type { Certificate } from '../projects/project-document.js';
import type { CertificateInput, CoreRequestInput, ProxyRequestInput } from './request-schema.js';
import { ProxyFailure } from './failure.js';
import type { OutgoingRequest, SendOptions, TlsSettings } from './send-request.js';
import { substituteVariables } from './variables.js';

export interface PreparedRequest {
  request: OutgoingRequest;
  settings: SendOptions;
}

export interface ProxyDefaults {
  timeoutMs: number;
  maxRedirects: number;
  maxBodyBytes: number;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const FIELD_VALUE = /^[^\r\n\0]*$/;
/** Core's default headers, added when `config.defaultHeaders` is true. */
const CORE_DEFAULT_HEADERS: Record<string, string> = { accept: '*/*', 'user-agent': 'api-store' };

const invalid = (message: string) => new ProxyFailure('invalid_request', message);

/** Core's header block (`Name: value` lines) as pairs; checked here because variables may have changed it. */
function parseHeaderBlock(block: string): [string, string][] {
  const headers: [string, string][] = [];
  for (const line of block.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (colon <= 0 || !TOKEN.test(name)) throw invalid(`Not a header line: ${line.slice(0, 100)}`);
    headers.push([name, value]);
  }
  return headers;
}

function checkedUrl(text: string): URL {
  const url = URL.parse(text);
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw invalid(`Not an http(s) URL: ${text.slice(0, 200)}`);
  return url;
}

const has = (headers: [string, string][], name: string) => headers.some(([header]) => header.toLowerCase() === name.toLowerCase());

function payloadBytes(payload: CoreRequestInput['request']['payload'], variables: ReadonlyMap<string, string>): Buffer | undefined {
  if (payload === undefined) return undefined;
  if (typeof payload === 'string') return Buffer.from(substituteVariables(payload, variables));
  switch (payload.type) {
    case 'string':
      return Buffer.from(substituteVariables(payload.data, variables));
    case 'buffer':
    case 'arraybuffer':
      return Buffer.from(payload.data);
    default:
      return Buffer.from(payload.data.slice(payload.data.indexOf(',') + 1), 'base64');
  }
}

const certificateBytes = (data: { data: string; type?: 'buffer' }, base64: boolean) => (data.type === 'buffer' || base64 ? Buffer.from(data.data, 'base64') : data.data);

/** A certificate entry without its material names a stored certificate by its file key. */
const isStoredReference = (certificate: CertificateInput | { key: string }): certificate is { key: string } => !('type' in certificate);

/** The `client certificate` authorization's certificate key, when one is enabled. */
function certificateIdOf(input: CoreRequestInput): string | undefined {
  const authorization = [input.authorization ?? []].flat().find((candidate) => candidate.enabled && candidate.type === 'client certificate');
  return (authorization?.config as { id?: string } | undefined)?.id;
}

/**
 * The stored certificates a request names: the references in its `certificates`, and the key of
 * its `client certificate` authorization when no certificate given inline has that key. Loaded
 * with `read` (which checks that the caller may read them), for `prepareRequest`.
 */
export async function loadStoredCertificates(input: ProxyRequestInput, read: (key: string) => Promise<Certificate>): Promise<Map<string, Certificate>> {
  if (!('kind' in input)) return new Map();
  const certificates = input.certificates ?? [];
  const keys = new Set(certificates.filter(isStoredReference).map((reference) => reference.key));
  const id = certificateIdOf(input);
  if (id !== undefined && !certificates.some((certificate) => !isStoredReference(certificate) && certificate.key === id)) keys.add(id);
  return new Map(await Promise.all([...keys].map(async (key) => [key, await read(key)] as const)));
}

/** The client certificate to present: the one a `client certificate` authorization names (given, or else stored), else the first one given. */
function clientCertificate(given: CertificateInput[], id: string | undefined, stored: ReadonlyMap<string, Certificate>): Pick<TlsSettings, 'cert' | 'key' | 'pfx' | 'passphrase'> {
  const chosen = id === undefined ? given[0] : (given.find((certificate) => certificate.key === id) ?? { key: id });
  if (!chosen) return {};
  const certificate = isStoredReference(chosen) ? stored.get(chosen.key) : chosen;
  if (!certificate) throw invalid(`The stored certificate ${chosen.key} was not loaded.`);
  if (certificate.type === 'p12') return { pfx: certificateBytes(certificate.cert, true) as Buffer, passphrase: certificate.cert.passphrase };
  return { cert: String(certificateBytes(certificate.cert, false)), key: String(certificateBytes(certificate.certKey, false)), passphrase: certificate.certKey.passphrase };
}

/** The variables with text values; a secret reference the route did not resolve counts as undefined. */
function variableMap(variables: CoreRequestInput['variables']): Map<string, string> {
  if (!variables) return new Map();
  const pairs = Array.isArray(variables) ? variables.filter((variable) => variable.enabled).map((variable) => [variable.name, variable.value] as const) : Object.entries(variables);
  return new Map(pairs.filter((pair): pair is [string, string] => typeof pair[1] === 'string'));
}

/**
 * The request core describes, ready to send: variables substituted in the URL, the headers and a
 * text body; authorization applied; config resolved against the store's defaults. Throws a
 * `ProxyFailure` (`unknown_variable`, `invalid_request`) for a request that cannot be sent.
 * `stored` holds the stored certificates it names (see `loadStoredCertificates`).
 */
export function prepareRequest(input: ProxyRequestInput, defaults: ProxyDefaults, stored: ReadonlyMap<string, Certificate> = new Map()): PreparedRequest {
  const baseTls: TlsSettings = { validateCertificates: true };
  if (!('kind' in input)) {
    return {
      request: { url: input.url, method: input.method, headers: input.headers, body: input.body === undefined ? undefined : Buffer.from(input.body, input.bodyEncoding) },
      settings: { timeoutMs: input.timeoutMs, followRedirects: true, maxRedirects: defaults.maxRedirects, tls: baseTls, maxBodyBytes: defaults.maxBodyBytes },
    };
  }
  const variables = variableMap(input.variables);
  const substitute = (text: string) => substituteVariables(text, variables);
  const url = checkedUrl(substitute(input.request.url));
  const headers = parseHeaderBlock(substitute(input.request.headers));
  const body = payloadBytes(input.request.payload, variables);
  const config = input.config?.enabled === false ? {} : (input.config ?? {});

  const authorizations = [input.authorization ?? []].flat();
  for (const authorization of authorizations) {
    if (!authorization.enabled) continue;
    if (authorization.type === 'basic') {
      const { username, password } = authorization.config as { username: string; password: string };
      if (!has(headers, 'authorization')) headers.push(['authorization', `Basic ${Buffer.from(`${substitute(username)}:${substitute(password)}`).toString('base64')}`]);
    } else if (authorization.type === 'bearer') {
      if (!has(headers, 'authorization')) headers.push(['authorization', `Bearer ${substitute((authorization.config as { token: string }).token)}`]);
    } else if (authorization.type === 'api key') {
      const { header = {}, query = {}, cookie = {} } = authorization.config as Record<string, Record<string, string> | undefined>;
      for (const [name, value] of Object.entries(header)) headers.push([name, substitute(value)]);
      for (const [name, value] of Object.entries(query)) url.searchParams.append(name, substitute(value));
      const cookies = Object.entries(cookie).map(([name, value]) => `${name}=${substitute(value)}`);
      if (cookies.length) headers.push(['cookie', cookies.join('; ')]);
    }
  }
  const { defaultHeaders } = config;
  const extraHeaders = defaultHeaders === true ? CORE_DEFAULT_HEADERS : defaultHeaders || {};
  for (const [name, value] of Object.entries(extraHeaders)) if (!has(headers, name)) headers.push([name, value]);
  for (const [name, value] of headers) {
    if (!TOKEN.test(name) || !FIELD_VALUE.test(value)) throw invalid(`Header ${name.slice(0, 100)} is not valid after substitution.`);
  }

  return {
    request: { url: url.href, method: input.request.method.toUpperCase(), headers, body },
    settings: {
      timeoutMs: config.timeout ?? defaults.timeoutMs,
      followRedirects: config.followRedirects ?? true,
      maxRedirects: config.maxRedirects ?? defaults.maxRedirects,
      tls: { validateCertificates: config.validateCertificates ?? true, ca: config.ca, ...clientCertificate(input.certificates ?? [], certificateIdOf(input), stored) },
      proxyUrl: config.proxy,
      maxBodyBytes: Math.min(config.maxBodyBytes ?? defaults.maxBodyBytes, defaults.maxBodyBytes),
    },
  };
}
