import { request, type IncomingHttpHeaders } from 'node:http';
import { connect, type TLSSocket } from 'node:tls';

export interface PinnedResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: any;
}

/**
 * An HTTPS request the way a teammate's app makes it to a self-signed store: the TLS handshake
 * first, then the request only if the certificate's SHA-256 fingerprint is the pinned one.
 */
export async function pinnedFetch(
  url: string,
  fingerprint: string,
  init: { method?: string; token?: string; body?: unknown } = {},
): Promise<PinnedResponse> {
  const target = new URL(url);
  const socket = await new Promise<TLSSocket>((resolve, reject) => {
    const tls = connect({ host: target.hostname, port: Number(target.port), rejectUnauthorized: false });
    tls.once('secureConnect', () => resolve(tls));
    tls.once('error', reject);
  });
  const presented = socket.getPeerCertificate().fingerprint256;
  if (presented !== fingerprint) {
    socket.destroy();
    throw new Error(`certificate fingerprint ${presented} does not match the pin`);
  }
  const body = init.body === undefined ? undefined : JSON.stringify(init.body);
  const headers: Record<string, string> = {};
  if (init.token) headers.Authorization = `Bearer ${init.token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return new Promise((resolve, reject) => {
    // Plain `http.request` over the already verified TLS socket: no agent, no second handshake.
    const path = target.pathname + target.search;
    const req = request({ host: target.hostname, port: target.port, path, method: init.method ?? 'GET', headers, createConnection: () => socket }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        socket.destroy();
        resolve({ status: res.statusCode!, headers: res.headers, body: text && /json/.test(res.headers['content-type'] ?? '') ? JSON.parse(text) : text });
      });
    });
    req.once('error', reject);
    req.end(body);
  });
}
