import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { sendShared, sharedFrame } from '../../backend/src/events/frames.js';

/** A real ws server on loopback and one client of it; `received` collects the client's text messages. */
async function pair(serverOptions: { perMessageDeflate: boolean }) {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, ...serverOptions });
  await new Promise((resolve) => server.once('listening', resolve));
  const accepted = new Promise<WebSocket>((resolve) => server.once('connection', resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`, { perMessageDeflate: true });
  const received: string[] = [];
  const waiting: (() => void)[] = [];
  client.on('message', (data, binary) => {
    // Every frame here is text; a binary one shows up as a mismatch in the test's comparison.
    received.push(binary ? `binary: ${String(data)}` : String(data));
    waiting.splice(0).forEach((wake) => wake());
  });
  await new Promise((resolve) => client.once('open', resolve));
  const socket = await accepted;
  const receivedCount = async (count: number) => {
    while (received.length < count) await new Promise<void>((resolve) => waiting.push(resolve));
    return received;
  };
  const close = async () => {
    client.terminate();
    await new Promise((resolve) => server.close(resolve));
  };
  return { socket, client, receivedCount, close };
}

/** Payloads of each length encoding of a frame header: 7-bit, 16-bit and 64-bit. */
const payloads = [JSON.stringify({ seq: 1 }), JSON.stringify({ seq: 2, data: 'x'.repeat(300) }), JSON.stringify({ seq: 3, data: 'y'.repeat(70_000) })];

test('a shared frame reaches every plain socket intact, in order with the frames ws sends itself', async () => {
  const pairs = await Promise.all([pair({ perMessageDeflate: false }), pair({ perMessageDeflate: false })]);
  try {
    const frames = payloads.map((text) => sharedFrame(Buffer.from(text)));
    for (const { socket, client } of pairs) {
      assert.equal(client.extensions, '', 'the client offered permessage-deflate and the server declined it');
      socket.send(JSON.stringify({ type: 'ack', n: 0 }));
      sendShared(socket, frames[0]);
      socket.send(JSON.stringify({ type: 'ack', n: 1 }));
      sendShared(socket, frames[1]);
      // A Blob is read asynchronously: ws queues what follows it, and so must the shared frame.
      socket.send(new Blob([JSON.stringify({ type: 'ack', n: 2 })]), { binary: false });
      sendShared(socket, frames[2]);
      socket.ping();
      socket.send(JSON.stringify({ type: 'ack', n: 3 }));
    }
    const expected = [{ type: 'ack', n: 0 }, { seq: 1 }, { type: 'ack', n: 1 }, { seq: 2 }, { type: 'ack', n: 2 }, { seq: 3 }, { type: 'ack', n: 3 }];
    for (const { receivedCount } of pairs) {
      const received = (await receivedCount(expected.length)).map((text) => JSON.parse(text));
      assert.deepEqual(
        received.map((frame) => ('seq' in frame ? { seq: frame.seq } : frame)),
        expected,
      );
      assert.deepEqual(received.map((frame) => frame.data?.length), [undefined, undefined, undefined, 300, undefined, 70_000, undefined]);
    }
  } finally {
    await Promise.all(pairs.map(({ close }) => close()));
  }
});

test('a socket with permessage-deflate gets the shared frame compressed by ws, behind the frames still being compressed', async () => {
  const { socket, client, receivedCount, close } = await pair({ perMessageDeflate: true });
  try {
    assert.match(client.extensions, /permessage-deflate/);
    socket.send(JSON.stringify({ type: 'ack', n: 0 }));
    for (const text of payloads) sendShared(socket, sharedFrame(Buffer.from(text)));
    socket.send(JSON.stringify({ type: 'ack', n: 1 }));
    assert.deepEqual(await receivedCount(5), [JSON.stringify({ type: 'ack', n: 0 }), ...payloads, JSON.stringify({ type: 'ack', n: 1 })]);
  } finally {
    await close();
  }
});
