import { X509Certificate } from 'node:crypto';
import { createServer as createHttpsServer } from 'node:https';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import { readPrivateFile, writePrivateFile } from '../data-dir.js';
import { listen, type Listening } from '../http/listen.js';

export interface Certificate {
  key: string;
  cert: string;
  /** SHA-256 of the DER certificate, `AB:CD:…` as browsers and Node show it: users pin it. */
  fingerprint: string;
}

const keyFile = 'lan-key.pem';
const certFile = 'lan-cert.pem';
const tenYears = 10 * 365 * 24 * 60 * 60 * 1000;

function withFingerprint(key: string, cert: string): Certificate {
  return { key, cert, fingerprint: new X509Certificate(cert).fingerprint256 };
}

/**
 * The listener's self-signed certificate: generated on first use and kept in the data dir (0600,
 * and refused when another user could have planted it: a planted key impersonates the listener),
 * so its fingerprint stays the same across restarts and teammates pin it once.
 */
export async function loadCertificate(dataDir: string): Promise<Certificate> {
  try {
    const [key, cert] = await Promise.all([readPrivateFile(join(dataDir, keyFile)), readPrivateFile(join(dataDir, certFile))]);
    return withFingerprint(key, cert);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  // selfsigned (and its X.509 stack) is loaded only the first time a certificate is made.
  const { generate } = await import('./selfsigned.js');
  const now = Date.now();
  const generated = await generate([{ name: 'commonName', value: `api-store on ${hostname()}` }], {
    keyType: 'ec',
    curve: 'P-256',
    notBeforeDate: new Date(now - 60_000),
    notAfterDate: new Date(now + tenYears),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: hostname() }, { type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  });
  await writePrivateFile(join(dataDir, keyFile), generated.private);
  await writePrivateFile(join(dataDir, certFile), generated.cert);
  return withFingerprint(generated.private, generated.cert);
}

/** Serves an app over HTTPS with the given certificate. */
export function listenTls(app: Parameters<typeof listen>[0], host: string, port: number, certificate: Certificate): Promise<Listening> {
  const httpsServer: typeof createAdaptorServer = (options) =>
    createAdaptorServer({ ...options, createServer: createHttpsServer, serverOptions: { key: certificate.key, cert: certificate.cert } });
  return listen(app, host, port, httpsServer);
}
