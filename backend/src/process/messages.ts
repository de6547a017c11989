import { z } from 'zod';

/** Messages between the parent (Electron main, a test, a supervisor) and the backend process. */
export const parentMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('start'), config: z.unknown() }),
  z.object({ type: z.literal('lan'), enabled: z.boolean(), host: z.string().optional(), port: z.number().int().min(0).max(65535).optional() }),
  z.object({ type: z.literal('shutdown') }),
]);

export const backendMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), port: z.number().int(), lan: z.object({ url: z.string(), fingerprint: z.string() }).optional() }),
  z.object({
    type: z.literal('lan-status'),
    enabled: z.boolean(),
    url: z.string().optional(),
    fingerprint: z.string().optional(),
    error: z.string().optional(),
  }),
  z.object({ type: z.literal('stopped') }),
  z.object({ type: z.literal('fatal'), message: z.string() }),
]);

export type ParentMessage = z.infer<typeof parentMessageSchema>;
export type BackendMessage = z.infer<typeof backendMessageSchema>;
