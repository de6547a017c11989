import type { WebSocket } from 'ws';
import { z } from 'zod';
import type { ErrorCode } from '../http/error-codes.js';
import type { Change } from '../store/changes.js';
import { feedFloor, readChanges } from '../store/change-feed.js';
import { eventFrame, visibilityFor } from './delivery.js';
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

/** Replays read the feed this many changes at a time, waiting for the client between pages. */
const replayPage = 500;

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
  private held: { change: Change; frame: Buffer }[] | undefined;
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
        this.hub.log.error('event command failed', { error: String(error) });
        this.error('internal_error', 'The store failed to handle this command; the log has the details.');
      }),
    );
  }

  /** Whether any observed path is one the change is delivered on. */
  observes(change: Change): boolean {
    return this.open && change.paths.some((path) => this.observed.has(path));
  }

  /** A live change this user may see; `frame` is its UTF-8 JSON, encoded once for every socket. */
  deliver(change: Change, frame: Buffer): void {
    if (!this.open) return;
    if (this.held) {
      this.held.push({ change, frame });
      this.heldBytes += frame.length;
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
    this.ack(cmd, path);
    await this.replay(path, since);
  }

  private async replay(path: string, since: number): Promise<void> {
    this.observed.set(path, since);
    this.held = [];
    this.heldBytes = 0;
    try {
      let after = since;
      for (;;) {
        const page = await readChanges(this.hub.store.storage, after, replayPage);
        if ((await feedFloor(this.hub.store.storage)) > after) {
          this.observed.delete(path);
          return this.error('resync_required', 'The change feed was compacted during the replay: read the current state again.', path);
        }
        const visible = visibilityFor(this.user, this.hub.canRead);
        let sent: Promise<void> | undefined;
        for (const change of page) {
          if (!this.open) return;
          if (change.paths.includes(path) && !this.covers(change, path) && (await visible(change))) {
            sent = this.sendAndWait(JSON.stringify(eventFrame(change)));
          }
        }
        // Pace the replay to what the client reads; a client that stops reading is closed by the held limit.
        await sent;
        if (page.length) after = page[page.length - 1].seq;
        if (page.length < replayPage) break;
      }
      this.observed.set(path, after);
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

  /** Frames are always text frames, whether given as a string or as encoded JSON. */
  private send(data: string | Buffer, done?: (error?: Error) => void): void {
    if (!this.open) return done?.();
    this.socket.send(data, { binary: false }, done);
    if (this.socket.bufferedAmount > this.hub.maxBufferedBytes) this.fellBehind();
  }

  private sendAndWait(text: string): Promise<void> {
    return new Promise((resolve) => this.send(text, () => resolve()));
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
