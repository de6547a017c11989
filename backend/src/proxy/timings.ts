import { subscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { buildConnector } from 'undici';

/**
 * When each phase of one request (one redirect hop) ended, in `performance.now()` milliseconds.
 * The connection milestones come from the socket's own events, the request milestones from
 * undici's diagnostics channels: nothing here is estimated.
 */
export interface HopClock {
  start: number;
  connectStart?: number;
  dnsEnd?: number;
  connectEnd?: number;
  tlsEnd?: number;
  headersSent?: number;
  bodySent?: number;
  firstByte?: number;
  end?: number;
  /** The first error of the hop's new connection: undici may report a TLS alert only as "other side closed". */
  connectionError?: Error;
}

/** HAR-style phase durations in milliseconds (core's request timings); -1 where a phase did not happen, e.g. no DNS for an IP literal or no connect on a reused connection. */
export interface Timings {
  blocked: number;
  dns: number;
  connect: number;
  ssl: number;
  send: number;
  wait: number;
  receive: number;
  total: number;
}

const now = () => performance.now();

/** The clock of the hop being dispatched right now: undici creates its request object synchronously inside `dispatch`. */
let dispatching: HopClock | undefined;
const clocks = new WeakMap<object, HopClock>();

interface RequestMessage {
  request: object;
}

function onRequest(name: string, mark: (clock: HopClock, at: number) => void) {
  subscribe(name, (message) => {
    const clock = clocks.get((message as RequestMessage).request);
    if (clock) mark(clock, now());
  });
}

subscribe('undici:request:create', (message) => {
  if (dispatching) clocks.set((message as RequestMessage).request, dispatching);
});
onRequest('undici:client:sendHeaders', (clock, at) => (clock.headersSent ??= at));
onRequest('undici:request:bodySent', (clock, at) => (clock.bodySent ??= at));
onRequest('undici:request:headers', (clock, at) => (clock.firstByte ??= at));
onRequest('undici:request:trailers', (clock, at) => (clock.end ??= at));

/** Runs `dispatch` (which must create its undici request synchronously) with its request timed on `clock`. */
export function timedDispatch<T>(clock: HopClock, dispatch: () => T): T {
  dispatching = clock;
  try {
    return dispatch();
  } finally {
    dispatching = undefined;
  }
}

/**
 * A connector that records DNS, TCP and TLS milestones of each new connection on the clock
 * of the hop that opened it (`currentClock()`, read when undici connects).
 */
export function timedConnector(options: buildConnector.BuildOptions, currentClock: () => HopClock): buildConnector.connector {
  const connect = buildConnector(options) as unknown as (params: buildConnector.Options, callback: buildConnector.Callback) => Socket;
  return (params, callback) => {
    const clock = currentClock();
    clock.connectStart = now();
    const socket = connect(params, callback);
    // Ahead of undici's own listeners, which start sending at once.
    socket.prependOnceListener('lookup', () => (clock.dnsEnd ??= now()));
    socket.prependOnceListener('connect', () => (clock.connectEnd ??= now()));
    socket.prependOnceListener('secureConnect', () => (clock.tlsEnd ??= now()));
    socket.prependOnceListener('error', (error) => (clock.connectionError ??= error));
  };
}

const span = (from: number | undefined, to: number | undefined) => (from === undefined || to === undefined ? -1 : Math.max(0, to - from));

/** The phases of a hop so far; a hop that failed has -1 for the phases it never reached and its total up to now. */
export function harTimings(clock: HopClock): Timings {
  const end = clock.end ?? now();
  const connectedFrom = clock.dnsEnd ?? clock.connectStart;
  const sent = clock.bodySent ?? clock.headersSent;
  return {
    blocked: span(clock.start, clock.connectStart ?? clock.headersSent),
    dns: span(clock.connectStart, clock.dnsEnd),
    connect: span(connectedFrom, clock.tlsEnd ?? clock.connectEnd),
    ssl: span(clock.connectEnd, clock.tlsEnd),
    send: span(clock.headersSent, sent),
    wait: span(sent, clock.firstByte),
    receive: span(clock.firstByte, clock.firstByte === undefined ? undefined : end),
    total: end - clock.start,
  };
}
