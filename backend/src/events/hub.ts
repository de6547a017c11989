import type { WebSocket } from 'ws';
import type { Logger } from '../logger.js';
import type { Change } from '../store/changes.js';
import { StoreUnavailableError } from '../store/open-errors.js';
import type { Store } from '../store/store.js';
import { Connection } from './connection.js';
import { eventFrame, visibleTo, type CanRead } from './delivery.js';
import { sharedFrame, type SharedFrame } from './frames.js';

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
  /**
   * When more committed changes than this wait for delivery (the store writes faster than the
   * hub delivers), every observer is closed with 1013 and the queue dropped: they resume with
   * `since` from the feed, and the hub's memory and latency stay bounded.
   */
  maxQueuedChanges: number;
  log: Logger;
}

/** Whether each user observing a change may see it: decided once per change and user, possibly still being read. */
type Readers = Map<string, Promise<boolean> | boolean>;

/**
 * Delivers committed changes to the event sockets of every listener. Changes are delivered in
 * seq order; each one's visibility is decided once per user, and its frame is serialized,
 * encoded and framed once for all sockets (frames.ts). Visibility reads start as soon as a change is committed, so the
 * reads of consecutive changes overlap instead of running one after another. A slow socket is
 * closed rather than waited for, so it never delays the others or the writer.
 */
export class EventHub {
  private readonly connections = new Set<Connection>();
  private readonly queue: { change: Change; readers: Readers }[] = [];
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
      for (const change of changes) this.queue.push({ change, readers: this.readersOf(change, new Map()) });
      if (this.queue.length > options.maxQueuedChanges) this.overloaded();
      else void this.deliverQueued();
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

  /**
   * A notice that is not a change (an import's progress): sent now to `user`'s own sockets that
   * observe `path`, never stored or replayed.
   */
  notify(user: string, path: string, frame: Record<string, unknown>): void {
    const text = JSON.stringify({ ...frame, path });
    for (const connection of this.connections) if (connection.user === user) connection.notify(path, text);
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
      for (let next = this.queue.shift(); next; next = this.queue.shift()) {
        try {
          await this.deliver(next.change, next.readers);
        } catch (error) {
          // The shared database out of reach: the same change again once it is back (its readers
          // decided anew), so that no socket misses it and the ones after it stay in order.
          if (error instanceof StoreUnavailableError && !this.stopped) {
            this.queue.unshift({ change: next.change, readers: this.readersOf(next.change, new Map()) });
            await new Promise((resolve) => setTimeout(resolve, UNAVAILABLE_RETRY_MS));
            continue;
          }
          this.log.error('event delivery failed', { seq: next.change.seq, error: String(error) });
        }
      }
    } finally {
      this.delivering = false;
    }
  }

  /**
   * Starts deciding, for each user with a socket observing one of the change's paths, whether
   * that user may see it (`readers` holds the users already decided).
   */
  private readersOf(change: Change, readers: Readers): Readers {
    for (const connection of this.connections) {
      if (readers.has(connection.user) || !connection.observes(change)) continue;
      const visible = visibleTo(connection.user, change, this.options.canRead);
      if (typeof visible === 'boolean') {
        readers.set(connection.user, visible);
        continue;
      }
      const checked = visible.catch((error) => {
        // The shared database out of reach is not "cannot read": `deliver` rethrows it, and the
        // change is delivered again once the database is back (see `deliverQueued`).
        if (error instanceof StoreUnavailableError) throw error;
        this.log.error('event visibility check failed', { seq: change.seq, error: String(error) });
        return false;
      });
      // `deliver` awaits it later; until then its rejection must not count as unhandled.
      checked.catch(() => {});
      readers.set(connection.user, checked);
    }
    return readers;
  }

  private async deliver(change: Change, readers: Readers): Promise<void> {
    this.position = change.seq;
    // A socket may have started observing since the change was queued.
    this.readersOf(change, readers);
    if (readers.size === 0) return;
    for (const [user, visible] of readers) if (typeof visible !== 'boolean') readers.set(user, await visible);
    let frame: SharedFrame | undefined;
    for (const connection of this.connections) {
      if (readers.get(connection.user) !== true || !connection.observes(change)) continue;
      frame ??= sharedFrame(Buffer.from(JSON.stringify(eventFrame(change))));
      connection.deliver(change, frame);
    }
  }

  /** The store is writing faster than the hub delivers: observers resume from the feed instead. */
  private overloaded(): void {
    const dropped = this.queue.splice(0);
    this.position = dropped[dropped.length - 1].change.seq;
    this.log.warn('event delivery fell behind the store: observers closed with 1013', { dropped: dropped.length });
    for (const connection of this.connections) {
      if (dropped.some(({ change }) => connection.observes(change))) connection.close(1013, 'The store is too busy to deliver every change: reconnect with since.');
    }
  }
}
