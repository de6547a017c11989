import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ApiError } from '../../backend/src/http/problem.js';
import { createRequestSender, isPublicAddress, type Lookup } from '../../backend/src/proxy/send-request.js';

/** A stand-in resolver: every name resolves to the given address, and the names asked are kept. */
function fixedLookup(address: string, asked: string[]): Lookup {
  return ((hostname: string, options: unknown, callback: (e: null, a: { address: string; family: number }[]) => void) => {
    asked.push(hostname);
    callback(null, [{ address, family: address.includes(':') ? 6 : 4 }]);
  }) as unknown as Lookup;
}

describe('the request sender', () => {
  let target: Server;
  let port: number;
  before(async () => {
    target = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        if (req.url === '/binary') return res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.from([0xff, 0x00, 0xfe]));
        if (req.url === '/big') return res.writeHead(200).end('x'.repeat(5000));
        res.writeHead(201, { 'content-type': 'application/json', 'x-echo': req.headers['x-test'] ?? '' }).end(JSON.stringify({ method: req.method, body }));
      });
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    port = (target.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => target.close(() => resolve())));

  test('sends method, headers and body, returns status, headers, text body and timings', async () => {
    const send = createRequestSender({ allowPrivateTargets: true, maxBytes: 1024 });
    const res = await send({ url: `http://127.0.0.1:${port}/echo`, method: 'POST', headers: [['x-test', 'yes']], body: 'hello', bodyEncoding: 'utf8', timeoutMs: 5000 });
    assert.equal(res.status, 201);
    assert.deepEqual(JSON.parse(res.body), { method: 'POST', body: 'hello' });
    assert.ok(res.headers.some(([name, value]) => name === 'x-echo' && value === 'yes'));
    assert.equal(res.bodyEncoding, 'utf8');
    assert.ok(res.timings.total >= res.timings.response && res.timings.response >= 0);
  });

  test('a binary body comes back as base64; a body over the cap is refused', async () => {
    const send = createRequestSender({ allowPrivateTargets: true, maxBytes: 1024 });
    const binary = await send({ url: `http://127.0.0.1:${port}/binary`, method: 'GET', headers: [], bodyEncoding: 'utf8', timeoutMs: 5000 });
    assert.equal(binary.bodyEncoding, 'base64');
    assert.deepEqual([...Buffer.from(binary.body, 'base64')], [0xff, 0x00, 0xfe]);
    await assert.rejects(
      send({ url: `http://127.0.0.1:${port}/big`, method: 'GET', headers: [], bodyEncoding: 'utf8', timeoutMs: 5000 }),
      (e: unknown) => e instanceof ApiError && e.code === 'proxy_failed',
    );
  });

  test('without private targets: loopback literals and names resolving to private addresses are refused', async () => {
    const asked: string[] = [];
    const send = createRequestSender({ allowPrivateTargets: false, maxBytes: 1024, lookup: fixedLookup('127.0.0.1', asked) });
    for (const url of [`http://127.0.0.1:${port}/`, `http://[::1]:${port}/`, `http://service.internal.test:${port}/`]) {
      await assert.rejects(
        send({ url, method: 'GET', headers: [], bodyEncoding: 'utf8', timeoutMs: 5000 }),
        (e: unknown) => e instanceof ApiError && e.code === 'proxy_target_forbidden',
        url,
      );
    }
    assert.deepEqual(asked, ['service.internal.test'], 'the name went to the injected resolver, not to DNS');
  });

  test('a connection failure is a 502 proxy_failed, not a 500', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const send = createRequestSender({ allowPrivateTargets: true, maxBytes: 1024 });
    await assert.rejects(
      send({ url: `http://127.0.0.1:${freePort}/`, method: 'GET', headers: [], bodyEncoding: 'utf8', timeoutMs: 5000 }),
      (e: unknown) => e instanceof ApiError && e.code === 'proxy_failed' && e.status === 502,
    );
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

  test('without private targets: embedded and unspecified literals are refused before any connection', async () => {
    const asked: string[] = [];
    const send = createRequestSender({ allowPrivateTargets: false, maxBytes: 1024, lookup: fixedLookup('::ffff:7f00:1', asked) });
    const literals = ['[::127.0.0.1]', '[::ffff:127.0.0.1]', '[64:ff9b::127.0.0.1]', '[2002:7f00:1::]', '[::]', '0.0.0.0'];
    for (const host of [...literals, 'mapped.internal.test']) {
      await assert.rejects(
        send({ url: `http://${host}:${port}/`, method: 'GET', headers: [], bodyEncoding: 'utf8', timeoutMs: 5000 }),
        (e: unknown) => e instanceof ApiError && e.code === 'proxy_target_forbidden',
        host,
      );
    }
    assert.deepEqual(asked, ['mapped.internal.test'], 'the literals never reached the resolver');
  });
});
