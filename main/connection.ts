import type { LanStatus, StoreConnection } from '../preload/api.js';

export interface LocalEndpoint {
  host: string;
  port: number;
  prefix: string;
  token: string;
}

/** What the renderer needs to reach the running store on its loopback listener. */
export function storeConnection({ host, port, prefix, token }: LocalEndpoint, lan: LanStatus): StoreConnection {
  const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  return { baseUrl: `http://${authority}${prefix}`, wsUrl: `ws://${authority}${prefix}/events`, token, lan };
}
