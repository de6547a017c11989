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
    const socket = new WebSocket(url);
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

let step = '';
let expected = 0;
let latencies: number[] = [];
const idPattern = /bench-([a-z-]+-\d+)-\d+-(\d+)/;

const nowMicros = () => Number(process.hrtime.bigint() / 1000n);

for (const socket of sockets) {
  socket.on('message', (data) => {
    // The id is found by pattern rather than by parsing the JSON, so that receiving stays light.
    const match = idPattern.exec(String(data));
    if (!match || match[1] !== step) return;
    latencies.push((nowMicros() - Number(match[2])) / 1000);
    if (latencies.length === expected) process.send!({ type: 'done' });
  });
}

process.on('message', (message: { type: string; step?: string; expected?: number }) => {
  if (message.type === 'start') {
    step = message.step!;
    expected = message.expected!;
    latencies = [];
  } else if (message.type === 'report') {
    process.send!({ type: 'report', latencies });
    step = '';
  }
});

process.on('SIGTERM', () => {
  for (const socket of sockets) socket.terminate();
  process.exit(0);
});

process.send!({ opened: sockets.length });
