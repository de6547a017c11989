import type { StoreConnection } from '../preload/api.js';
import type { SupervisorState } from './supervisor.js';

/** Where the store's loopback listener is, apart from its port, and the launch token. */
export interface LocalEndpoint {
  host: string;
  prefix: string;
  token: string;
}

/** What the renderer needs to reach the store; `null` while the store is not running. */
export function storeConnection(state: Pick<SupervisorState, 'status' | 'port' | 'lan'>, { host, prefix, token }: LocalEndpoint): StoreConnection | null {
  if (state.status !== 'running' || state.port === undefined) return null;
  const authority = `${host.includes(':') ? `[${host}]` : host}:${state.port}`;
  return { baseUrl: `http://${authority}${prefix}`, wsUrl: `ws://${authority}${prefix}/events`, token, lan: state.lan };
}
