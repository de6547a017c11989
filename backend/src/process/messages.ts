import { z } from 'zod';
import { keyRingSchema } from '../secrets/key-ring.js';

export const startKeysSchema = z.object({ ring: keyRingSchema.optional(), source: z.string(), problem: z.string().optional() });
export type StartKeys = z.infer<typeof startKeysSchema>;

/** Messages between the parent (Electron main, a test, a supervisor) and the backend process. */
export const parentMessageSchema = z.discriminatedUnion('type', [
  /**
   * `keys`: the data key ring from the OS keychain, where it is kept (for messages), or why it
   * could not be had; never in argv or env.
   */
  z.object({ type: z.literal('start'), config: z.unknown(), keys: startKeysSchema.optional() }),
  z.object({ type: z.literal('lan'), enabled: z.boolean(), host: z.string().optional(), port: z.number().int().min(0).max(65535).optional() }),
  z.object({ type: z.literal('shutdown') }),
  /** The answer to `key-ring`: the parent kept the ring (or could not, and says why). */
  z.object({ type: z.literal('key-ring-saved'), id: z.number().int(), error: z.string().optional() }),
]);

export const backendMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('ready'),
    port: z.number().int(),
    lan: z.object({ url: z.string(), fingerprint: z.string() }).optional(),
    /** What the user must hear, e.g. that the data key does not open the store's secrets. */
    warnings: z.array(z.string()).optional(),
  }),
  z.object({
    type: z.literal('lan-status'),
    enabled: z.boolean(),
    url: z.string().optional(),
    fingerprint: z.string().optional(),
    error: z.string().optional(),
  }),
  z.object({ type: z.literal('stopped') }),
  /** A key rotation's step: the parent keeps this ring where the key lives (the OS keychain) and answers `key-ring-saved`. */
  z.object({ type: z.literal('key-ring'), id: z.number().int(), ring: keyRingSchema }),
  z.object({ type: z.literal('fatal'), message: z.string() }),
]);

export type ParentMessage = z.infer<typeof parentMessageSchema>;
export type BackendMessage = z.infer<typeof backendMessageSchema>;
