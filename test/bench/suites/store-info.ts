import { measure, row, startBenchProcess, tableHeader } from '../load.js';

interface StoreInfo {
  baseUrl: string;
  token: string;
}

/** Authenticated GET /v1/store against the raw node:http baseline serving the same JSON. */
export async function run(): Promise<string> {
  const store = await startBenchProcess<StoreInfo>(new URL('../store-server.ts', import.meta.url));
  const baseline = await startBenchProcess<{ port: number }>(new URL('../baseline-server.ts', import.meta.url));
  try {
    const headers = { Authorization: `Bearer ${store.info.token}` };
    const payload = await (await fetch(`${store.info.baseUrl}/store`, { headers })).json();
    await new Promise((done) => {
      baseline.child.once('message', done);
      baseline.child.send({ type: 'put', key: '/v1/store', value: payload });
    });
    const base = await measure(`http://127.0.0.1:${baseline.info.port}/v1/store`);
    const ours = await measure(`${store.info.baseUrl}/store`, { headers });
    return `### GET /v1/store (authenticated), 50 connections, 5 s\n\n${tableHeader}\n${row('GET /v1/store', ours, base)}\n`;
  } finally {
    await Promise.all([store.stop(), baseline.stop()]);
  }
}
