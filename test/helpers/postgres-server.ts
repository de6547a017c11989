import { execFile as execFileCb, execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const execFile = promisify(execFileCb);

/**
 * A real PostgreSQL server for tests: Debian's binaries (installed by test/setup-postgres.sh when
 * missing), a cluster made by initdb in a temp dir, listening on 127.0.0.1 on a free port and on a
 * unix socket in that dir. initdb refuses root, so as root the server runs as the unprivileged
 * `postgres` user (made when missing). One cluster per test file: `sharedPostgres()`.
 */
export interface PostgresCluster {
  port: number;
  /** A new, empty database; its URL. */
  createDatabase(): Promise<string>;
  /** Stops the server and starts it again on the same port (`pg_ctl restart`, fast shutdown: open connections are cut). */
  restart(): Promise<void>;
  /** Stops the server (fast shutdown), keeping its data, until `resume`. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

const OS_USER = 'postgres';

function binDir(): string {
  const find = () => {
    const root = '/usr/lib/postgresql';
    if (!existsSync(root)) return undefined;
    const versions = readdirSync(root)
      .filter((version) => existsSync(join(root, version, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    return versions.length ? join(root, versions[0], 'bin') : undefined;
  };
  let dir = find();
  if (!dir) {
    execFileSync('bash', [new URL('../setup-postgres.sh', import.meta.url).pathname], { stdio: 'inherit' });
    dir = find();
  }
  if (!dir) throw new Error('PostgreSQL binaries are missing and test/setup-postgres.sh could not install them');
  return dir;
}

const asRoot = process.getuid?.() === 0;

async function ensureOsUser(): Promise<void> {
  if (!asRoot) return;
  try {
    await execFile('id', ['-u', OS_USER]);
  } catch {
    await execFile('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', OS_USER]);
  }
}

/** Runs a PostgreSQL binary, as the unprivileged user when the tests run as root. */
function run(bin: string, args: string[]): Promise<unknown> {
  return asRoot ? execFile('runuser', ['-u', OS_USER, '--', bin, ...args]) : execFile(bin, args);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startPostgres(): Promise<PostgresCluster> {
  const bin = binDir();
  await ensureOsUser();
  const dir = await mkdtemp(join(tmpdir(), 'api-store-pg-'));
  if (asRoot) {
    const { stdout } = await execFile('id', ['-u', OS_USER]);
    const { stdout: group } = await execFile('id', ['-g', OS_USER]);
    await chown(dir, Number(stdout.trim()), Number(group.trim()));
  }
  const data = join(dir, 'data');
  const port = await freePort();
  // Durability of the test server's own disk is not under test (a killed api-store is; the server
  // is only ever stopped cleanly), so fsync is off to keep the suite fast.
  const options = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${dir} -c fsync=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=32MB`;
  const pgCtl = (...args: string[]) => run(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'log'), '-w', '-o', options, ...args]);
  try {
    await run(join(bin, 'initdb'), ['-D', data, '-U', 'api_store', '--auth=trust', '--encoding=UTF8', '--no-sync']);
    await pgCtl('start');
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  let databases = 0;
  const admin = `postgres://api_store@127.0.0.1:${port}/postgres`;
  return {
    port,
    async createDatabase() {
      const name = `store_${++databases}`;
      const client = new pg.Client({ connectionString: admin });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return `postgres://api_store@127.0.0.1:${port}/${name}`;
    },
    async restart() {
      await pgCtl('restart', '-m', 'fast');
    },
    async pause() {
      await pgCtl('stop', '-m', 'fast');
    },
    async resume() {
      await pgCtl('start');
    },
    async stop() {
      await pgCtl('stop', '-m', 'immediate').catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}
