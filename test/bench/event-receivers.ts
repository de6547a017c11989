/**
 * A share of the events bench's receiving sockets, in its own process, so that parsing 100 ×
 * rate frames a second is spread over several event loops instead of one that falls behind.
 * argv: socket URL, the command each socket sends after opening ('' for none), socket count.
 *
 * Every event carries the id the writer sent, `bench-<step>-<n>-<µs>`, where µs is the writer's
 * `process.hrtime.bigint()` at sending: CLOCK_MONOTONIC, the same clock in every process of the
 * machine, so the latency is taken here without asking the writer. The parent drives steps:
 * `{ type: 'start', step, expected }` resets the count and latencies; `{ type: 'done' }` comes
 * back once `expected` events of that step arrived; `{ type: 'report' }` answers with them.
 */
import WebSocket from 'ws';

const [url, subscribe, count] = process.argv.slice(2);

const sockets = await Promise.all(
  Array.from({ length: Number(count) }, async () => {
    // The frames are the servers' own JSON: checking their UTF-8 would only cost the receiver time.
    const socket = new WebSocket(url, { skipUTF8Validation: true, perMessageDeflate: false });
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    if (subscribe) {
      socket.send(subscribe);
      await new Promise((resolve) => socket.once('message', resolve)); // the ack
    }
    return socket;
  }),
);

let expected = 0;
let latencies: number[] = [];
let stepBytes = Buffer.alloc(0);
const marker = Buffer.from('bench-');
const zero = 0x30;
const dash = 0x2d;

const nowMicros = () => Number(process.hrtime.bigint() / 1000n);

for (const socket of sockets) {
  socket.on('message', (data: Buffer) => {
    const sentMicros = sentAt(data);
    if (sentMicros === undefined) return;
    latencies.push((nowMicros() - sentMicros) / 1000);
    if (latencies.length === expected) process.send!({ type: 'done' });
  });
}

/**
 * The send time in a frame of the current step, read from the bytes (no string, no JSON parse),
 * so that receiving stays light: `bench-<step>-<n>-<µs>`.
 */
function sentAt(data: Buffer): number | undefined {
  const at = data.indexOf(marker);
  if (at < 0 || stepBytes.length === 0 || data.compare(stepBytes, 0, stepBytes.length, at + marker.length, at + marker.length + stepBytes.length) !== 0) return undefined;
  let position = at + marker.length + stepBytes.length;
  if (data[position++] !== dash) return undefined;
  while (data[position] !== dash && position < data.length) position++;
  let micros = 0;
  for (position++; data[position] >= zero && data[position] <= zero + 9; position++) micros = micros * 10 + data[position] - zero;
  return micros;
}

process.on('message', (message: { type: string; step?: string; expected?: number }) => {
  if (message.type === 'start') {
    stepBytes = Buffer.from(message.step!);
    expected = message.expected!;
    latencies = [];
  } else if (message.type === 'report') {
    process.send!({ type: 'report', latencies });
    stepBytes = Buffer.alloc(0);
  }
});

process.on('SIGTERM', () => {
  for (const socket of sockets) socket.terminate();
  process.exit(0);
});

process.send!({ opened: sockets.length });
