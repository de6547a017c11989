import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
/**
 * Generated HAR logs for the streaming import's test and bench: `entries` requests, each with a
 * response body of `responseBytes` (the bulk of a browser's HAR, which a project leaves out).
 */
function harEntry(i: number, body: string) {
  return {
    startedDateTime: new Date(1_700_000_000_000 + i).toISOString(),
    time: 1,
    request: {
      method: i % 3 ? 'GET' : 'POST',
      url: `https://example.com/items/${i}?page=${i % 7}`,
      httpVersion: 'HTTP/1.1',
      headers: [{ name: 'accept', value: '*/*' }, { name: 'x-entry', value: String(i) }],
      queryString: [{ name: 'page', value: String(i % 7) }],
      cookies: [],
      headersSize: -1,
      bodySize: i % 3 ? 0 : 20,
      ...(i % 3 ? {} : { postData: { mimeType: 'application/json', text: JSON.stringify({ entry: i }) } }),
    },
    response: { status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', headers: [], cookies: [], content: { size: body.length, mimeType: 'text/plain', text: body }, redirectURL: '', headersSize: -1, bodySize: -1 },
    cache: {},
    timings: { send: 0, wait: 1, receive: 0 },
  };
}

const harStart = '{"log":{"version":"1.2","creator":{"name":"generator","version":"1"},"entries":[';

export function largeHar(entries: number, responseBytes: number): string {
  const body = 'r'.repeat(responseBytes);
  return `${harStart}${Array.from({ length: entries }, (_, i) => JSON.stringify(harEntry(i, body))).join(',')}]}}`;
}

/** The same HAR written to `file` an entry at a time, for sizes a string should not hold. */
export async function writeLargeHar(file: string, entries: number, responseBytes: number): Promise<void> {
  const body = 'r'.repeat(responseBytes);
  const out = createWriteStream(file);
  const write = (text: string) => (out.write(text) ? undefined : once(out, 'drain'));
  await write(harStart);
  for (let i = 0; i < entries; i++) await write(`${i ? ',' : ''}${JSON.stringify(harEntry(i, body))}`);
  await write(']}}');
  out.end();
  await finished(out);
}

/** The requests the project made from `largeHar(entries, …)` must hold, in order. */
export function largeHarRequests(entries: number): { method: string; url: string; headers: string; payload?: string }[] {
  return Array.from({ length: entries }, (_, i) => ({
    method: i % 3 ? 'GET' : 'POST',
    url: `https://example.com/items/${i}?page=${i % 7}`,
    headers: `accept: */*\nx-entry: ${i}`,
    ...(i % 3 ? {} : { payload: JSON.stringify({ entry: i }) }),
  }));
}
