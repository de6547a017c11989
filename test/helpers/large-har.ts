/**
 * Generated HAR logs for the streaming import's test and bench: `entries` requests, each with a
 * response body of `responseBytes` (the bulk of a browser's HAR, which a project leaves out).
 */
export function largeHar(entries: number, responseBytes: number): string {
  const body = 'r'.repeat(responseBytes);
  const list = Array.from({ length: entries }, (_, i) => ({
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
  }));
  return JSON.stringify({ log: { version: '1.2', creator: { name: 'generator', version: '1' }, entries: list } });
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
