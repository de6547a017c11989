import type { WebSocket } from 'ws';
import type { Logger } from '../logger.js';
import type { Change } from '../store/changes.js';
import { StoreUnavailableError } from '../store/open-errors.js';
import type { Store } from '../store/store.js';
import { Connection } from './connection.js';
import { eventFrame, visibleTo, type CanRead } from './delivery.js';

/** How long a delivery waits before trying again while the shared database is out of reach. */
const UNAVAILABLE_RETRY_MS = 250;

export interface EventHubOptions {
  canRead: CanRead;
  /** A socket whose unsent data exceeds this is closed with 1013 (it resumes with `since`). */
  maxBufferedBytes: number;
  /** Every interval each socket is pinged; one that has not answered the previous ping is dropped. */
  heartbeatMs: number;
  /** Sockets beyond these are closed with 1013 as soon as they open. */
  maxSocketsPerUser: number;
  maxSockets: number;
  /** A `since` replay reads at most this many feed entries; an older `since` must resync. */
  maxReplayEntries: number;
  log: Logger;
}

/**
 * Delivers committed changes to the event sockets of every listener. Changes are delivered one
 * at a time in seq order; each one's visibility is decided once per user at that moment, and its
 * frame is serialized and encoded once for all sockets. A slow socket is closed rather than
 * waited for, so it never delays the others or the writer.
 */
export class EventHub {
  private readonly connections = new Set<Connection>();
  private readonly queue: Change[] = [];
  private delivering = false;
  private stopped = false;
  private readonly stopListening: () => void;
  private readonly heartbeat: NodeJS.Timeout;
  /** The seq of the latest change whose delivery has started; a path observed now gets the later ones. */
  position: number;
  /** Feed entries read by `since` replays since the store started (what replays cost, for operators and tests). */
  replayedEntries = 0;

  constructor(
    readonly store: Store,
    private readonly options: EventHubOptions,
  ) {
    this.position = store.seq;
    this.stopListening = store.onChanges((changes) => {
      for (const change of changes) this.queue.push(change);
      void this.deliverQueued();
    });
    this.heartbeat = setInterval(() => {
      for (const connection of this.connections) connection.heartbeat();
    }, options.heartbeatMs).unref();
  }

  get log(): Logger {
    return this.options.log;
  }

  get maxBufferedBytes(): number {
    return this.options.maxBufferedBytes;
  }

  get maxReplayEntries(): number {
    return this.options.maxReplayEntries;
  }

  canRead: CanRead = (user, fileKey) => this.options.canRead(user, fileKey);

  /**
   * Starts serving an authenticated socket for `user`, or closes it with 1013 when the user or
   * the store has as many sockets as allowed. The count is taken when the socket opens, so it is
   * exact whatever happens to upgrades on their way.
   */
  connect(socket: WebSocket, user: string, stillSignedIn: () => Promise<boolean>): Connection | undefined {
    if (this.connections.size >= this.options.maxSockets) {
      socket.close(1013, 'The store has too many event sockets open: try again later.');
      return undefined;
    }
    if (this.socketsOf(user) >= this.options.maxSocketsPerUser) {
      socket.close(1013, `You have ${this.options.maxSocketsPerUser} event sockets open: close one first.`);
      return undefined;
    }
    const connection = new Connection(socket, user, stillSignedIn, this);
    this.connections.add(connection);
    return connection;
  }

  /** How many event sockets `user` has open. */
  socketsOf(user: string): number {
    let count = 0;
    for (const connection of this.connections) if (connection.user === user) count += 1;
    return count;
  }

  forget(connection: Connection): void {
    this.connections.delete(connection);
  }

  /** Stops delivering; the listeners close the sockets themselves. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.heartbeat);
    this.stopListening();
  }

  private async deliverQueued(): Promise<void> {
    if (this.delivering) return;
    this.delivering = true;
    try {
      for (let change = this.queue.shift(); change; change = this.queue.shift()) {
        try {
          await this.deliver(change);
        } catch (error) {
          // The shared database out of reach: the same change again once it is back, so that
          // no socket misses it and the ones after it stay in order.
          if (error instanceof StoreUnavailableError && !this.stopped) {
            this.queue.unshift(change);
            await new Promise((resolve) => setTimeout(resolve, UNAVAILABLE_RETRY_MS));
            continue;
          }
          this.log.error('event delivery failed', { seq: change.seq, error: String(error) });
        }
      }
    } finally {
      this.delivering = false;
    }
  }

  private async deliver(change: Change): Promise<void> {
    this.position = change.seq;
    const targets = [...this.connections].filter((connection) => connection.observes(change));
    if (targets.length === 0) return;
    const users = [...new Set(targets.map((connection) => connection.user))];
    const access = await Promise.all(users.map((user) => visibleTo(user, change, this.options.canRead)));
    const readers = new Set(users.filter((_, index) => access[index]));
    const frame = Buffer.from(JSON.stringify(eventFrame(change)));
    for (const connection of targets) if (readers.has(connection.user)) connection.deliver(change, frame);
  }
}
