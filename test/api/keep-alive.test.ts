import assert from 'node:assert/strict';
import { Agent, request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startTeam, type Team } from '../helpers/team.js';

/**
 * A refused request never breaks another request on the same keep-alive connection (issue 13):
 * the server answers before reading a large body, and the client's next request, sent on the
 * same connection as soon as the first is done, is answered on it.
 */

interface Answer {
  status: number;
  /** The client's port: the same one for two requests means the same connection. */
  localPort: number;
  connection: string | undefined;
  body: string;
}

/** One request through `agent`, resolved once the answer is read and the body fully sent. */
function send(agent: Agent, url: string, options: { method: string; headers?: OutgoingHttpHeaders; body?: string }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { agent, method: options.method, headers: options.headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, localPort: request.socket?.localPort ?? 0, connection: response.headers.connection, body: Buffer.concat(chunks).toString() }),
      );
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(options.body);
  });
}

const KB = 1000;
const body200k = JSON.stringify([{ op: 'add', path: '/padding', value: 'x'.repeat(200 * KB) }]);

describe('a refused request leaves its keep-alive connection usable', () => {
  let team: Team;
  let fileKey: string;
  before(async () => {
    // Contents are capped below 200 KB here so that a 200 KB body can get a 413 on a contents route.
    team = await startTeam({ limits: { mediaBytes: 150 * 1024 } });
    const created = await team.call(team.alice, '/files?alt=media', { method: 'POST', body: { meta: { kind: 'Core#Note', info: { name: 'p' } }, media: {} } });
    assert.equal(created.status, 201);
    fileKey = created.body.key;
  });
  after(() => team.stop());

  const json = { 'Content-Type': 'application/json' };
  const cases: { status: number; name: string; method: string; path: () => string; headers: (token: string) => OutgoingHttpHeaders }[] = [
    { status: 400, name: 'a bad query', method: 'POST', path: () => '/files?parent=..%2F..', headers: (token) => ({ ...json, Authorization: `Bearer ${token}` }) },
    { status: 401, name: 'no credential', method: 'POST', path: () => '/files', headers: () => json },
    { status: 403, name: 'a foreign Origin', method: 'POST', path: () => '/files', headers: (token) => ({ ...json, Authorization: `Bearer ${token}`, Origin: 'https://evil.example' }) },
    { status: 404, name: 'no such route', method: 'POST', path: () => '/no-such-route', headers: (token) => ({ ...json, Authorization: `Bearer ${token}` }) },
    { status: 404, name: 'a missing file', method: 'PATCH', path: () => '/files/missing-file', headers: (token) => ({ ...json, Authorization: `Bearer ${token}` }) },
    { status: 405, name: 'a wrong method', method: 'POST', path: () => '/store', headers: (token) => ({ ...json, Authorization: `Bearer ${token}` }) },
    { status: 412, name: 'an old If-Match', method: 'PATCH', path: () => `/files/${fileKey}`, headers: (token) => ({ ...json, Authorization: `Bearer ${token}`, 'If-Match': '"999"' }) },
    { status: 413, name: 'a body over the route’s cap', method: 'PUT', path: () => `/files/${fileKey}?alt=media`, headers: (token) => ({ ...json, Authorization: `Bearer ${token}` }) },
    { status: 415, name: 'a body that is not JSON', method: 'POST', path: () => '/files', headers: (token) => ({ 'Content-Type': 'text/plain', Authorization: `Bearer ${token}` }) },
  ];

  for (const refused of cases) {
    test(`${refused.status} for ${refused.name}, then the next request on the same connection succeeds`, async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const first = await send(agent, `${team.store.baseUrl}${refused.path()}`, { method: refused.method, headers: refused.headers(team.alice.token), body: body200k });
        assert.equal(first.status, refused.status, first.body);
        assert.equal(JSON.parse(first.body).status, refused.status);
        // Sent at once: the server still has most of the refused body to get past on this connection.
        const second = await send(agent, `${team.store.baseUrl}/store`, { method: 'GET' });
        assert.equal(second.status, 200);
        assert.equal(second.localPort, first.localPort, 'the same connection');
        const third = await send(agent, `${team.store.baseUrl}/files/${fileKey}`, { method: 'GET', headers: { Authorization: `Bearer ${team.alice.token}` } });
        assert.equal(third.status, 200);
        assert.equal(third.localPort, first.localPort, 'the same connection');
      } finally {
        agent.destroy();
      }
    });
  }

  test('a body over every cap is answered with Connection: close, and the next request opens a new connection', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const huge = JSON.stringify({ kind: 'Core#HttpProject', info: { name: 'huge' }, padding: 'x'.repeat(2 * 1024 * 1024) });
      const first = await send(agent, `${team.store.baseUrl}/files`, { method: 'POST', headers: { ...json, Authorization: `Bearer ${team.alice.token}` }, body: huge });
      assert.equal(first.status, 413);
      assert.equal(first.connection, 'close');
      const second = await send(agent, `${team.store.baseUrl}/store`, { method: 'GET' });
      assert.equal(second.status, 200);
      assert.notEqual(second.localPort, first.localPort);
    } finally {
      agent.destroy();
    }
  });
});
