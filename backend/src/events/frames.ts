import type { Duplex } from 'node:stream';
import * as ws from 'ws';
import { WebSocket } from 'ws';

/** ws's own framer (exported by the package, left out of its type definitions). */
const { Sender } = ws as unknown as {
  Sender: { frame(data: Buffer, options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }): Buffer[] };
};

/** The parts of ws's socket that a shared frame is written through (private in its types). */
interface SocketInternals {
  _socket?: Duplex;
  _sender: { _state: number; _queue: unknown[]; _extensions: Record<string, unknown> };
}

/** The TCP stream under an event socket (ws's private `_socket`), undefined once it is gone. */
export const tcpOf = (socket: WebSocket): Duplex | undefined => (socket as unknown as SocketInternals)._socket;

/** ws's Sender state when it is not compressing or reading a Blob. */
const senderIdle = 0;
const textOpcode = 1;

/** An event's text message, framed once for every socket that gets it. */
export interface SharedFrame {
  /** The message's UTF-8 JSON: what ws frames itself when the shared frame cannot be used. */
  readonly text: Buffer;
  /** The whole server-to-client frame (unmasked, uncompressed) as it goes on the wire. */
  readonly wire: Buffer;
}

export function sharedFrame(text: Buffer): SharedFrame {
  return { text, wire: Buffer.concat(Sender.frame(text, { fin: true, opcode: textOpcode, mask: false, readOnly: true, rsv1: false })) };
}

/**
 * Sends a shared frame. When ws would write exactly these bytes now, they go straight to the
 * socket's TCP stream: with 100 observers this replaces 100 framings and 200 stream writes per
 * event with 100 writes of one buffer. That is when the socket is open, negotiated no
 * permessage-deflate (each socket would compress its own copy; the server does not offer it
 * today) and ws holds no frame in its queue (writing past one would reorder the socket's frames).
 * Otherwise ws sends the text. `bufferedAmount` counts the bytes either way: it is the TCP
 * stream's unsent bytes plus ws's queue.
 */
export function sendShared(socket: WebSocket, frame: SharedFrame): void {
  const tcp = tcpOf(socket);
  const sender = (socket as unknown as SocketInternals)._sender;
  const direct =
    tcp !== undefined &&
    socket.readyState === WebSocket.OPEN &&
    sender._state === senderIdle &&
    sender._queue.length === 0 &&
    Object.keys(sender._extensions).length === 0;
  if (direct) tcp.write(frame.wire);
  else socket.send(frame.text, { binary: false });
}
