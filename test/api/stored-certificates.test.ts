import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { SignedInUser } from '../helpers/accounts.js';
import { generatePki, pkcs12Of, startHttpsTarget, type Listening, type Pki } from '../helpers/proxy-targets.js';
import { startTeam, type Team } from '../helpers/team.js';

type Json = Record<string, any>;

/**
 * Client certificates kept as files of kind `Core#Certificate`, presented by the proxy and by
 * project runs to a loopback server that requires one. Teammates are allowed private targets
 * here, so that only the certificate decides what gets through.
 */
describe('stored certificates', () => {
  let team: Team;
  let pki: Pki;
  /** A client certificate from another authority, which the target refuses. */
  let stranger: Pki;
  let p12: Buffer;
  let target: Listening & { received: string[] };
  before(async () => {
    team = await startTeam({ proxy: { allowPrivateTargets: true } });
    pki = await generatePki();
    stranger = await generatePki();
    p12 = pkcs12Of(pki, 'p12 secret');
    target = await startHttpsTarget(pki, true);
  });
  after(async () => {
    await team.stop();
    await target.close();
  });

  const pemCertificate = (key: string) => ({ kind: 'Core#Certificate', key, name: 'client (PEM)', type: 'pem', cert: { data: pki.clientCert }, certKey: { data: pki.clientKey } });
  const p12Certificate = (key: string) => ({ kind: 'Core#Certificate', key, name: 'client (PKCS#12)', type: 'p12', cert: { data: p12.toString('base64'), passphrase: 'p12 secret' } });

  async function storeFile(user: SignedInUser, key: string, kind: string, contents: unknown): Promise<{ status: number; body: Json }> {
    return team.call(user, '/files?alt=media', { method: 'POST', body: { meta: { key, kind, info: { name: key } }, media: contents } });
  }

  async function storeCertificate(user: SignedInUser, contents: { key: string }): Promise<void> {
    const created = await storeFile(user, contents.key, 'Core#Certificate', contents);
    assert.equal(created.status, 201, JSON.stringify(created.body));
  }

  /** A request to the target trusting its CA, with `extra` (certificates, authorization). */
  const toTarget = (extra: Json = {}) => ({ kind: 'Core#HttpRequest', request: { url: `${target.url}/echo` }, config: { ca: pki.cert }, history: false, ...extra });
  const byAuthorization = (id: string) => ({ authorization: { type: 'client certificate', config: { id } } });

  async function proxied(user: SignedInUser, body: Json): Promise<Json> {
    const { status, body: result } = await team.call(user, '/proxy', { method: 'POST', body });
    assert.equal(status, 200, JSON.stringify(result));
    return result;
  }

  test('are checked when written: a Core#Certificate must hold PEM certificate and key, or base64 PKCS#12', async () => {
    for (const [contents, path] of [
      [{ ...pemCertificate('bad-1'), certKey: undefined }, 'certKey'],
      [{ ...pemCertificate('bad-2'), cert: { data: 'not a certificate' } }, 'cert.data'],
      [{ ...p12Certificate('bad-3'), cert: { data: '%%% not base64 %%%' } }, 'cert.data'],
      [{ ...pemCertificate('bad-4'), type: 'der' }, 'type'],
      [{ ...pemCertificate('bad-5'), kind: 'Core#Note' }, 'kind'],
    ] as const) {
      const refused = await storeFile(team.alice, contents.key, 'Core#Certificate', contents);
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.equal(refused.body.code, 'invalid_certificate');
      assert.ok(refused.body.errors.some((error: Json) => error.path === path), JSON.stringify(refused.body.errors));
    }
    await storeCertificate(team.alice, pemCertificate('checked'));
    const put = await team.call(team.alice, '/files/checked?alt=media', { method: 'PUT', body: { ...pemCertificate('checked'), cert: {} } });
    assert.equal(put.body.code, 'invalid_certificate');
    const patch = await team.call(team.alice, '/files/checked?alt=media', { method: 'PATCH', body: [{ op: 'remove', path: '/certKey' }] });
    assert.equal(patch.body.code, 'invalid_certificate');
    // The private key is kept sealed: a read gets its marker, a reveal its value.
    const kept = await team.call(team.alice, '/files/checked?alt=media');
    assert.deepEqual(kept.body.cert, pemCertificate('checked').cert);
    assert.equal(kept.body.certKey.data.set, true);
    assert.equal(typeof kept.body.certKey.data.$secret, 'string');
    const revealed = await team.call(team.alice, '/files/checked?alt=media&reveal=secrets');
    assert.deepEqual(revealed.body, pemCertificate('checked'));
    // Written back as read, the marker keeps the key.
    assert.equal((await team.call(team.alice, '/files/checked?alt=media', { method: 'PUT', body: kept.body })).status, 200);
    assert.deepEqual((await team.call(team.alice, '/files/checked?alt=media&reveal=secrets')).body, pemCertificate('checked'));
  });

  test('PEM and PKCS#12: presented when named by an authorization or a reference in certificates; refused without one', async () => {
    await storeCertificate(team.alice, pemCertificate('alice-pem'));
    await storeCertificate(team.alice, p12Certificate('alice-p12'));
    const without = await proxied(team.alice, toTarget());
    assert.equal(without.error?.code, 'tls_error');
    for (const extra of [byAuthorization('alice-pem'), byAuthorization('alice-p12'), { certificates: [{ key: 'alice-pem' }] }, { certificates: [{ kind: 'Core#Certificate', key: 'alice-p12' }] }]) {
      const result = await proxied(team.alice, toTarget(extra));
      assert.equal(result.response?.status, 200, `${JSON.stringify(extra)}: ${JSON.stringify(result.error)}`);
    }
    // An inline certificate with the authorization's key wins over the stored one: here it is one the target refuses.
    const before = target.received.length;
    const inline = await proxied(team.alice, toTarget({ ...byAuthorization('alice-pem'), certificates: [{ ...pemCertificate('alice-pem'), cert: { data: stranger.clientCert }, certKey: { data: stranger.clientKey } }] }));
    assert.equal(inline.response, undefined, 'refused by the target');
    assert.equal(target.received.length, before);
  });

  test('a key that is no readable certificate (missing, another kind, no contents, in the trash) is certificate_not_found, and nothing is sent', async () => {
    const note = await storeFile(team.alice, 'a-note', 'Core#Note', { text: 'hello' });
    assert.equal(note.status, 201);
    const empty = await team.call(team.alice, '/files', { method: 'POST', body: { key: 'empty-certificate', kind: 'Core#Certificate', info: { name: 'empty' } } });
    assert.equal(empty.status, 201);
    await storeCertificate(team.alice, pemCertificate('trashed'));
    assert.equal((await team.call(team.alice, '/files/trashed', { method: 'DELETE' })).status, 204);
    const before = target.received.length;
    for (const key of ['missing', 'a-note', 'empty-certificate', 'trashed']) {
      const result = await proxied(team.alice, toTarget(byAuthorization(key)));
      assert.equal(result.error?.code, 'certificate_not_found', key);
    }
    assert.equal(target.received.length, before);
  });

  test("attacker: a teammate cannot present another user's certificate, by authorization, by reference or in a project run, until it is shared", async () => {
    await storeCertificate(team.alice, p12Certificate('alice-secret'));
    const before = target.received.length;
    // Bob learns the key (it is guessable, or was seen) and names it every way the proxy takes one.
    for (const extra of [byAuthorization('alice-secret'), { certificates: [{ key: 'alice-secret' }] }]) {
      const result = await proxied(team.bob, toTarget(extra));
      assert.equal(result.error?.code, 'certificate_not_found', JSON.stringify(result));
      assert.equal(result.error?.message, 'There is no certificate alice-secret that you can read.', 'the same answer as for a key nobody has');
    }
    // His own project, whose request names it.
    const project = {
      kind: 'Core#HttpProject',
      info: { name: 'bob' },
      items: [{ kind: 'Core#ProjectRequest', key: 'r1' }],
      definitions: {
        requests: [
          {
            kind: 'Core#ProjectRequest',
            key: 'r1',
            info: { name: 'steal' },
            expects: { kind: 'Core#HttpRequest', url: `${target.url}/echo`, method: 'GET' },
            config: { validateCertificates: false },
            authorization: [{ kind: 'Core#RequestAuthorization', type: 'client certificate', enabled: true, config: { id: 'alice-secret' } }],
          },
        ],
      },
    };
    const stored = await storeFile(team.bob, 'bob-project', 'Core#HttpProject', project);
    assert.equal(stored.status, 201, JSON.stringify(stored.body));
    const run = async (user: SignedInUser) => {
      const response = await team.store.api('/proxy', { method: 'POST', token: user.token, body: { kind: 'Core#HttpProject', pid: 'bob-project', history: false } });
      return (await response.text()).trim().split('\n').map((line) => JSON.parse(line) as Json);
    };
    const refused = await run(team.bob);
    assert.equal(refused[0].result.error?.code, 'certificate_not_found');
    assert.equal(target.received.length, before, 'nothing reached the target');

    // Once Alice shares it with him as a reader, he may use it.
    const shared = await team.call(team.alice, '/files/alice-secret/users', { method: 'PATCH', body: [{ op: 'add', type: 'user', id: team.bob.key, value: 'reader' }] });
    assert.equal(shared.status, 200, JSON.stringify(shared.body));
    assert.equal((await proxied(team.bob, toTarget(byAuthorization('alice-secret')))).response?.status, 200);
    const allowed = await run(team.bob);
    assert.equal(allowed[0].result.response?.status, 200, JSON.stringify(allowed[0]));
  });

  test("a project run presents the certificate each request names: the project's own, else a stored one", async () => {
    await storeCertificate(team.alice, pemCertificate('run-pem'));
    const request = (key: string, certificate: string) => ({
      kind: 'Core#ProjectRequest',
      key,
      info: { name: key },
      expects: { kind: 'Core#HttpRequest', url: `/echo?${key}`, method: 'GET' },
      config: { validateCertificates: false },
      authorization: [{ kind: 'Core#RequestAuthorization', type: 'client certificate', enabled: true, config: { id: certificate } }],
    });
    const project = {
      kind: 'Core#HttpProject',
      info: { name: 'mutual TLS' },
      items: ['r1', 'r2', 'r3'].map((key) => ({ kind: 'Core#ProjectRequest', key })),
      definitions: {
        requests: [request('r1', 'run-pem'), request('r2', 'embedded'), request('r3', 'run-pem')],
        environments: [{ kind: 'Core#Environment', key: 'e1', info: { name: 'local' }, server: { uri: target.url }, variables: [] }],
        certificates: [p12Certificate('embedded')],
      },
    };
    assert.equal((await storeFile(team.alice, 'tls-project', 'Core#HttpProject', project)).status, 201);
    const response = await team.store.api('/proxy', { method: 'POST', token: team.alice.token, body: { kind: 'Core#HttpProject', pid: 'tls-project', history: false, options: { environment: 'local' } } });
    const lines = (await response.text()).trim().split('\n').map((line) => JSON.parse(line) as Json);
    assert.deepEqual(lines.map((line) => line.result?.response?.status ?? line.result?.error?.code ?? line.type), [200, 200, 200, 'summary']);
  });
});
