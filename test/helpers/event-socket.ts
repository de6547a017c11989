import WebSocket from 'ws';

export type Frame = { type: 'event' | 'ack' | 'error' | 'replayed' | 'progress'; [field: string]: unknown };

/**
 * A real WebSocket client of `GET /v1/events` that queues what it receives, so a test reads
 * frames in order with `next()` and waits on events, never on time.
 */
export class EventSocket {
  private readonly frames: Frame[] = [];
  private readonly waiting: { resolve: (frame: Frame) => void; reject: (error: Error) => void }[] = [];
  private ended: { code: number; reason: string } | undefined;
  /** Resolves with the close code and reason once the socket is closed. */
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Frame;
      const waiter = this.waiting.shift();
      if (waiter) waiter.resolve(frame);
      else this.frames.push(frame);
    });
    this.closed = new Promise((resolve) =>
      socket.once('close', (code, reason) => {
        this.ended = { code, reason: String(reason) };
        for (const waiter of this.waiting.splice(0)) waiter.reject(this.endedError());
        resolve(this.ended);
      }),
    );
  }

  /** Opens `<baseUrl>/events?token=` (ws://); rejects with the HTTP status when the upgrade is refused. */
  static open(baseUrl: string, token: string | undefined, headers: Record<string, string> = {}, options: WebSocket.ClientOptions = {}): Promise<EventSocket> {
    const url = `${baseUrl.replace(/^http/, 'ws')}/events${token === undefined ? '' : `?token=${encodeURIComponent(token)}`}`;
    const socket = new WebSocket(url, { ...options, headers });
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new EventSocket(socket)));
      socket.once('unexpected-response', (_request, response) => reject(Object.assign(new Error(`upgrade refused: ${response.statusCode}`), { status: response.statusCode })));
      socket.once('error', reject);
    });
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The next frame; rejects when the socket closes first, so a test fails instead of hanging. */
  next(): Promise<Frame> {
    const frame = this.frames.shift();
    if (frame) return Promise.resolve(frame);
    if (this.ended) return Promise.reject(this.endedError());
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private endedError(): Error {
    return new Error(`the event socket closed (${this.ended?.code} ${this.ended?.reason}) while a frame was awaited`);
  }

  async take(count: number): Promise<Frame[]> {
    const frames: Frame[] = [];
    while (frames.length < count) frames.push(await this.next());
    return frames;
  }

  /** Sends a command and returns its answer (the next frame, an ack or an error). */
  async command(cmd: number | string, path: string, extra: Record<string, unknown> = {}): Promise<Frame> {
    this.send({ kind: 'Core#BackendCommand', cmd, path, ...extra });
    return this.next();
  }

  /** Frames already received and not yet read. */
  get pending(): number {
    return this.frames.length;
  }

  async close(): Promise<void> {
    if (this.socket.readyState !== WebSocket.CLOSED) this.socket.close();
    await this.closed;
  }
}

/** Every page of GET /changes?{query}, following the cursor; `get` fetches a path under the API's prefix. */
export async function readFeed(get: (path: string) => Promise<Response>, query: string): Promise<Frame[]> {
  const items: Frame[] = [];
  let cursor: string | undefined;
  do {
    const response = await get(`/changes?${query}&limit=200${cursor ? `&cursor=${cursor}` : ''}`);
    if (response.status !== 200) throw new Error(`GET /changes?${query} answered ${response.status}`);
    const page = (await response.json()) as { items: Frame[]; cursor?: string };
    items.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return items;
}
