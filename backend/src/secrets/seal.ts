import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DataKey, KeyRing } from './key-ring.js';

/**
 * AES-256-GCM sealing of one value: `s1.<key id>.<iv>.<ciphertext>.<tag>` (base64url parts).
 * The IV is 96 random bits per value. The associated data binds the value to where it belongs
 * (its file and its secret's id), so a sealed value copied elsewhere fails to open.
 */

const FORMAT = 's1';
const IV_BYTES = 12;

/** A sealed value that no key of the ring opens, or that fails authentication. */
export class UnsealError extends Error {}

const associatedData = (binding: readonly string[]) => Buffer.from([FORMAT, ...binding].join('\0'));

export function seal(key: DataKey, plaintext: string, binding: readonly string[]): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.key, iv);
  cipher.setAAD(associatedData(binding));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [FORMAT, key.id, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

/** The id of the key that sealed `sealed`. */
export function sealedKeyId(sealed: string): string {
  const [format, id] = sealed.split('.');
  if (format !== FORMAT || !id) throw new UnsealError('not a sealed value');
  return id;
}

export function unseal(ring: KeyRing, sealed: string, binding: readonly string[]): string {
  const parts = sealed.split('.');
  const id = sealedKeyId(sealed);
  const key = [ring.current, ring.previous].find((candidate) => candidate?.id === id);
  if (!key) throw new UnsealError(`sealed under key ${id}, which is not in the key ring`);
  if (parts.length !== 5) throw new UnsealError('not a sealed value');
  const [, , iv, ciphertext, tag] = parts.map((part) => Buffer.from(part, 'base64url'));
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.key, iv);
    decipher.setAAD(associatedData(binding));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch {
    throw new UnsealError(`does not open under key ${id} (a wrong key, or the value was altered or moved)`);
  }
}
