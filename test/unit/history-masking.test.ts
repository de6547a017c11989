import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { compileMaskingRules, defaultHistoryMasking, MASK, maskHistoryEntry } from '../../backend/src/store/history-masking.js';
import type { HistoryInput } from '../../backend/src/store/history.js';

const rules = compileMaskingRules(defaultHistoryMasking);

function entry(request: Record<string, unknown>, response?: Record<string, unknown>, extra: Record<string, unknown> = {}): HistoryInput {
  return {
    app: 'test',
    log: { request: { url: 'https://api.example.test/v1', method: 'GET', startTime: 1, ...request }, ...(response ? { response: { status: 200, ...response } } : {}), ...extra },
  } as HistoryInput;
}

describe('maskHistoryEntry', () => {
  test('masks the always-masked headers and those matching the default patterns, keeping names and other headers', () => {
    const given = entry(
      { headers: 'Accept: */*\nAuthorization: Basic dXNlcjpwYXNzd29yZA==\nX-API-Key: k-123456\r\nx-auth-token: tok-abcdef\nProxy-Authorization: Bearer p-998877\nCookie: sid=s-445566; theme=dark' },
      { headers: 'Content-Type: application/json\nSet-Cookie: sid=s-778899; Path=/; HttpOnly\nX-Client-Secret: cs-112233', payload: '{}' },
    );
    const masked = maskHistoryEntry(given, rules);
    assert.equal(
      masked.log.request.headers,
      `Accept: */*\nAuthorization: ${MASK}\nX-API-Key: ${MASK}\r\nx-auth-token: ${MASK}\nProxy-Authorization: ${MASK}\nCookie: ${MASK}`,
    );
    assert.equal(masked.log.response?.headers, `Content-Type: application/json\nSet-Cookie: ${MASK}\nX-Client-Secret: ${MASK}`);
    assert.match(given.log.request.headers ?? '', /dXNlcjpwYXNzd29yZA==/, 'the given entry is not changed');
  });

  test('an entry with nothing to mask comes back as the same object', () => {
    const given = entry({ url: 'https://api.example.test/v1?page=2', headers: 'Accept: */*\nUser-Agent: test' }, { headers: 'Content-Type: text/plain', payload: 'hello' });
    assert.equal(maskHistoryEntry(given, rules), given);
  });

  test('query parameters, urlencoded form fields and a URL password with sensitive names are masked', () => {
    const masked = maskHistoryEntry(
      entry({
        url: 'https://user:pa55word@api.example.test/v1?page=2&access_token=at-556677&api%5Fkey=ak-443322#top',
        headers: 'Content-Type: application/x-www-form-urlencoded',
        payload: 'username=ann&password=hunter22&remember=1',
      }),
      rules,
    );
    assert.equal(masked.log.request.url, `https://user:${MASK}@api.example.test/v1?page=2&access_token=${MASK}&api%5Fkey=${MASK}#top`);
    assert.equal(masked.log.request.payload, `username=ann&password=${MASK}&remember=1`);
  });

  test('with parameters off, query and form values stay; headers are still masked', () => {
    const own = compileMaskingRules({ ...defaultHistoryMasking, parameters: false });
    const masked = maskHistoryEntry(entry({ url: 'https://h.test/?token=abc', headers: 'Authorization: x' }), own);
    assert.equal(masked.log.request.url, 'https://h.test/?token=abc');
    assert.equal(masked.log.request.headers, `Authorization: ${MASK}`);
  });

  test('a masked value is replaced wherever else it occurs: an echoed body, a redirect, an error message', () => {
    const token = 'eyJhbGciOiJIUzI1NiJ9.payload.signature';
    const masked = maskHistoryEntry(
      entry(
        { headers: `Authorization: Bearer ${token}`, httpMessage: `GET /v1 HTTP/1.1\r\nAuthorization: Bearer ${token}\r\n\r\n` },
        { headers: 'Content-Type: application/json', payload: JSON.stringify({ headers: { authorization: `Bearer ${token}` }, token }) },
        { redirects: [{ url: `https://h.test/cb?code=${token}`, response: { headers: `Location: /x\nSet-Cookie: s=${token}` } }], error: { message: `failed for ${token}` } },
      ),
      rules,
    );
    assert.ok(!JSON.stringify(masked).includes(token), JSON.stringify(masked));
    assert.equal(masked.log.request.httpMessage, `GET /v1 HTTP/1.1\r\nAuthorization: ${MASK}\r\n\r\n`);
  });

  test('custom patterns replace the defaults; the always-masked headers stay masked', () => {
    const own = compileMaskingRules({ patterns: ['x-internal-?d', 'session*'], parameters: true });
    const masked = maskHistoryEntry(entry({ headers: 'X-Internal-Id: 1\nX-Internal-Idx: 2\nSESSION-KEY: 3\nX-Api-Key: 4\nCookie: 5' }), own);
    assert.equal(masked.log.request.headers, `X-Internal-Id: ${MASK}\nX-Internal-Idx: 2\nSESSION-KEY: ${MASK}\nX-Api-Key: 4\nCookie: ${MASK}`);
  });

  test('patterns are globs, not regular expressions', () => {
    const own = compileMaskingRules({ patterns: ['a.b', '(x)+'], parameters: true });
    assert.equal(own.isSensitive('a.b'), true);
    assert.equal(own.isSensitive('axb'), false);
    assert.equal(own.isSensitive('(x)+'), true);
    assert.equal(own.isSensitive('xx'), false);
  });

  test('globs match as a regular expression of the same pattern would, case-insensitively', () => {
    const reference = (pattern: string) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'is');
    const text = (chars: string[], max: number) => fc.array(fc.constantFrom(...chars), { maxLength: max }).map((list) => list.join(''));
    fc.assert(
      fc.property(text(['a', 'B', '-', '*', '?', '.'], 8), text(['a', 'b', 'A', '-', '.', 'x'], 12), (pattern, name) => {
        return compileMaskingRules({ patterns: [pattern], parameters: true }).isSensitive(name) === reference(pattern).test(name);
      }),
      { numRuns: 2000 },
    );
  });

  test('a long header name against a pattern of many stars is answered (no backtracking blow-up)', () => {
    const own = compileMaskingRules({ patterns: ['*a*a*a*a*a*a*a*a*b'], parameters: true });
    assert.equal(own.isSensitive('a'.repeat(100_000)), false);
    assert.equal(own.isSensitive(`${'a'.repeat(100_000)}b`), true);
  });

  test('secret values are masked in the URL, headers, text bodies and any other string, the URL-encoded form too', () => {
    const masked = maskHistoryEntry(
      entry(
        { url: 'https://h.test/v1/s%20cret%2Fvalue/items?q=s cret/value', headers: 'X-Plain: s cret/value', payload: 'body with s cret/value in it' },
        { headers: 'Content-Type: text/plain', payload: 'echo: s cret/value' },
        { note: ['s cret/value'] },
      ),
      rules,
      ['s cret/value', ''],
    );
    assert.ok(!JSON.stringify(masked).includes('s cret/value'));
    assert.ok(!JSON.stringify(masked).includes('s%20cret%2Fvalue'));
    assert.equal(masked.log.request.headers, `X-Plain: ${MASK}`);
    assert.equal(masked.log.request.url, `https://h.test/v1/${MASK}/items?q=${MASK}`);
  });

  test('no plaintext of a sensitive header survives, whatever its value and the rest of the entry', () => {
    const value = fc.string({ minLength: 6, maxLength: 40 }).filter((text) => /^[\x21-\x7e][\x20-\x7e]*[\x21-\x7e]$/.test(text) && !text.includes(MASK));
    fc.assert(
      fc.property(value, fc.string(), fc.constantFrom('Authorization', 'x-api-key', 'My-Token', 'Set-Cookie'), (secret, body, name) => {
        const masked = maskHistoryEntry(entry({ headers: `Accept: */*\n${name}: ${secret}`, payload: `${body}${secret}${body}` }, { headers: 'A: b', payload: secret }), rules);
        return !JSON.stringify(masked.log).includes(JSON.stringify(secret).slice(1, -1));
      }),
    );
  });
});
