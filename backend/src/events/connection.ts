import type { WebSocket } from 'ws';
import { z } from 'zod';
import type { ErrorCode } from '../http/error-codes.js';
import type { Change } from '../store/changes.js';
import { feedFloor, streamChanges } from '../store/change-feed.js';
import { StoreUnavailableError } from '../store/open-errors.js';
import { eventFrame, visibilityFor } from './delivery.js';
import { createFlushes } from './flushes.js';
import { sendShared, tcpOf, type SharedFrame } from './frames.js';
import type { EventHub } from './hub.js';
import { fileKeyOf, isObservablePath } from './paths.js';

const commandSchema = z.object({
  kind: z.literal('Core#BackendCommand').optional(),
  cmd: z.union([z.literal(0), z.literal(1), z.literal('observe'), z.literal('unobserve')]),
  path: z.string().max(2048),
  since: z.number().int().min(0).optional(),
});

const example = '{"kind":"Core#BackendCommand","cmd":0,"path":"/files","since":0}';

/** A socket observes at most this many paths at once, so its bookkeeping stays small. */
const maxObservedPaths = 256;

/** Replays read the feed this many entries at a time, letting other work run between slices. */
const replaySlice = 500;

/** A replay reads on only while the socket has less than this unsent (or half the 1013 limit): it goes at the client's pace. */
const replayHighWaterBytes = 256 * 1024;

/** Every event socket of the process is flushed together (flushes.ts). */
const holdUntilFlush = createFlushes();

/**
 * One event socket of one user: its observed paths, the commands it sends, and what it is sent.
 *
 * Each observed path remembers the seq after which it delivers live changes. A path observed with
 * `since` first replays the feed from storage while live changes for the socket are held back;
 * when the replay has read everything, the held changes it did not already send follow. A change
 * is sent once per socket even when several observed paths match it.
 */
export class Connection {
  private readonly observed = new Map<string, number>();
  private held: { change: Change; frame: SharedFrame }[] | undefined;
  private heldBytes = 0;
  private commands: Promise<void> = Promise.resolve();
  private open = true;
  /** Cleared at each heartbeat, set again by the pong (or any message). */
  private alive = true;

  constructor(
    private readonly socket: WebSocket,
    readonly user: string,
    private readonly stillSignedIn: () => Promise<boolean>,
    private readonly hub: EventHub,
  ) {
    socket.on('pong', () => (this.alive = true));
  }

  /** Commands run one at a time, in the order they arrive. */
  receive(message: unknown): void {
    this.alive = true;
    this.commands = this.commands.then(() =>
      this.run(message).catch((error) => {
        if (error instanceof StoreUnavailableError) return this.error('store_unavailable', 'The database is out of reach; send the command again shortly.');
        this.hub.log.error('event command failed', { error: String(error) });
        this.error('internal_error', 'The store failed to handle this command; the log has the details.');
      }),
    );
  }

  /** Whether any observed path is one the change is delivered on. */
  observes(change: Change): boolean {
    return this.open && change.paths.some((path) => this.observed.has(path));
  }

  /** A notice of this socket's user (EventHub.notify), when it observes `path`. */
  notify(path: string, text: string): void {
    if (this.open && this.observed.has(path)) this.send(text);
  }

  /** A live change this user may see; `frame` is its frame, encoded and framed once for every socket. */
  deliver(change: Change, frame: SharedFrame): void {
    if (!this.open) return;
    if (this.held) {
      this.held.push({ change, frame });
      this.heldBytes += frame.text.length;
      if (this.heldBytes > this.hub.maxBufferedBytes) this.fellBehind();
      return;
    }
    if (this.covers(change)) this.send(frame);
  }

  /** Drops a socket that did not answer the last ping, and one whose credential is no longer valid. */
  heartbeat(): void {
    if (!this.alive) {
      this.socket.terminate();
      return;
    }
    this.alive = false;
    this.socket.ping();
    this.stillSignedIn().then(
      (valid) => {
        if (!valid) this.close(1008, 'The credential is no longer valid: sign in again.');
      },
      (error) => this.hub.log.error('event socket credential check failed', { error: String(error) }),
    );
  }

  close(code: number, reason: string): void {
    if (!this.open) return;
    this.closed();
    this.socket.close(code, reason);
  }

  /** 1013: the client resumes with `since` once it reads again; nobody else waits for it. */
  private fellBehind(): void {
    this.close(1013, 'Too far behind: reconnect with since.');
  }

  /** The socket is gone (or going): deliver nothing more. */
  closed(): void {
    this.open = false;
    this.held = undefined;
    this.hub.forget(this);
  }

  private async run(message: unknown): Promise<void> {
    const parsed = typeof message === 'string' ? parseJson(message) : undefined;
    if (parsed === undefined) return this.error('invalid_command', `Commands are JSON text messages such as ${example}.`);
    const command = commandSchema.safeParse(parsed);
    if (!command.success) {
      const issues = command.error.issues.map((issue) => `${issue.path.join('.') || 'command'}: ${issue.message}`).join('; ');
      return this.error('invalid_command', `${issues} (a command looks like ${example}).`);
    }
    const { cmd, path, since } = command.data;
    if (cmd === 1 || cmd === 'unobserve') {
      this.observed.delete(path);
      return this.ack(cmd, path);
    }
    if (!isObservablePath(path)) {
      return this.error('invalid_command', `${path} cannot be observed: use /files, /files/{key}, /history or /app/{appId}/projects|requests.`, path);
    }
    if (!this.observed.has(path) && this.observed.size >= maxObservedPaths) {
      return this.error('invalid_command', `A socket observes at most ${maxObservedPaths} paths: unobserve one first or open another socket.`, path);
    }
    const fileKey = fileKeyOf(path);
    if (fileKey !== undefined && !(await this.hub.canRead(this.user, fileKey))) {
      return this.error('file_not_found', `There is no file ${fileKey} you can read.`, path);
    }
    if (since === undefined) {
      this.observed.set(path, this.hub.position);
      return this.ack(cmd, path);
    }
    if (since > this.hub.store.seq) {
      return this.error('resync_required', `This store has no change ${since}: it was reset or is another store. Read the current state again.`, path);
    }
    if (since < (await feedFloor(this.hub.store.storage))) {
      return this.error('resync_required', `The change feed no longer holds the changes after ${since}: read the current state again, then observe without since.`, path);
    }
    // Changes after `until` reach this socket live (held until the replay ends), so the replay
    // reads a known number of entries, whoever can see them: too many, and it does not start.
    // (`since` may be ahead of the hub: GET /changes reads committed changes not delivered yet.)
    const until = Math.max(this.hub.position, since);
    if (until - since > this.hub.maxReplayEntries) {
      return this.error(
        'resync_required',
        `More than ${this.hub.maxReplayEntries} changes happened after ${since}: read the current state again (or page through GET /changes), then observe without since.`,
        path,
      );
    }
    this.ack(cmd, path);
    await this.replay(path, since, until);
  }

  /**
   * Sends the changes in (since, until] on `path` that the user may see. The feed is read in
   * slices with a turn of the event loop between them, one entry at a time, and no faster than
   * the socket drains, so a replay neither holds up other requests nor buffers the feed.
   */
  private async replay(path: string, since: number, until: number): Promise<void> {
    this.observed.set(path, since);
    this.held = [];
    this.heldBytes = 0;
    try {
      let after = since;
      while (after < until) {
        const visible = visibilityFor(this.user, this.hub.canRead);
        const sliceStart = after;
        for await (const [, change] of streamChanges(this.hub.store.storage, after, { until, limit: replaySlice })) {
          if (!this.open) return;
          this.hub.replayedEntries += 1;
          // The feed has no gaps but the one compaction leaves below its floor.
          if (change.seq !== after + 1) break;
          after = change.seq;
          if (change.paths.includes(path) && !this.covers(change, path) && (await visible(change))) {
            await this.sendPaced(JSON.stringify(eventFrame(change)));
          }
        }
        if (!this.open) return;
        if (after === sliceStart) {
          this.observed.delete(path);
          return this.error('resync_required', 'The change feed was compacted during the replay: read the current state again.', path);
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
      this.observed.set(path, until);
      // Marks the end of the replay: what follows on this path is live.
      this.send(JSON.stringify({ type: 'replayed', path, seq: until }));
    } finally {
      this.release();
    }
  }

  /** Sends the live changes held during a replay that no observed path has delivered yet. */
  private release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const { change, frame } of held) if (this.covers(change)) this.send(frame);
  }

  /** Whether an observed path (other than `except`) delivers this change live. */
  private covers(change: Change, except?: string): boolean {
    for (const [path, from] of this.observed) {
      if (path !== except && change.seq > from && change.paths.includes(path)) return true;
    }
    return false;
  }

  /** Frames are always text frames: a command's answer as a string, a live change framed once for all sockets. */
  private send(data: string | SharedFrame, done?: (error?: Error) => void): void {
    if (!this.open) return done?.();
    const tcp = tcpOf(this.socket);
    if (tcp) holdUntilFlush(tcp);
    if (typeof data === 'string') this.socket.send(data, { binary: false }, done);
    else sendShared(this.socket, data);
    if (this.socket.bufferedAmount > this.hub.maxBufferedBytes) this.fellBehind();
  }

  /** Sends a frame; when the socket has much unsent, waits until that frame is handed to the network. */
  private sendPaced(text: string): Promise<void> {
    return new Promise((resolve) => {
      this.send(text, () => resolve());
      if (this.socket.bufferedAmount <= Math.min(replayHighWaterBytes, this.hub.maxBufferedBytes / 2)) resolve();
    });
  }

  private ack(cmd: z.infer<typeof commandSchema>['cmd'], path: string): void {
    this.send(JSON.stringify({ type: 'ack', cmd, path }));
  }

  private error(code: ErrorCode, message: string, path?: string): void {
    this.send(JSON.stringify({ type: 'error', code, message, ...(path !== undefined && { path }) }));
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
