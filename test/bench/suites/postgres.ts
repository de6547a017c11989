import { startPostgres } from '../../helpers/postgres-server.js';
import { measure, startBenchProcess, type BenchProcess, type LoadResult } from '../load.js';
import { benchProject } from './files.js';

/**
 * The same store on PostgreSQL against LevelDB, in the same run: `GET /v1/files/{key}` and
 * `POST /v1/files` on one LevelDB instance, one PostgreSQL instance, and two PostgreSQL instances
 * sharing one database (the load split evenly between them, the rates added up). The PostgreSQL
 * server is a local one started for the run (initdb in a temp dir, fsync off: like LevelDB's
 * default durability, a commit survives the store's crash, not the machine's).
 */

const SECONDS = 5;
const CONNECTIONS = 10;

interface StoreInfo {
  baseUrl: string;
  token: string;
}

/** A file to read, created through the API. */
async function sampleFile(store: StoreInfo): Promise<string> {
  const response = await fetch(`${store.baseUrl}/files`, { method: 'POST', headers: { Authorization: `Bearer ${store.token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(benchProject(0)) });
  return ((await response.json()) as { key: string }).key;
}

/** The same load on every instance at once (the connections split between them); rates added up. */
async function load(instances: StoreInfo[], keys: string[], method: 'GET' | 'POST'): Promise<LoadResult> {
  const body = JSON.stringify(benchProject(1));
  const results = await Promise.all(
    instances.map((store, i) =>
      measure(method === 'GET' ? `${store.baseUrl}/files/${keys[i]}` : `${store.baseUrl}/files`, {
        method,
        body: method === 'POST' ? body : undefined,
        headers: { Authorization: `Bearer ${store.token}`, ...(method === 'POST' ? { 'Content-Type': 'application/json' } : {}) },
        connections: Math.max(1, Math.round(CONNECTIONS / instances.length)),
        seconds: SECONDS,
      }),
    ),
  );
  return {
    rps: results.reduce((sum, result) => sum + result.rps, 0),
    p50: Math.max(...results.map((result) => result.p50)),
    p99: Math.max(...results.map((result) => result.p99)),
    errors: results.reduce((sum, result) => sum + result.errors, 0),
    non2xx: results.reduce((sum, result) => sum + result.non2xx, 0),
  };
}

export async function run(): Promise<string> {
  const cluster = await startPostgres();
  const processes: BenchProcess<StoreInfo>[] = [];
  const start = async (storage?: string) => {
    const store = await startBenchProcess<StoreInfo>(new URL('../store-server.ts', import.meta.url), storage ? ['', storage] : []);
    processes.push(store);
    return store.info;
  };
  try {
    const level = await start();
    const single = await start(await cluster.createDatabase());
    const shared = await cluster.createDatabase();
    const pair = [await start(shared), await start(shared)];
    const cases: [string, StoreInfo[]][] = [
      ['LevelDB, one instance', [level]],
      ['PostgreSQL, one instance', [single]],
      ['PostgreSQL, two instances on one database', pair],
    ];
    const keys = new Map<StoreInfo[], string[]>();
    for (const [, instances] of cases) {
      const key = await sampleFile(instances[0]);
      keys.set(instances, instances.map(() => key));
    }
    const results = new Map<string, { get: LoadResult; post: LoadResult }>();
    // The cases in turn for each route, so that the machine's other load falls on them alike.
    for (const [name, instances] of cases) results.set(name, { get: await load(instances, keys.get(instances)!, 'GET'), post: { rps: 0, p50: 0, p99: 0, errors: 0, non2xx: 0 } });
    for (const [name, instances] of cases) results.get(name)!.post = await load(instances, keys.get(instances)!, 'POST');

    const base = results.get('LevelDB, one instance')!;
    const line = (name: string) => {
      const { get, post } = results.get(name)!;
      return `| ${name} | ${get.rps.toFixed(0)} | ${(get.rps / base.get.rps).toFixed(2)}x | ${get.p50}/${get.p99} | ${post.rps.toFixed(0)} | ${(post.rps / base.post.rps).toFixed(2)}x | ${post.p50}/${post.p99} | ${get.errors + get.non2xx + post.errors + post.non2xx} |`;
    };
    return [
      `### PostgreSQL against LevelDB (${CONNECTIONS} connections in all, ${SECONDS} s each)`,
      '',
      '| case | GET /files/{key} rps | vs LevelDB | p50/p99 ms | POST /files rps | vs LevelDB | p50/p99 ms | errors |',
      '|---|---|---|---|---|---|---|---|',
      ...cases.map(([name]) => line(name)),
      '',
    ].join('\n');
  } finally {
    await Promise.all(processes.map((process) => process.stop()));
    await cluster.stop();
  }
}
