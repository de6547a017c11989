/** The native argon2 binding, loaded on the first password (local mode never needs one). */
const argon2 = () => import('@node-rs/argon2');

/** Hashes a password with argon2id (the library's default algorithm) and a fresh salt. */
export async function hashPassword(password: string): Promise<string> {
  return (await argon2()).hash(password);
}

/**
 * A hash of a password nobody knows, checked when the user does not exist so that a wrong user
 * name takes as long as a wrong password (no account enumeration by timing).
 */
let decoy: Promise<string> | undefined;

/** True when `password` matches `stored`; without a stored hash, spends the same time and says no. */
export async function verifyPassword(stored: string | undefined, password: string): Promise<boolean> {
  const hashed = stored ?? (await (decoy ??= hashPassword('decoy password, never accepted')));
  try {
    return (await (await argon2()).verify(hashed, password)) && stored !== undefined;
  } catch {
    return false;
  }
}
