/**
 * The renderer's view of the store: what `window.apiStore` offers and the IPC channels behind it.
 * Shared by main/ (which answers) and preload/ (which asks).
 */
export const channels = {
  getConnection: 'store:get-connection',
  connectionChanged: 'store:connection-changed',
} as const;

export interface LanStatus {
  enabled: boolean;
  /** The address teammates use, while sharing. */
  url?: string;
  /** SHA-256 fingerprint of the LAN certificate, for teammates to check. */
  fingerprint?: string;
  /** Why sharing could not be switched on. */
  error?: string;
}

/** How the renderer reaches the store. `wsUrl` takes the token as `?token=`. */
export interface StoreConnection {
  baseUrl: string;
  wsUrl: string;
  token: string;
  lan: LanStatus;
}

/** `window.apiStore`. A `null` connection means the store is not running (starting, restarting or failed). */
export interface ApiStoreBridge {
  getConnection(): Promise<StoreConnection | null>;
  /** Returns a function that stops listening. */
  onConnectionChanged(listener: (connection: StoreConnection | null) => void): () => void;
}
