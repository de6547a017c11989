import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';

/** Servers on 127.0.0.1 for the proxy's tests: each answers what the request asks for by its path. */

export interface Listening {
  server: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

async function listen(server: Server, scheme: 'http' | 'https', host = '127.0.0.1'): Promise<Listening> {
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    url: `${scheme}://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * `/echo` answers the method, path, headers and body as JSON; `/binary` three non-UTF-8 bytes;
 * `/big` 5,000 bytes; `/redirect?status=&to=` a redirect; `/hang` never answers; `/hold` answers when released.
 */
function route(request: IncomingMessage, response: ServerResponse, body: Buffer, held: ServerResponse[]) {
  const url = new URL(request.url ?? '/', 'http://target');
  if (url.pathname === '/hang') return;
  if (url.pathname === '/hold') return held.push(response);
  if (url.pathname === '/binary') return response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.from([0xff, 0x00, 0xfe]));
  if (url.pathname === '/big') return response.writeHead(200).end('x'.repeat(5000));
  if (url.pathname === '/redirect') return response.writeHead(Number(url.searchParams.get('status') ?? 302), { location: url.searchParams.get('to') ?? '/echo' }).end('moved');
  response.writeHead(200, { 'content-type': 'application/json', 'x-served': 'yes' });
  response.end(JSON.stringify({ method: request.method, path: request.url, headers: request.headers, body: body.toString('base64') }));
}

function handler(received: string[], held: ServerResponse[] = []) {
  return (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push(`${request.method} ${request.url}`);
      route(request, response, Buffer.concat(chunks), held);
    });
  };
}

/** An HTTP target on `host`, a loopback address (Linux answers on all of 127.0.0.0/8). */
export async function startHttpTarget(host = '127.0.0.1'): Promise<Listening & { received: string[]; release(): void }> {
  const received: string[] = [];
  const held: ServerResponse[] = [];
  const release = () => held.splice(0).forEach((response) => response.end('released'));
  return { ...(await listen(createHttpServer(handler(received, held)), 'http', host)), received, release };
}

export interface Pki {
  /** The self-signed server certificate (also the CA of the client certificate), for 127.0.0.1. */
  cert: string;
  key: string;
  clientCert: string;
  clientKey: string;
}

export async function generatePki(): Promise<Pki> {
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', keyCertSign: true, digitalSignature: true, keyEncipherment: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
    ],
    clientCertificate: { cn: 'test client', algorithm: 'sha256' },
  });
  return { cert: pems.cert, key: pems.private, clientCert: pems.clientcert as string, clientKey: pems.clientprivate as string };
}

/**
 * An HTTPS target with the self-signed certificate; with `requireClientCertificate`, only clients
 * with a certificate it issued get through the handshake. `received` lists the requests served.
 */
export async function startHttpsTarget(pki: Pki, requireClientCertificate = false): Promise<Listening & { received: string[] }> {
  const received: string[] = [];
  const server = createHttpsServer(
    { cert: pki.cert, key: pki.key, ...(requireClientCertificate ? { requestCert: true, rejectUnauthorized: true, ca: pki.cert } : {}) },
    handler(received),
  );
  return { ...(await listen(server as unknown as Server, 'https')), received };
}

/** A forward proxy that tunnels CONNECT requests, and counts them. */
export async function startTunnelProxy(): Promise<Listening & { tunnels: string[] }> {
  const tunnels: string[] = [];
  const server = createHttpServer((_request, response) => response.writeHead(405).end());
  server.on('connect', (request: IncomingMessage, client, head: Buffer) => {
    tunnels.push(request.url ?? '');
    const [host, port] = (request.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  return { ...(await listen(server, 'http')), tunnels };
}

/** A port on 127.0.0.1 nothing listens on. */
export async function closedPort(): Promise<number> {
  const { port, close } = await listen(createHttpServer(), 'http');
  await close();
  return port;
}

/** The client certificate as PKCS#12, made by `openssl pkcs12 -export` (the passphrase goes through stdin). */
export function pkcs12Of(pki: Pki, passphrase: string): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'proxy-p12-'));
  try {
    writeFileSync(join(dir, 'cert.pem'), pki.clientCert);
    writeFileSync(join(dir, 'key.pem'), pki.clientKey);
    const out = join(dir, 'client.p12');
    const run = spawnSync('openssl', ['pkcs12', '-export', '-in', join(dir, 'cert.pem'), '-inkey', join(dir, 'key.pem'), '-out', out, '-passout', 'stdin'], { input: `${passphrase}\n` });
    if (run.status !== 0) throw new Error(`openssl pkcs12 failed: ${run.stderr.toString()}`);
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
