import { z } from 'zod';

/**
 * What the store leaves in a document in place of a secret's value: `{"$secret": id, "set": true}`.
 * Kept apart from the sealing code so that document schemas can accept it without importing it.
 */
export interface SecretMarker {
  $secret: string;
  set: boolean;
}

export const secretMarkerSchema = z.looseObject({ $secret: z.string().min(1).max(64), set: z.boolean().optional() });

export const isSecretMarker = (value: unknown): value is SecretMarker =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { $secret?: unknown }).$secret === 'string';
