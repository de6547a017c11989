import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { sendShared, sharedFrame } from '../../../backend/src/events/frames.js';
import { startBenchProcess } from '../load.js';

/**
 * Delivery alone: the CPU time a server spends sending one event to 100 sockets, with `ws.send`
 * on each socket (what the baseline does) and with the frame built once and written to each
 * (events/frames.ts, what api-store does). The sockets are corked for a turn of the event loop as
 * api-store's are, with one event or several per turn. The receiving sockets live in another
 * process (event-receivers.ts); only this process's CPU time is counted.
 */
const sockets = 100;
const eventsPerRound = 2000;
const rounds = 4;
const perTurn = [1, 8];

/** An event as api-store sends it for the events bench's PATCH (276 bytes). */
function payload(step: string, n: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      type: 'event', operation: 'patch', kind: 'Core#HttpProject', id: 'f8dc31b6-2a43-4270-8659-7a378950dba6',
      data: { patch: [{ op: 'replace', path: '/info/name', value: `bench-${step}-${n}-0` }], revert: [{ op: 'replace', path: '/info/name', value: 'bench 1' }], version: 232 },
      seq: n + 1,
    }),
  );
}

type Mode = 'ws.send' | 'shared';

function send(mode: Mode, clients: WebSocket[], text: Buffer): void {
  if (mode === 'shared') {
    const frame = sharedFrame(text);
    for (const client of clients) sendShared(client, frame);
  } else {
    for (const client of clients) client.send(text, { binary: false });
  }
}

export async function run(): Promise<string> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  const connected = new Promise<void>((resolve) => server.on('connection', () => server.clients.size === sockets && resolve()));
  const receivers = await startBenchProcess<{ opened: number }>(new URL('../event-receivers.ts', import.meta.url), [`ws://127.0.0.1:${(server.address() as AddressInfo).port}`, '', String(sockets)]);
  await connected;
  const clients = [...server.clients];
  const tcp = clients.map((client) => (client as WebSocket & { _socket: Duplex })._socket);
  let step = 0;

  /** CPU ms per event for one round; waits for the receivers after every 200 events so that nothing piles up. */
  async function round(mode: Mode, eventsPerTurn: number): Promise<number> {
    const stepId = `delivery-${step++}`;
    const before = process.cpuUsage();
    for (let sent = 0; sent < eventsPerRound; ) {
      const chunk = Math.min(200, eventsPerRound - sent);
      const done = new Promise((resolve) => receivers.child.once('message', resolve));
      receivers.child.send({ type: 'start', step: stepId, expected: chunk * sockets });
      for (let n = 0; n < chunk; n += eventsPerTurn) {
        for (const socket of tcp) socket.cork();
        for (let k = 0; k < eventsPerTurn && n + k < chunk; k++) send(mode, clients, payload(stepId, sent + n + k));
        await new Promise((resolve) => setImmediate(resolve));
        for (const socket of tcp) socket.uncork();
      }
      await done;
      const reported = new Promise((resolve) => receivers.child.once('message', resolve));
      receivers.child.send({ type: 'report' });
      await reported;
      sent += chunk;
    }
    const cpu = process.cpuUsage(before);
    return (cpu.user + cpu.system) / 1000 / eventsPerRound;
  }

  try {
    const rows: string[] = [];
    for (const eventsPerTurn of perTurn) {
      const best: Record<Mode, number> = { 'ws.send': Infinity, shared: Infinity };
      await round('ws.send', eventsPerTurn);
      await round('shared', eventsPerTurn);
      for (let r = 0; r < rounds; r++) {
        for (const mode of ['ws.send', 'shared'] as const) best[mode] = Math.min(best[mode], await round(mode, eventsPerTurn));
      }
      rows.push(`| ${eventsPerTurn} | ${best['ws.send'].toFixed(3)} | ${best.shared.toFixed(3)} | ${(best.shared / best['ws.send']).toFixed(2)}x |`);
    }
    return [
      `### Event delivery alone: one event to ${sockets} sockets, CPU time of the sending process (best of ${rounds} × ${eventsPerRound} events)`,
      '',
      '| events per turn | ws.send per socket ms/event | shared frame ms/event | ratio |',
      '|---|---|---|---|',
      ...rows,
      '',
    ].join('\n');
  } finally {
    await receivers.stop();
    for (const client of server.clients) client.terminate();
    await new Promise((resolve) => server.close(resolve));
  }
}
