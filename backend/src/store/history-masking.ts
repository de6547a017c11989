import type { HistoryInput } from './history.js';
import type { Storage } from './storage.js';
import type { Mutation } from './store.js';

/**
 * What history keeps of credentials: nothing. Before an entry is stored, the value of every
 * sensitive header (request and response, in core's `Name: value` line blocks) becomes `MASK`,
 * the header's name staying; so do the values of query parameters and of form fields of an
 * `x-www-form-urlencoded` request body whose names are sensitive, and the password of a URL's
 * user info. Every value masked that way, and every secret value the caller names (the secret
 * variables the proxy substituted), is then replaced wherever else it occurs in the entry: an
 * echoed body, a redirect's URL, an error message.
 *
 * The sensitive names are the fixed `ALWAYS_MASKED` ones and the store's glob patterns, kept in
 * `meta` under `history-masking` (see `writeHistoryMasking`); each write reads that one record
 * and compiles it only when it changed.
 */

export const MASK = '[masked]';

/** Always masked, whatever the store's patterns. */
export const ALWAYS_MASKED = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie'] as const;

export interface HistoryMaskingSettings {
  /** Case-insensitive globs (`*` any run of characters, `?` one) over header and parameter names. */
  patterns: string[];
  /** Also mask query parameters and urlencoded form fields whose names are sensitive. */
  parameters: boolean;
}

export const defaultHistoryMasking: HistoryMaskingSettings = {
  patterns: ['*api-key*', '*api_key*', '*apikey*', '*token*', '*secret*', '*password*'],
  parameters: true,
};

export const HISTORY_MASKING_KEY = 'history-masking';

/** The settings compiled once: what `maskHistoryEntry` takes. */
export interface MaskingRules {
  isSensitive(name: string): boolean;
  parameters: boolean;
}

/** A literal run of a glob between stars, lower case; `?` stands for any one character. */
interface Part {
  text: string;
  wild: boolean;
}

const partOf = (text: string): Part => ({ text, wild: text.includes('?') });

/** Whether `part` matches `name` at `at`. */
function matchesAt(name: string, part: Part, at: number): boolean {
  if (!part.wild) return name.startsWith(part.text, at);
  const { text } = part;
  for (let i = 0; i < text.length; i++) if (text[i] !== '?' && text[i] !== name[at + i]) return false;
  return true;
}

/** The first position at or after `from` where `part` matches and ends by `end`, or -1. */
function find(name: string, part: Part, from: number, end: number): number {
  const last = end - part.text.length;
  if (!part.wild) {
    const found = name.indexOf(part.text, from);
    return found >= 0 && found <= last ? found : -1;
  }
  for (let at = from; at <= last; at++) if (matchesAt(name, part, at)) return at;
  return -1;
}

/**
 * A glob as a test of lower-case names. Matched by its literal parts between stars, leftmost
 * first: linear in the name, where a regular expression of several stars could backtrack for
 * long on a long header name that a teammate chose.
 */
function compileGlob(pattern: string): (name: string) => boolean {
  const parts = pattern.toLowerCase().split('*').map(partOf);
  const first = parts[0];
  if (parts.length === 1) return (name) => name.length === first.text.length && matchesAt(name, first, 0);
  const last = parts[parts.length - 1];
  const middle = parts.slice(1, -1).filter((part) => part.text);
  // `*literal*`, the usual pattern, is a substring test.
  if (!first.text && !last.text && middle.length === 1 && !middle[0].wild) {
    const text = middle[0].text;
    return (name) => name.includes(text);
  }
  return (name) => {
    const end = name.length - last.text.length;
    if (end < first.text.length || !matchesAt(name, first, 0) || !matchesAt(name, last, end)) return false;
    let at = first.text.length;
    for (const part of middle) {
      const found = find(name, part, at, end);
      if (found < 0) return false;
      at = found + part.text.length;
    }
    return true;
  };
}

/** Names answered per compiled rules before the answers are forgotten: header names repeat from entry to entry. */
const MAX_REMEMBERED_NAMES = 4096;

export function compileMaskingRules(settings: HistoryMaskingSettings): MaskingRules {
  const fixed = new Set<string>(ALWAYS_MASKED);
  const globs = settings.patterns.map(compileGlob);
  const answers = new Map<string, boolean>();
  return {
    isSensitive: (name) => {
      let answer = answers.get(name);
      if (answer === undefined) {
        const lower = name.toLowerCase();
        answer = fixed.has(lower) || globs.some((matches) => matches(lower));
        if (answers.size >= MAX_REMEMBERED_NAMES) answers.clear();
        answers.set(name, answer);
      }
      return answer;
    },
    parameters: settings.parameters,
  };
}

/** Values shorter than this, taken from a masked header or parameter, are not searched for elsewhere in the entry. */
const MIN_SEARCHED_LENGTH = 6;
/**
 * At most this many values taken from one entry's headers and parameters are searched for
 * elsewhere in it: each is one more pass over the entry's strings, and an entry of thousands of
 * sensitive headers must not hold up the store. Secret values given by the caller are all searched.
 */
const MAX_SEARCHED_VALUES = 64;

/** The values masked so far in one entry, to be replaced wherever else they occur. */
class Found {
  readonly values = new Set<string>();

  add(value: string): void {
    if (value.length < MIN_SEARCHED_LENGTH || this.values.size >= MAX_SEARCHED_VALUES) return;
    this.values.add(value);
    const encoded = encodeURIComponent(value);
    if (encoded !== value) this.values.add(encoded);
  }

  /** A credential header's value, its part after the scheme (`Bearer …`), and each cookie's value. */
  addHeader(name: string, value: string): void {
    this.add(value);
    const lower = name.toLowerCase();
    if (lower === 'cookie' || lower === 'set-cookie') {
      for (const pair of (lower === 'set-cookie' ? value.split(';', 1) : value.split(';'))) this.add(pair.slice(pair.indexOf('=') + 1).trim());
    } else {
      const space = value.indexOf(' ');
      if (space > 0) this.add(value.slice(space + 1).trim());
    }
  }
}

/** Core's header block, `Name: value` lines, with sensitive values masked; the same string when none is. */
function maskHeaderBlock(block: string, rules: MaskingRules, found: Found): string {
  let masked = '';
  // The start of the block not yet copied to `masked`.
  let copied = 0;
  // The next colon, searched again only once passed: lines without one must not make this quadratic.
  let colon = -1;
  for (let start = 0; start < block.length; ) {
    const newline = block.indexOf('\n', start);
    const end = newline < 0 ? block.length : newline;
    if (colon < start) colon = block.indexOf(':', start);
    if (colon < 0) break;
    if (colon > start && colon < end) {
      const name = block.slice(start, colon).trim();
      if (rules.isSensitive(name)) {
        const valueEnd = block.charCodeAt(end - 1) === 13 ? end - 1 : end;
        found.addHeader(name, block.slice(colon + 1, valueEnd).trim());
        masked += `${block.slice(copied, colon)}: ${MASK}`;
        copied = valueEnd;
      }
    }
    start = end + 1;
  }
  return copied ? masked + block.slice(copied) : block;
}

function decoded(text: string): string {
  if (!text.includes('%') && !text.includes('+')) return text;
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/** `a=1&b=2` with the values of sensitive names masked; the same string when none is. */
function maskParameters(query: string, rules: MaskingRules, found: Found): string {
  let masked = '';
  let copied = 0;
  let equals = -1;
  for (let start = 0; start < query.length; ) {
    const amp = query.indexOf('&', start);
    const end = amp < 0 ? query.length : amp;
    if (equals < start) equals = query.indexOf('=', start);
    if (equals < 0) break;
    if (equals > start && equals < end && rules.isSensitive(decoded(query.slice(start, equals)))) {
      const value = query.slice(equals + 1, end);
      found.add(value);
      found.add(decoded(value));
      masked += `${query.slice(copied, equals + 1)}${MASK}`;
      copied = end;
    }
    start = end + 1;
  }
  return copied ? masked + query.slice(copied) : query;
}

/** A URL with its user info's password and, when the rules say so, its sensitive query parameters masked. */
function maskUrl(url: string, rules: MaskingRules, found: Found): string {
  let result = url;
  const scheme = result.indexOf('://');
  if (scheme > 0) {
    const authorityStart = scheme + 3;
    let authorityEnd = authorityStart;
    while (authorityEnd < result.length && !'/?#'.includes(result[authorityEnd])) authorityEnd++;
    const authority = result.slice(authorityStart, authorityEnd);
    const at = authority.lastIndexOf('@');
    const colon = at < 0 ? -1 : authority.indexOf(':');
    if (colon >= 0 && colon < at) {
      const password = authority.slice(colon + 1, at);
      found.add(password);
      found.add(decoded(password));
      result = `${result.slice(0, authorityStart + colon + 1)}${MASK}${result.slice(authorityStart + at)}`;
    }
  }
  if (!rules.parameters) return result;
  const question = result.indexOf('?');
  if (question < 0) return result;
  const hash = result.indexOf('#', question);
  const end = hash < 0 ? result.length : hash;
  const query = result.slice(question + 1, end);
  const masked = maskParameters(query, rules, found);
  return masked === query ? result : `${result.slice(0, question + 1)}${masked}${result.slice(end)}`;
}

const FORM_TYPE = /^\s*content-type\s*:\s*application\/x-www-form-urlencoded/im;

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Every string in `value` with each of `values` (longest first) replaced by the marker; the same object when none occurs. */
function replaceEverywhere(value: unknown, values: string[]): unknown {
  if (typeof value === 'string') {
    let text = value;
    for (const secret of values) if (text.includes(secret)) text = text.split(secret).join(MASK);
    return text;
  }
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, i) => {
      const replaced = replaceEverywhere(item, values);
      if (replaced !== item) (copy ??= value.slice())[i] = replaced;
    });
    return copy ?? value;
  }
  if (isObject(value)) {
    let copy: Json | undefined;
    for (const field in value) {
      const item = value[field];
      const replaced = replaceEverywhere(item, values);
      if (replaced !== item) (copy ??= { ...value })[field] = replaced;
    }
    return copy ?? value;
  }
  return value;
}

/** `object` with `field` replaced when `masked` changed it. */
function withMasked<T extends Json>(object: T, field: string, masked: unknown): T {
  return masked === object[field] ? object : { ...object, [field]: masked };
}

/** The header blocks of a request or response in core's shapes: `headers`, and a sent request's raw `httpMessage`. */
function maskMessage<T extends Json>(message: T, rules: MaskingRules, found: Found): T {
  let result = message;
  for (const field of ['headers', 'httpMessage']) {
    const block = result[field];
    if (typeof block === 'string') result = withMasked(result, field, maskHeaderBlock(block, rules, found));
  }
  for (const field of ['url', 'location']) {
    const url = result[field];
    if (typeof url === 'string') result = withMasked(result, field, maskUrl(url, rules, found));
  }
  return result;
}

/**
 * The entry as history may store it: sensitive header, parameter and user-info values, and each
 * of `secretValues` wherever it occurs, replaced by `MASK`. Returns `entry` itself when nothing
 * is masked, and never changes it.
 */
export function maskHistoryEntry<T extends HistoryInput>(entry: T, rules: MaskingRules, secretValues: readonly string[] = []): T {
  const found = new Found();
  const log: Json = entry.log;
  let request = maskMessage(log.request as Json, rules, found);
  const headers = request.headers;
  if (rules.parameters && typeof request.payload === 'string' && typeof headers === 'string' && FORM_TYPE.test(headers)) {
    request = withMasked(request, 'payload', maskParameters(request.payload, rules, found));
  }
  let masked = withMasked(log, 'request', request);
  if (isObject(log.response)) masked = withMasked(masked, 'response', maskMessage(log.response, rules, found));
  if (Array.isArray(log.redirects)) {
    const redirects = log.redirects.map((hop) => {
      if (!isObject(hop)) return hop;
      const maskedHop = maskMessage(hop, rules, found);
      return isObject(maskedHop.response) ? withMasked(maskedHop, 'response', maskMessage(maskedHop.response, rules, found)) : maskedHop;
    });
    if (redirects.some((hop, i) => hop !== (log.redirects as unknown[])[i])) masked = { ...masked, redirects };
  }
  return maskValues(masked === log ? entry : ({ ...entry, log: masked } as T), [...found.values, ...secretValues]);
}

/**
 * `value` with each of `values`, as given and percent-encoded, replaced by `MASK` wherever it
 * occurs: how the values of secrets a request used are kept out of history and out of the
 * proxy's answer. Returns `value` itself when none occurs.
 */
export function maskValues<T>(value: T, values: Iterable<string>): T {
  const forms = new Set<string>();
  for (const text of values) {
    if (!text) continue;
    forms.add(text);
    forms.add(encodeURIComponent(text));
  }
  if (!forms.size) return value;
  // Longest first: a value that contains another is replaced whole.
  return replaceEverywhere(value, [...forms].sort((a, b) => b.length - a.length)) as T;
}

/** The store's settings, or the defaults when never set. */
export async function readHistoryMasking(storage: Storage): Promise<HistoryMaskingSettings> {
  return (await storage.get<HistoryMaskingSettings>('meta', HISTORY_MASKING_KEY)) ?? defaultHistoryMasking;
}

/** Stores new settings in the mutation's batch; entries written afterwards follow them. */
export function writeHistoryMasking(m: Mutation, settings: HistoryMaskingSettings): void {
  m.put('meta', HISTORY_MASKING_KEY, settings);
}

/** Each storage's last compiled settings, by their JSON: compiled again only when they change. */
const compiled = new WeakMap<Storage, { source: string; rules: MaskingRules }>();

/** The rules entries are masked with now: one read of the settings record, compiled when it changed. */
export async function historyMaskingRules(storage: Storage): Promise<MaskingRules> {
  const settings = await readHistoryMasking(storage);
  const source = JSON.stringify(settings);
  const cached = compiled.get(storage);
  if (cached?.source === source) return cached.rules;
  const rules = compileMaskingRules(settings);
  compiled.set(storage, { source, rules });
  return rules;
}
