import { after } from 'node:test';
import { startPostgres, type PostgresCluster } from './postgres-server.js';

export type { PostgresCluster } from './postgres-server.js';

let shared: Promise<PostgresCluster> | undefined;

/** The test file's cluster, started on first use and stopped (its dir removed) after the file's tests. */
export function sharedPostgres(): Promise<PostgresCluster> {
  shared ??= startPostgres();
  return shared;
}

after(async () => {
  if (shared) await (await shared).stop();
});

/** Which storage the API tests run on: LevelDB unless API_STORE_TEST_STORAGE=postgres. */
export const testStorage: 'leveldb' | 'postgres' = process.env.API_STORE_TEST_STORAGE === 'postgres' ? 'postgres' : 'leveldb';
