/** `api-store admin create`: the first admin of a headless multi-user store, written offline. */
import { z } from 'zod';
import { hashPassword } from './auth/passwords.js';
import { parseCommandArgs, UsageError } from './cli-args.js';
import { defaultDataDir } from './config.js';
import { openStorage } from './store/open-data-dir.js';
import { Store } from './store/store.js';
import { createUser } from './store/users.js';

const account = z.object({
  username: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, dot, dash and underscore, up to 64'),
  name: z.string().trim().min(1).max(200),
  password: z.string().min(8, 'the password needs at least 8 characters').max(1000),
});

export interface AdminIo {
  env: NodeJS.ProcessEnv;
  /** The password, read from standard input: never from argv or the environment. */
  readPassword(): Promise<string>;
  stdout(text: string): void;
}

/**
 * Creates an admin account directly in the store: the data dir's LevelDB, which must not be in use
 * (its lock says so clearly otherwise), or the PostgreSQL database of API_STORE_STORAGE_URL, where
 * instances may be running. Returns the new user's key.
 */
export async function runAdminCommand(argv: string[], io: AdminIo): Promise<string> {
  const parsed = parseCommandArgs(argv, { username: { type: 'string' }, name: { type: 'string' }, 'data-dir': { type: 'string' } });
  if (parsed.positionals.join(' ') !== 'create') throw new UsageError('the admin command is `api-store admin create --username <name>`');
  const { username, name, 'data-dir': dataDir = defaultDataDir(io.env) } = parsed.values;
  const checked = account.safeParse({ username, name: name ?? username, password: (await io.readPassword()).replace(/\r?\n$/, '') });
  if (!checked.success) throw new UsageError(checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'));

  const storage = await openStorage({ dataDir, storage: io.env.API_STORE_STORAGE_URL || undefined, durability: 'machine' });
  try {
    const store = await Store.open(storage);
    const { password, ...fields } = checked.data;
    const user = await createUser(store, { ...fields, admin: true, passwordHash: await hashPassword(password) });
    io.stdout(`admin ${user.username} created (key ${user.key})\n`);
    return user.key;
  } finally {
    await storage.close();
  }
}
