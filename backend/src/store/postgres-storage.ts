import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import { StoreUnavailableError } from './open-errors.js';
import type { AttemptState } from './attempt-state.js';
import type { KeyRange, SharedStorage, StorageReader, StoredRecord, Transaction, WriteOp } from './storage.js';

/**
 * PostgreSQL behind the Storage interface: one table of (section, key, value) rows. Keys are
 * `bytea` holding the key's UTF-8 bytes, so that key order is LevelDB's byte order (and a key may
 * hold NUL, which `text` refuses); values are their JSON text. Several api-store instances may
 * share one database: mutations run as SERIALIZABLE transactions (`transaction`), the change feed's
 * seq comes from a counter row, and commits are announced with NOTIFY.
 */

/** The database schema, one entry per version; append, never edit a released one. */
const schema: { version: number; statements: string[] }[] = [
  {
    version: 1,
    statements: [
      `CREATE TABLE api_store_records (section text COLLATE "C" NOT NULL, key bytea NOT NULL, value text NOT NULL, PRIMARY KEY (section, key))`,
      // The change feed's last seq: each mutation with changes advances it in its own transaction,
      // so seqs have no gap and no duplicate across instances, and commit in seq order (row lock).
      `CREATE TABLE api_store_feed (id boolean PRIMARY KEY DEFAULT true CHECK (id), seq bigint NOT NULL)`,
      `INSERT INTO api_store_feed (seq) VALUES (0)`,
    ],
  },
  {
    version: 2,
    // Sign-in attempt counters shared by the instances (auth/rate-limit.ts, auth/login-throttle.ts).
    statements: [`CREATE TABLE api_store_attempts (key bytea PRIMARY KEY, value text NOT NULL, expires bigint NOT NULL)`],
  },
];

/** NOTIFY channel announcing the last seq of each committed mutation with changes. */
const CHANNEL = 'api_store_changes';
/** Any constant: the advisory lock that makes instances starting together migrate one at a time. */
const MIGRATION_LOCK = 7_301_919;
/**
 * The advisory lock mutations take before their transaction begins. Every mutation with changes
 * updates the feed's counter row, so two at once on different instances would always conflict
 * and one would run again: waiting for the lock instead costs two round trips and wastes no work.
 * The transactions stay SERIALIZABLE (with retries), so writes that take no lock stay safe.
 */
const MUTATION_LOCK = 7_301_920;
/** The advisory lock of `exclusive`: instances starting together run the store's migrations one at a time. */
const EXCLUSIVE_LOCK = 7_301_921;
/** Rows per query when iterating a range. */
const CHUNK = 256;
/** Retries of a mutation that lost a serialization conflict before giving up. */
const MAX_ATTEMPTS = 50;

/** SQLSTATEs of a transaction that lost a conflict and may run again. */
const retryable = new Set(['40001', '40P01']);

/** A failure that means the database is out of reach (connection refused, reset, shutting down). */
export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  if (typeof code !== 'string') return error instanceof Error && /Connection terminated|connection timeout|Client has encountered a connection error|not queryable/i.test(error.message);
  return ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'ENOENT', '57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004', '53300'].includes(code);
}

type Queryable = Pick<pg.PoolClient, 'query'>;

const toKey = (key: string) => Buffer.from(key, 'utf8');

/** The SQL condition and parameters of a key range (after `params.length` earlier parameters). */
function rangeCondition(range: KeyRange, params: unknown[]): string {
  let sql = '';
  for (const [bound, op] of [['gt', '>'], ['gte', '>='], ['lt', '<'], ['lte', '<=']] as const) {
    const value = range[bound];
    if (value === undefined) continue;
    params.push(toKey(value));
    sql += ` AND key ${op} $${params.length}`;
  }
  return sql;
}

const statementNames = new Map<string, string>();

/**
 * A query as a named prepared statement: each connection parses and plans it once. The SQL texts
 * are few (one per shape of range), so their names are too.
 */
function prepared(text: string, values: unknown[]): pg.QueryConfig {
  let name = statementNames.get(text);
  if (!name) {
    name = `api_store_${statementNames.size + 1}`;
    statementNames.set(text, name);
  }
  return { name, text, values };
}

/** Reads through `db()`: the pool, the current mutation's transaction, or a snapshot's client. */
function reader(db: () => Queryable, translate: (error: unknown) => unknown): StorageReader {
  const query = async (text: string, values: unknown[]) => {
    try {
      return await db().query(prepared(text, values));
    } catch (error) {
      throw translate(error);
    }
  };
  async function* rows(section: string, range: KeyRange, withValues: boolean): AsyncGenerator<[string, string | undefined]> {
    let remaining = range.limit !== undefined && range.limit >= 0 ? range.limit : Infinity;
    const bounds = { ...range };
    while (remaining > 0) {
      const params: unknown[] = [section];
      const condition = rangeCondition(bounds, params);
      const size = Math.min(remaining, CHUNK);
      const result = await query(
        `SELECT key${withValues ? ', value' : ''} FROM api_store_records WHERE section = $1${condition} ORDER BY key ${range.reverse ? 'DESC' : 'ASC'} LIMIT $${params.length + 1}`,
        [...params, size],
      );
      for (const row of result.rows as { key: Buffer; value?: string }[]) yield [row.key.toString('utf8'), row.value];
      if (result.rows.length < size) return;
      remaining -= result.rows.length;
      const last = (result.rows.at(-1) as { key: Buffer }).key.toString('utf8');
      if (range.reverse) {
        delete bounds.lte;
        bounds.lt = last;
      } else {
        delete bounds.gte;
        bounds.gt = last;
      }
    }
  }
  const getJson = async (section: string, key: string) => {
    const result = await query('SELECT value FROM api_store_records WHERE section = $1 AND key = $2', [section, toKey(key)]);
    return result.rows.length ? (result.rows[0] as { value: string }).value : undefined;
  };
  return {
    async get<T>(section: string, key: string) {
      const text = await getJson(section, key);
      return text === undefined ? undefined : (JSON.parse(text) as T);
    },
    getJson,
    async getMany<T>(section: string, keys: string[]) {
      if (keys.length === 0) return [];
      const result = await query('SELECT key, value FROM api_store_records WHERE section = $1 AND key = ANY($2::bytea[])', [section, keys.map(toKey)]);
      const found = new Map((result.rows as { key: Buffer; value: string }[]).map((row) => [row.key.toString('utf8'), row.value]));
      return keys.map((key) => {
        const value = found.get(key);
        return value === undefined ? undefined : (JSON.parse(value) as T);
      });
    },
    async *entries<T>(section: string, range: KeyRange = {}) {
      for await (const [key, value] of rows(section, range, true)) yield [key, JSON.parse(value as string) as T] as [string, T];
    },
    async *keys(section: string, range: KeyRange = {}) {
      for await (const [key] of rows(section, range, false)) yield key;
    },
    async keyList(section: string, range: KeyRange) {
      const keys: string[] = [];
      for await (const [key] of rows(section, range, false)) keys.push(key);
      return keys;
    },
    async entryList<T>(section: string, range: KeyRange) {
      const entries: [string, T][] = [];
      for await (const [key, value] of rows(section, range, true)) entries.push([key, JSON.parse(value as string) as T]);
      return entries;
    },
    async *records(): AsyncIterable<StoredRecord> {
      let after: [string, Buffer] | undefined;
      for (;;) {
        const result = await query(
          `SELECT section, key, value FROM api_store_records${after ? ' WHERE (section, key) > ($1, $2)' : ''} ORDER BY section, key LIMIT ${CHUNK}`,
          after ?? [],
        );
        const rows = result.rows as { section: string; key: Buffer; value: string }[];
        for (const row of rows) yield { section: row.section, key: row.key.toString('utf8'), value: JSON.parse(row.value) };
        if (rows.length < CHUNK) return;
        const last = rows[rows.length - 1];
        after = [last.section, last.key];
      }
    },
    async recordKeys(limit: number) {
      const result = await query('SELECT section, key FROM api_store_records ORDER BY section, key LIMIT $1', [limit]);
      return (result.rows as { section: string; key: Buffer }[]).map((row) => ({ section: row.section, key: row.key.toString('utf8') }));
    },
  };
}

/** The batch reduced to the last operation on each key (a batch applies in order), as one statement. */
async function applyOps(client: Queryable, ops: WriteOp[]): Promise<void> {
  const last = new Map<string, { section: string; key: string; value?: string }>();
  for (const op of ops) {
    // Encoding first: a value that cannot be stored fails the batch before anything is written.
    const value = op.type === 'put' ? JSON.stringify(op.value) : undefined;
    if (op.type === 'put' && value === undefined) throw new TypeError(`the value of ${op.section}/${op.key} cannot be stored as JSON`);
    const id = `${op.section}\0${op.key}`;
    last.delete(id);
    last.set(id, { section: op.section, key: op.key, value });
  }
  const puts = [...last.values()].filter((op) => op.value !== undefined);
  const dels = [...last.values()].filter((op) => op.value === undefined);
  const deleted = [dels.map((op) => op.section), dels.map((op) => toKey(op.key))];
  const put = [puts.map((op) => op.section), puts.map((op) => toKey(op.key)), puts.map((op) => op.value)];
  if (dels.length && puts.length) {
    // One round trip for both: no key is in both lists, so the two do not touch the same row.
    await client.query(prepared(`WITH deleted AS (${DELETE_SQL.replace('$1', '$4').replace('$2', '$5')}) ${UPSERT_SQL}`, [...put, ...deleted]));
  } else if (dels.length) {
    await client.query(prepared(DELETE_SQL, deleted));
  } else if (puts.length) {
    await client.query(prepared(UPSERT_SQL, put));
  }
}

const DELETE_SQL = 'DELETE FROM api_store_records WHERE (section, key) IN (SELECT * FROM unnest($1::text[], $2::bytea[]))';
const UPSERT_SQL =
  'INSERT INTO api_store_records (section, key, value) SELECT * FROM unnest($1::text[], $2::bytea[], $3::text[]) ON CONFLICT (section, key) DO UPDATE SET value = EXCLUDED.value';

/**
 * Runs `work` in one transaction on a pooled connection. With `lock`, the connection first takes
 * that session-level advisory lock, before the transaction (and its snapshot) begins, and lets it
 * go after: transactions under the same lock run one after another, each seeing the ones before.
 */
async function inTransaction<T>(pool: pg.Pool, begin: string, work: (client: pg.PoolClient) => Promise<T>, lock?: number): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  let locked = false;
  try {
    // The lock first, on its own: a transaction's snapshot is taken by its first statement.
    if (lock !== undefined) {
      await client.query(`SELECT pg_advisory_lock(${lock})`);
      locked = true;
    }
    await client.query(begin);
    try {
      const result = await work(client);
      if (locked) {
        // Commit and unlock in one round trip (the simple protocol takes several statements; a
        // failed COMMIT skips the unlock, which `finally` then does).
        await client.query(`COMMIT; SELECT pg_advisory_unlock(${lock})`);
        locked = false;
      } else {
        await client.query('COMMIT');
      }
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw error;
    }
  } catch (error) {
    if (isConnectionError(error)) broken = true;
    throw error;
  } finally {
    // A broken connection is destroyed, which ends its session and so its lock.
    if (locked && !broken) await client.query(`SELECT pg_advisory_unlock(${lock})`).catch(() => (broken = true));
    client.release(broken);
  }
}

async function migrateSchema(pool: pg.Pool): Promise<void> {
  await inTransaction(pool, 'BEGIN', async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS api_store_schema (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const result = await client.query('SELECT coalesce(max(version), 0) AS version FROM api_store_schema');
    const current = Number((result.rows[0] as { version: number }).version);
    const latest = schema.at(-1)?.version ?? 0;
    if (current > latest) throw new Error(`the database schema is version ${current}, newer than this api-store's ${latest}`);
    for (const step of schema) {
      if (step.version <= current) continue;
      for (const statement of step.statements) await client.query(statement);
      await client.query('INSERT INTO api_store_schema (version) VALUES ($1)', [step.version]);
    }
  });
}

export interface PostgresOptions {
  /** Connections in the pool. */
  poolSize?: number;
}

/** Connects to the database at `url` and brings its schema up to date. */
export async function openPostgresStorage(url: string, options: PostgresOptions = {}): Promise<SharedStorage> {
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10, connectionTimeoutMillis: 5000 });
  // A client whose server went away emits 'error' (the pool's when idle, its own when checked out
  // between queries); without a listener that would crash the process. The next query fails instead.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const translate = (error: unknown) => (isConnectionError(error) ? new StoreUnavailableError(error) : error);
  try {
    await migrateSchema(pool);
  } catch (error) {
    await pool.end();
    throw translate(error);
  }
  const current = new AsyncLocalStorage<pg.PoolClient>();
  const live = reader(() => current.getStore() ?? pool, translate);
  const listeners = new Set<(seq: number) => void>();
  let listener: pg.Client | undefined;
  let closed = false;
  let reconnectTimer: NodeJS.Timeout | undefined;

  /** The LISTEN connection, reopened after it drops; every (re)connect announces the current seq, to catch up what was missed. */
  const listen = async (): Promise<void> => {
    if (closed || listeners.size === 0 || listener) return;
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    listener = client;
    const retry = () => {
      if (listener !== client) return;
      listener = undefined;
      client.end().catch(() => {});
      if (!closed) reconnectTimer = setTimeout(() => void listen(), 500);
    };
    client.on('error', retry);
    client.on('end', retry);
    client.on('notification', (message) => {
      const seq = Number(message.payload);
      if (Number.isSafeInteger(seq)) for (const notify of listeners) notify(seq);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      const result = await client.query('SELECT seq FROM api_store_feed');
      const seq = Number((result.rows[0] as { seq: string }).seq);
      for (const notify of listeners) notify(seq);
    } catch {
      retry();
    }
  };

  const transaction: SharedStorage['transaction'] = async (work) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await inTransaction(pool, 'BEGIN ISOLATION LEVEL SERIALIZABLE', (client) =>
          current.run(client, () => {
            const tx: Transaction = {
              write: (ops) => applyOps(client, ops),
              async claimSeqs(count) {
                // NOTIFY is sent at commit, so other instances read the feed only once it holds these seqs.
                const result = await client.query(
                  prepared(`WITH claimed AS (UPDATE api_store_feed SET seq = seq + $1 RETURNING seq) SELECT seq, pg_notify('${CHANNEL}', seq::text) FROM claimed`, [count]),
                );
                const last = Number((result.rows[0] as { seq: string }).seq);
                return last - count + 1;
              },
            };
            return work(tx);
          }),
          MUTATION_LOCK,
        );
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code && retryable.has(code) && attempt < MAX_ATTEMPTS) {
          // A short random pause so that the instances that collided do not collide again.
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
          continue;
        }
        throw translate(error);
      }
    }
  };

  const attempts: AttemptState = {
    async get<V>(key: string, now: number) {
      try {
        const result = await pool.query(prepared('SELECT value FROM api_store_attempts WHERE key = $1 AND expires > $2', [toKey(key), now]));
        return result.rows.length ? (JSON.parse((result.rows[0] as { value: string }).value) as V) : undefined;
      } catch (error) {
        throw translate(error);
      }
    },
    async update<V>(key: string, change: (current: V | undefined) => V, now: number, expires: number) {
      try {
        return await inTransaction(pool, 'BEGIN', async (client) => {
          // One key's updates one at a time across instances, an absent row included.
          await client.query(prepared("SELECT pg_advisory_xact_lock(hashtext(encode($1, 'hex')))", [toKey(key)]));
          const found = await client.query(prepared('SELECT value FROM api_store_attempts WHERE key = $1 AND expires > $2', [toKey(key), now]));
          const value = change(found.rows.length ? (JSON.parse((found.rows[0] as { value: string }).value) as V) : undefined);
          await client.query(
            prepared('INSERT INTO api_store_attempts (key, value, expires) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires = EXCLUDED.expires', [toKey(key), JSON.stringify(value), expires]),
          );
          // Expired counters go now and then, so the table stays the size of the current windows.
          if (Math.random() < 0.01) await client.query(prepared('DELETE FROM api_store_attempts WHERE expires <= $1', [now]));
          return value;
        });
      } catch (error) {
        throw translate(error);
      }
    },
  };

  return {
    kind: 'postgres',
    ...live,
    attempts,
    transaction,
    async exclusive(work) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
        await client.query(`SELECT pg_advisory_lock(${EXCLUSIVE_LOCK})`);
      } catch (error) {
        throw translate(error);
      }
      try {
        return await work();
      } finally {
        await client.query(`SELECT pg_advisory_unlock(${EXCLUSIVE_LOCK})`).then(
          () => client.release(),
          (error: Error) => client.release(error),
        );
      }
    },
    async adoptSeq(seq) {
      try {
        await pool.query('UPDATE api_store_feed SET seq = GREATEST(seq, $1)', [seq]);
      } catch (error) {
        throw translate(error);
      }
    },
    async lastSeq() {
      try {
        const result = await pool.query('SELECT seq FROM api_store_feed');
        return Number((result.rows[0] as { seq: string }).seq);
      } catch (error) {
        throw translate(error);
      }
    },
    onCommitted(notify) {
      listeners.add(notify);
      void listen();
      return () => {
        listeners.delete(notify);
      };
    },
    async snapshot() {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        // The snapshot is taken by the first query of the transaction: take it now.
        await client.query('SELECT 1');
      } catch (error) {
        throw translate(error);
      }
      return {
        ...reader(() => client, translate),
        async close() {
          // A connection that broke meanwhile is destroyed instead of going back to the pool.
          await client.query('COMMIT').then(
            () => client.release(),
            (error: Error) => client.release(error),
          );
        },
      };
    },
    async write(ops: WriteOp[]) {
      if (ops.length === 0) return;
      const inside = current.getStore();
      try {
        // A batch is one statement, atomic by itself outside a mutation's transaction.
        await applyOps(inside ?? pool, ops);
      } catch (error) {
        throw translate(error);
      }
    },
    async clear(section: string) {
      try {
        await (current.getStore() ?? pool).query('DELETE FROM api_store_records WHERE section = $1', [section]);
      } catch (error) {
        throw translate(error);
      }
    },
    async close() {
      closed = true;
      clearTimeout(reconnectTimer);
      const client = listener;
      listener = undefined;
      await client?.end().catch(() => {});
      await pool.end();
    },
  };
}
