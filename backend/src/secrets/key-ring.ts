import { randomBytes } from 'node:crypto';
import { z } from 'zod';

/**
 * The data keys that seal secrets: the current one, and while a rotation runs the one it
 * replaces (every sealed value names its key's id, so each stays readable under one of the two).
 */

export interface DataKey {
  /** Names the key inside every value it sealed. */
  id: string;
  /** 32 bytes: an AES-256 key. */
  key: Buffer;
}

export interface KeyRing {
  current: DataKey;
  /** The key a rotation is replacing; kept until every value is sealed under `current`. */
  previous?: DataKey;
}

const KEY_BYTES = 32;

export function generateDataKey(): DataKey {
  return { id: randomBytes(8).toString('hex'), key: randomBytes(KEY_BYTES) };
}

const dataKeySchema = z.object({
  id: z.string().regex(/^[0-9a-f]{16}$/, 'must be 16 hex digits'),
  key: z.string().refine((text) => Buffer.from(text, 'base64').length === KEY_BYTES && /^[A-Za-z0-9+/]+=*$/.test(text), 'must be 32 bytes in base64'),
});

/** A key ring as it is kept in a key file or handed over in the `start` message. */
export const keyRingSchema = z.object({ version: z.literal(1), current: dataKeySchema, previous: dataKeySchema.optional() });
export type KeyRingJson = z.infer<typeof keyRingSchema>;

const keyOf = (json: z.infer<typeof dataKeySchema>): DataKey => ({ id: json.id, key: Buffer.from(json.key, 'base64') });
const jsonOf = (key: DataKey) => ({ id: key.id, key: key.key.toString('base64') });

export function keyRingFromJson(json: KeyRingJson): KeyRing {
  return { current: keyOf(json.current), ...(json.previous ? { previous: keyOf(json.previous) } : {}) };
}

export function keyRingToJson(ring: KeyRing): KeyRingJson {
  return { version: 1, current: jsonOf(ring.current), ...(ring.previous ? { previous: jsonOf(ring.previous) } : {}) };
}

/** Parses a key ring's text; the error says what is wrong without quoting the text (it is a secret). */
export function parseKeyRing(text: string): KeyRing {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error('it is not JSON');
  }
  const parsed = keyRingSchema.safeParse(json);
  if (!parsed.success) throw new Error(parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; '));
  return keyRingFromJson(parsed.data);
}

export const keyRingText = (ring: KeyRing) => `${JSON.stringify(keyRingToJson(ring), null, 2)}\n`;
