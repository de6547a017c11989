import { hostname, networkInterfaces } from 'node:os';
import { listen, type Listening } from '../http/listen.js';
import type { Logger } from '../logger.js';
import type { MdnsResponder } from './mdns.js';
import { listenTls, loadCertificate } from './tls.js';

/** What the parent is told after every toggle (the `lan-status` message). */
export interface LanStatus {
  enabled: boolean;
  url?: string;
  fingerprint?: string;
  error?: string;
}

export interface LanSharing {
  /** Starts (or moves) the LAN listener; a failure is reported in the status, never thrown. */
  enable(address: { host: string; port: number }): Promise<LanStatus>;
  disable(): Promise<LanStatus>;
}

export interface LanSharingOptions {
  /** Builds the LAN listener's app (session authentication, TLS headers) for its own address. */
  createApp(host: string, port: () => number): Parameters<typeof listen>[0];
  dataDir: string;
  prefix: string;
  /** `--insecure-http`: plain HTTP instead of TLS. */
  insecureHttp: boolean;
  responder: MdnsResponder;
  log: Logger;
}

const wildcard = new Set(['0.0.0.0', '::']);

/** The address teammates use: for a wildcard bind, this machine's first LAN IPv4 address. */
function reachableHost(host: string): string {
  if (!wildcard.has(host)) return host.includes(':') ? `[${host}]` : host;
  const lan = Object.values(networkInterfaces())
    .flat()
    .find((address) => address && address.family === 'IPv4' && !address.internal);
  return lan?.address ?? hostname();
}

function describeListenError(error: NodeJS.ErrnoException, host: string, port: number): string {
  if (error.code === 'EADDRINUSE') return `Port ${port} on ${host} is already in use.`;
  if (error.code === 'EACCES') return `Permission denied to listen on ${host}:${port}.`;
  if (error.code === 'EADDRNOTAVAIL') return `The address ${host} is not one of this machine's.`;
  return `The LAN listener could not start: ${error.message}`;
}

/**
 * The runtime LAN sharing switch: a second listener beside the loopback one, which it never
 * touches. Toggles run one at a time, in the order they were asked for.
 */
export function createLanSharing(options: LanSharingOptions): LanSharing {
  let current: { listening: Listening; advert: { stop(): Promise<void> }; host: string; port: number; status: LanStatus } | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  const inOrder = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work);
    queue = run.catch(() => {});
    return run;
  };

  async function stop(): Promise<void> {
    if (!current) return;
    const { listening, advert } = current;
    current = undefined;
    await advert.stop();
    // Connections to the LAN listener end with it; the loopback listener is a different server.
    listening.server.closeAllConnections();
    await listening.close();
    options.log.info('LAN sharing off');
  }

  async function start(host: string, port: number): Promise<LanStatus> {
    if (current && current.host === host && current.port === port) return current.status;
    await stop();
    let listening: Listening | undefined;
    try {
      const certificate = options.insecureHttp ? undefined : await loadCertificate(options.dataDir);
      let lanPort = 0;
      const app = options.createApp(host, () => lanPort);
      listening = certificate ? await listenTls(app, host, port, certificate) : await listen(app, host, port);
      lanPort = listening.port;
      const scheme = certificate ? 'https' : 'http';
      const started: LanStatus = {
        enabled: true,
        url: `${scheme}://${reachableHost(host)}:${lanPort}${options.prefix}`,
        ...(certificate ? { fingerprint: certificate.fingerprint } : {}),
      };
      const advert = options.responder.advertise({
        name: `api-store on ${hostname()}`,
        type: 'api-store',
        port: lanPort,
        // No version: it would tell everyone on the network which release to attack. The
        // fingerprint only helps a client tell stores apart; clients pin the invite's.
        txt: { path: options.prefix, scheme, ...(certificate ? { fingerprint: certificate.fingerprint } : {}) },
      });
      current = { listening, advert, host, port, status: started };
      options.log.info('LAN sharing on', { url: started.url });
      return started;
    } catch (error) {
      await listening?.close();
      const message = describeListenError(error as NodeJS.ErrnoException, host, port);
      options.log.warn('LAN sharing failed', { error: message });
      return { enabled: false, error: message };
    }
  }

  return {
    enable: ({ host, port }) => inOrder(() => start(host, port)),
    disable: () =>
      inOrder(async () => {
        await stop();
        return { enabled: false };
      }),
  };
}
