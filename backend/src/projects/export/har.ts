import { listHistory, type HistoryAccess, type HistoryEntry, type HistoryListQuery } from '../../store/history.js';
import type { Storage } from '../../store/storage.js';
import { headerPairs } from '../project-builder.js';

/**
 * History as a HAR 1.2 log, streamed: one page of entries is read when the consumer wants more,
 * so an export of any size holds one page in memory.
 */

const PAGE = 200;
type Json = Record<string, unknown>;

function queryOf(url: string): { name: string; value: string }[] {
  try {
    return [...new URL(url).searchParams].map(([name, value]) => ({ name, value }));
  } catch {
    return [];
  }
}

const textOf = (payload: unknown) => (typeof payload === 'string' ? payload : undefined);
const typeOf = (headers: { name: string; value: string }[]) => headers.find((header) => header.name.toLowerCase() === 'content-type')?.value ?? '';
const ms = (value: unknown) => (typeof value === 'number' && value >= 0 ? value : -1);

export function harEntryOf(entry: HistoryEntry): Json {
  const { request, response } = entry.log as { request: Json & HistoryEntry['log']['request']; response?: Json };
  const requestHeaders = headerPairs(request.headers);
  const body = textOf(request.payload);
  const responseHeaders = headerPairs(typeof response?.headers === 'string' ? response.headers : '');
  const content = textOf(response?.payload);
  const timings = (response?.timings ?? {}) as Json;
  const harTimings = { blocked: ms(timings.blocked), dns: ms(timings.dns), connect: ms(timings.connect), ssl: ms(timings.ssl), send: Math.max(0, ms(timings.send)), wait: Math.max(0, ms(timings.wait)), receive: Math.max(0, ms(timings.receive)) };
  return {
    startedDateTime: new Date(request.startTime).toISOString(),
    time: harTimings.send + harTimings.wait + harTimings.receive,
    request: {
      method: request.method,
      url: request.url,
      httpVersion: 'HTTP/1.1',
      cookies: [],
      headers: requestHeaders,
      queryString: queryOf(request.url),
      ...(body !== undefined ? { postData: { mimeType: typeOf(requestHeaders), text: body } } : {}),
      headersSize: -1,
      bodySize: body === undefined ? 0 : Buffer.byteLength(body),
    },
    response: {
      status: typeof response?.status === 'number' ? response.status : 0,
      statusText: typeof response?.statusText === 'string' ? response.statusText : '',
      httpVersion: 'HTTP/1.1',
      cookies: [],
      headers: responseHeaders,
      content: { size: content === undefined ? 0 : Buffer.byteLength(content), mimeType: typeOf(responseHeaders), ...(content !== undefined ? { text: content } : {}) },
      redirectURL: '',
      headersSize: -1,
      bodySize: -1,
    },
    cache: {},
    timings: harTimings,
    comment: entry.key,
  };
}

/** The HAR text of the caller's history matching `list`, newest first, read a page at a time. */
export function historyHarStream(storage: Storage, access: HistoryAccess, list: HistoryListQuery, creator: { name: string; version: string }): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let after: string | undefined;
  let state: 'start' | 'entries' | 'done' = 'start';
  let first = true;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (state === 'start') {
        controller.enqueue(encoder.encode(`{"log":{"version":"1.2","creator":${JSON.stringify(creator)},"entries":[`));
        state = 'entries';
        return;
      }
      if (state === 'done') return;
      const page = await listHistory(storage, access, list, { limit: PAGE, after });
      const parts = page.items.map((entry) => {
        const text = `${first ? '' : ','}${JSON.stringify(harEntryOf(entry))}`;
        first = false;
        return text;
      });
      if (parts.length) controller.enqueue(encoder.encode(parts.join('')));
      after = page.last;
      if (after === undefined) {
        controller.enqueue(encoder.encode(']}}'));
        state = 'done';
        controller.close();
      }
    },
  });
}
