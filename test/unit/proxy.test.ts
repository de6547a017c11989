import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { prepareRequest } from '../../backend/src/proxy/prepare-request.js';
import { isPublicAddress } from '../../backend/src/proxy/public-address.js';
import { ProxyRequestBody } from '../../backend/src/proxy/request-schema.js';
import { ProxyFailure } from '../../backend/src/proxy/failure.js';
import { createRequestSender, type Lookup, type ProxyResult, type SenderOptions } from '../../backend/src/proxy/send-request.js';
import type { Timings } from '../../backend/src/proxy/timings.js';
import {
  closedPort,
  generatePki,
  pkcs12Of,
  startHttpsTarget,
  startHttpTarget,
  startTunnelProxy,
  type Listening,
  type Pki,
} from '../helpers/proxy-targets.js';

/** A stand-in resolver: every name resolves to the given address, and the names asked are kept. */
function fixedLookup(address: string, asked: string[] = []): Lookup {
  return ((hostname: string, _options: unknown, callback: (e: null, a: { address: string; family: number }[]) => void) => {
    asked.push(hostname);
    setImmediate(() => callback(null, [{ address, family: address.includes(':') ? 6 : 4 }]));
  }) as unknown as Lookup;
}

const failingLookup = ((hostname: string, _options: unknown, callback: (e: NodeJS.ErrnoException) => void) => {
  callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
}) as unknown as Lookup;

const defaults = { timeoutMs: 10_000, maxRedirects: 5, maxBodyBytes: 1024 * 1024 };

/** Validates `body` as the route does, prepares and sends it. */
async function proxied(body: unknown, sender: Partial<SenderOptions> = {}): Promise<ProxyResult> {
  const prepared = prepareRequest(ProxyRequestBody.parse(body), defaults);
  return createRequestSender({ allowPrivateTargets: true, maxResponseBytes: 1024 * 1024, ...sender })(prepared.request, prepared.settings);
}

const core = (request: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ kind: 'Core#HttpRequest', request, ...extra });
const echoed = (result: ProxyResult) => JSON.parse(result.response?.body ?? 'null') as { method: string; path: string; headers: Record<string, string>; body: string };
const errorCode = (result: ProxyResult) => result.error?.code;

/** Every phase is -1 (did not happen) or non-negative, and the phases fit in the total. */
function assertTimings(timings: Timings, happened: (keyof Timings)[]) {
  for (const phase of happened) assert.ok(timings[phase] >= 0, `${phase} measured: ${JSON.stringify(timings)}`);
  for (const value of Object.values(timings)) assert.ok(value === -1 || value >= 0, JSON.stringify(timings));
  const phases = [timings.blocked, timings.dns, timings.connect, timings.send, timings.wait, timings.receive].filter((value) => value > 0);
  assert.ok(phases.reduce((sum, value) => sum + value, 0) <= timings.total + 0.001, `phases within total: ${JSON.stringify(timings)}`);
}

describe('the request sender', () => {
  let target: Listening & { received: string[] };
  let other: Listening & { received: string[] };
  let pki: Pki;
  let https: Listening;
  let mutualTls: Listening;
  before(async () => {
    target = await startHttpTarget();
    other = await startHttpTarget();
    pki = await generatePki();
    https = await startHttpsTarget(pki);
    mutualTls = await startHttpsTarget(pki, true);
  });
  after(async () => {
    for (const server of [target, other, https, mutualTls]) await server.close();
  });

  test('methods, headers and a text body go out; status, headers and a text body come back', async () => {
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      const body = method === 'GET' ? {} : { payload: `a ${method} body` };
      const result = await proxied(core({ url: `${target.url}/echo?q=1`, method, headers: 'X-Test: yes\nAccept: text/plain', ...body }));
      assert.equal(result.response?.status, 200, method);
      const seen = echoed(result);
      assert.equal(seen.method, method);
      assert.equal(seen.path, '/echo?q=1');
      assert.equal(seen.headers['x-test'], 'yes');
      assert.equal(seen.headers.accept, 'text/plain');
      if (method !== 'GET') assert.equal(Buffer.from(seen.body, 'base64').toString(), `a ${method} body`);
      assert.ok(result.response?.headers.some(([name, value]) => name === 'x-served' && value === 'yes'));
      assert.equal(result.response?.bodyEncoding, 'utf8');
    }
    const simple = await proxied({ url: `${target.url}/echo`, method: 'post', headers: { 'x-app': 'simple' }, body: 'hi' });
    assert.equal(echoed(simple).method, 'POST');
    assert.equal(echoed(simple).headers['x-app'], 'simple');
  });

  test('binary bodies: bytes out (core buffer, blob and the simple base64), non-UTF-8 bytes back as base64', async () => {
    const bytes = [0xff, 0x00, 0x80, 0x41];
    for (const body of [
      core({ url: `${target.url}/echo`, method: 'POST', payload: { type: 'buffer', data: bytes } }),
      core({ url: `${target.url}/echo`, method: 'POST', payload: { type: 'blob', data: `data:application/octet-stream;base64,${Buffer.from(bytes).toString('base64')}` } }),
      { url: `${target.url}/echo`, method: 'POST', body: Buffer.from(bytes).toString('base64'), bodyEncoding: 'base64' },
    ]) {
      assert.deepEqual([...Buffer.from(echoed(await proxied(body)).body, 'base64')], bytes);
    }
    const binary = await proxied(core({ url: `${target.url}/binary` }));
    assert.equal(binary.response?.bodyEncoding, 'base64');
    assert.deepEqual([...Buffer.from(binary.response?.body ?? '', 'base64')], [0xff, 0x00, 0xfe]);
  });

  test('a body over the caller\'s cap comes back truncated with its whole size; over the store\'s limit it is response_too_large', async () => {
    const truncated = await proxied(core({ url: `${target.url}/big` }, { config: { maxBodyBytes: 100 } }));
    assert.equal(truncated.response?.truncated, true);
    assert.equal(truncated.response?.size, 5000);
    assert.equal(truncated.response?.body, 'x'.repeat(100));
    const whole = await proxied(core({ url: `${target.url}/big` }));
    assert.equal(whole.response?.truncated, false);
    const tooLarge = await proxied(core({ url: `${target.url}/big` }), { maxResponseBytes: 1000 });
    assert.equal(errorCode(tooLarge), 'response_too_large');
    assert.equal(tooLarge.response, undefined);
  });

  test('variables in {{name}} and ${name} form fill the URL, the headers and a text body; authorization values too', async () => {
    const result = await proxied(
      core(
        { url: 'http://{{host}}:${port}/echo?id={{ id }}', method: 'POST', headers: 'X-Token: ${token}', payload: '{"name":"{{name}}"}' },
        {
          variables: [
            { name: 'host', value: '127.0.0.1' },
            { name: 'port', value: target.port },
            { name: 'id', value: '7' },
            { name: 'token', value: 't-1' },
            { name: 'name', value: 'rex' },
            { name: 'off', value: 'x', enabled: false },
          ],
          authorization: [{ kind: 'Core#RequestAuthorization', type: 'bearer', enabled: true, valid: true, config: { token: '{{token}}' } }],
        },
      ),
    );
    const seen = echoed(result);
    assert.equal(seen.path, '/echo?id=7');
    assert.equal(seen.headers['x-token'], 't-1');
    assert.equal(seen.headers.authorization, 'Bearer t-1');
    assert.equal(Buffer.from(seen.body, 'base64').toString(), '{"name":"rex"}');
    assert.equal(result.request.url, `${target.url}/echo?id=7`, 'the result shows the request as sent');
  });

  test('an unknown variable is an unknown_variable failure that names it, and nothing is sent', () => {
    const before = target.received.length;
    for (const body of [
      core({ url: `${target.url}/{{missing}}` }),
      core({ url: `${target.url}/echo`, headers: 'X-A: ${missing}' }, { variables: { other: '1' } }),
      core({ url: `${target.url}/echo`, method: 'POST', payload: 'value {{missing}}' }),
      core({ url: `${target.url}/echo` }, { variables: [{ name: 'missing', value: 'x', enabled: false }], authorization: { type: 'basic', config: { username: '{{missing}}' } } }),
    ]) {
      assert.throws(
        () => prepareRequest(ProxyRequestBody.parse(body), defaults),
        (error: unknown) => error instanceof ProxyFailure && error.code === 'unknown_variable' && error.extra.variable === 'missing' && error.message.includes('missing'),
      );
    }
    assert.equal(target.received.length, before);
  });

  test('basic and API key authorization; a disabled one of another type is ignored', async () => {
    const result = await proxied(
      core(
        { url: `${target.url}/echo` },
        {
          authorization: [
            { type: 'basic', enabled: true, config: { username: 'ann', password: 'pw' } },
            { type: 'api key', enabled: true, config: { header: { 'x-api-key': 'k1' }, query: { key: 'q1' }, cookie: { session: 's1' } } },
            { type: 'oauth 2', enabled: false, config: { grantType: 'client_credentials' } },
          ],
        },
      ),
    );
    const seen = echoed(result);
    assert.equal(seen.headers.authorization, `Basic ${Buffer.from('ann:pw').toString('base64')}`);
    assert.equal(seen.headers['x-api-key'], 'k1');
    assert.equal(seen.headers.cookie, 'session=s1');
    assert.equal(seen.path, '/echo?key=q1');
    assert.equal(ProxyRequestBody.safeParse(core({ url: target.url }, { authorization: { type: 'oauth 2', enabled: true, config: {} } })).success, false, 'an enabled unsupported type is refused');
  });

  test('redirects are followed and every hop is recorded; the method changes as browsers change it', async () => {
    const chain = `${target.url}/redirect?status=301&to=${encodeURIComponent(`/redirect?status=302&to=${encodeURIComponent(`${other.url}/echo`)}`)}`;
    const followed = await proxied(core({ url: chain, headers: 'Authorization: secret' }));
    assert.equal(followed.response?.status, 200);
    assert.deepEqual(
      followed.redirects.map((hop) => [hop.status, hop.location]),
      [
        [301, `${target.url}/redirect?status=302&to=${encodeURIComponent(`${other.url}/echo`)}`],
        [302, `${other.url}/echo`],
      ],
    );
    for (const hop of followed.redirects) assertTimings(hop.timings, ['send', 'wait', 'total']);
    assert.equal(echoed(followed).headers.authorization, undefined, 'credentials do not follow a redirect to another origin');
    assert.equal(followed.request.url, `${other.url}/echo`);

    const seeOther = await proxied(core({ url: `${target.url}/redirect?status=303&to=/echo`, method: 'POST', payload: 'data', headers: 'Content-Type: text/plain' }));
    assert.equal(echoed(seeOther).method, 'GET');
    assert.equal(echoed(seeOther).body, '');
    const temporary = await proxied(core({ url: `${target.url}/redirect?status=307&to=/echo`, method: 'POST', payload: 'data' }));
    assert.equal(echoed(temporary).method, 'POST');
    assert.equal(Buffer.from(echoed(temporary).body, 'base64').toString(), 'data');

    const notFollowed = await proxied(core({ url: `${target.url}/redirect?status=302&to=/echo` }, { config: { followRedirects: false } }));
    assert.equal(notFollowed.response?.status, 302);
    assert.equal(notFollowed.redirects.length, 0);
  });

  test('a redirect to another scheme ends the chain with that response', async () => {
    const result = await proxied(core({ url: `${target.url}/redirect?status=302&to=${encodeURIComponent('file:///etc/passwd')}` }));
    assert.equal(result.response?.status, 302);
    assert.equal(result.response?.body, 'moved');
    assert.equal(result.redirects.length, 0);
  });

  test('more redirects than the limit is too_many_redirects, with the hops so far', async () => {
    const loop = `${target.url}/redirect?status=302&to=${encodeURIComponent('/redirect?status=302&to=/redirect')}`;
    const result = await proxied(core({ url: loop }, { config: { maxRedirects: 2 } }));
    assert.equal(errorCode(result), 'too_many_redirects');
    assert.equal(result.redirects.length, 3);
    assert.ok(result.error?.timings.total !== undefined);
  });

  test('a name that does not resolve is dns_failure, through the injected resolver', async () => {
    const result = await proxied(core({ url: 'http://nowhere.invalid.test/' }), { lookup: failingLookup });
    assert.equal(errorCode(result), 'dns_failure');
    assert.match(result.error?.message ?? '', /nowhere\.invalid\.test/);
  });

  test('a closed port is connection_refused, with the timings so far', async () => {
    const result = await proxied(core({ url: `http://127.0.0.1:${await closedPort()}/` }));
    assert.equal(errorCode(result), 'connection_refused');
    assert.equal(result.error?.timings.wait, -1);
    assert.ok((result.error?.timings.total ?? -1) >= 0);
  });

  test('a target that never answers is timeout', async () => {
    const result = await proxied(core({ url: `${target.url}/hang` }, { config: { timeout: 300 } }));
    assert.equal(errorCode(result), 'timeout');
    assert.ok((result.error?.timings.connect ?? -1) >= 0, 'the connection was made before the wait');
  });

  test('TLS: a self-signed target is tls_error with validation on, answers with it off or with its CA given', async () => {
    const refused = await proxied(core({ url: `${https.url}/echo` }));
    assert.equal(errorCode(refused), 'tls_error');
    const unvalidated = await proxied(core({ url: `${https.url}/echo` }, { config: { validateCertificates: false } }));
    assert.equal(unvalidated.response?.status, 200);
    assertTimings(unvalidated.response!.timings, ['connect', 'ssl', 'send', 'wait', 'receive']);
    assert.equal(unvalidated.response?.timings.dns, -1, 'an IP literal needs no DNS');
    const trusted = await proxied(core({ url: `${https.url}/echo` }, { config: { ca: pki.cert } }));
    assert.equal(trusted.response?.status, 200);
  });

  test('a target that requires a client certificate: refused without one, served with PEM and with PKCS#12', async () => {
    const config = { ca: pki.cert };
    const without = await proxied(core({ url: `${mutualTls.url}/echo` }, { config }));
    assert.equal(errorCode(without), 'tls_error');
    const pem = await proxied(
      core(
        { url: `${mutualTls.url}/echo` },
        { config, authorization: { type: 'client certificate', config: { id: 'mine' } }, certificates: [{ kind: 'Core#Certificate', key: 'mine', name: 'pem', type: 'pem', cert: { data: pki.clientCert }, certKey: { data: pki.clientKey } }] },
      ),
    );
    assert.equal(pem.response?.status, 200, JSON.stringify(pem.error));
    const p12 = pkcs12Of(pki, 'p12 secret');
    const pkcs12 = await proxied(
      core({ url: `${mutualTls.url}/echo` }, { config, certificates: [{ kind: 'Core#Certificate', key: 'p', name: 'p12', type: 'p12', cert: { data: p12.toString('base64'), type: 'buffer', passphrase: 'p12 secret' } }] }),
    );
    assert.equal(pkcs12.response?.status, 200, JSON.stringify(pkcs12.error));
  });

  test('timings: every phase measured by a named target, in order within the total', async () => {
    const asked: string[] = [];
    const result = await proxied(core({ url: `http://api.example.test:${target.port}/echo`, method: 'POST', payload: 'x'.repeat(10_000) }), { lookup: fixedLookup('127.0.0.1', asked) });
    assert.deepEqual(asked, ['api.example.test']);
    assertTimings(result.response!.timings, ['blocked', 'dns', 'connect', 'send', 'wait', 'receive', 'total']);
    assert.equal(result.response?.timings.ssl, -1, 'no TLS on http');
    assert.ok(result.total >= result.response!.timings.total);
  });

  test('through an HTTP proxy', async () => {
    const tunnel = await startTunnelProxy();
    try {
      const result = await proxied(core({ url: `${target.url}/echo` }, { config: { proxy: tunnel.url } }));
      assert.equal(result.response?.status, 200, JSON.stringify(result.error));
      assert.deepEqual(tunnel.tunnels, [`127.0.0.1:${target.port}`]);
    } finally {
      await tunnel.close();
    }
  });

  describe('for a teammate (no private targets)', () => {
    test('loopback literals and names resolving to private addresses are target_forbidden; literals never reach the resolver', async () => {
      const asked: string[] = [];
      for (const host of ['127.0.0.1', '[::1]', '[::127.0.0.1]', '[::ffff:127.0.0.1]', '[64:ff9b::127.0.0.1]', '[2002:7f00:1::]', '[::]', '0.0.0.0', 'service.internal.test']) {
        const result = await proxied(core({ url: `http://${host}:${target.port}/` }), { allowPrivateTargets: false, lookup: fixedLookup('::ffff:7f00:1', asked) });
        assert.equal(errorCode(result), 'target_forbidden', host);
      }
      assert.deepEqual(asked, ['service.internal.test']);
      assert.equal(target.received.filter((line) => line === 'GET /').length, 0);
    });

    test('an HTTP proxy on a forbidden address is target_forbidden, by literal and by name', async () => {
      const tunnel = await startTunnelProxy();
      try {
        for (const proxy of [tunnel.url, `http://proxy.internal.test:${tunnel.port}`]) {
          const result = await proxied(core({ url: 'http://93.184.216.34/' }, { config: { proxy } }), { allowPrivateTargets: false, lookup: fixedLookup('127.0.0.1') });
          assert.equal(errorCode(result), 'target_forbidden', proxy);
        }
        assert.deepEqual(tunnel.tunnels, [], 'the proxy was never asked');
      } finally {
        await tunnel.close();
      }
    });

    test('a redirect into a forbidden address is refused at connect time, by literal and by name', async () => {
      // Only the first target's address counts as public here, so its redirect into another loopback address is the attack.
      const sender = { allowPrivateTargets: false, isPublic: (address: string) => address === '127.0.0.1', lookup: fixedLookup('127.0.0.2') };
      const internal = await startHttpTarget('127.0.0.2');
      try {
        for (const to of [`${internal.url}/echo`, `http://internal.test:${internal.port}/echo`]) {
          const result = await proxied(core({ url: `${target.url}/redirect?status=302&to=${encodeURIComponent(to)}` }), sender);
          assert.equal(errorCode(result), 'target_forbidden', to);
          assert.equal(result.redirects.length, 1);
        }
        assert.deepEqual(internal.received, [], 'the internal service received nothing');
      } finally {
        await internal.close();
      }
    });
  });
});

test('public and non-public addresses', () => {
  for (const a of ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.0.1', '::1', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '0.0.0.0', '224.0.0.251']) {
    assert.equal(isPublicAddress(a), false, a);
  }
  for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700::1111']) assert.equal(isPublicAddress(a), true, a);
});

test('IPv6 forms that carry a private IPv4 address are non-public, in dotted and in hex notation', () => {
  const nonPublic = [
    '::', // unspecified, as URLs write [::]
    '::127.0.0.1', // IPv4-compatible
    '::7f00:1', // the same, as the URL parser normalizes it
    '::a00:1',
    '::ffff:7f00:1', // IPv4-mapped in hex, as URLs normalize [::ffff:127.0.0.1]
    '::ffff:a9fe:a9fe', // mapped 169.254.169.254 (cloud metadata)
    '::ffff:0:127.0.0.1', // IPv4-translated
    '64:ff9b::127.0.0.1', // NAT64
    '64:ff9b::a00:1',
    '64:ff9b::c0a8:101',
    '64:ff9b:1::8.8.8.8', // local-use NAT64: private whatever it embeds
    '2002:7f00:1::', // 6to4 of 127.0.0.1
    '2002:c0a8:101::1', // 6to4 of 192.168.1.1
    '2001:0:4136:e378:8000:63bf:3fff:fdd2', // Teredo
    '2001:db8::1',
    'fec0::1',
    '100::1',
    'fe80::1%eth0',
    '198.18.0.1',
    '192.0.2.1',
    '255.255.255.255',
  ];
  for (const a of nonPublic) assert.equal(isPublicAddress(a), false, a);
  // Public IPv4 addresses reached through the same forms stay public.
  for (const a of ['64:ff9b::8.8.8.8', '64:ff9b::808:808', '2002:808:808::1', '::ffff:808:808', '2a00:1450:4001::1']) assert.equal(isPublicAddress(a), true, a);
  for (const a of ['', 'localhost', '1.2.3', '::ffff:1.2.3.4.5']) assert.equal(isPublicAddress(a), false, a);
});
