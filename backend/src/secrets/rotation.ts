import { setTimeout as sleep } from 'node:timers/promises';
import { StoreError } from '../store/store-error.js';
import type { Logger } from '../logger.js';
import { fileSections, SEP } from '../store/file-records.js';
import type { KeyRange } from '../store/storage.js';
import type { Store } from '../store/store.js';
import { generateDataKey, type KeyRing } from './key-ring.js';
import { seal, sealedKeyId, unseal } from './seal.js';
import { KEY_RECORD, keyRecordOf } from './secrets.js';

/**
 * Key rotation, a background job in bounded batches while the store serves:
 * 1. a new key becomes current and the old one stays as `previous`, in the key source first;
 * 2. the key record names the new key;
 * 3. `file-secrets` is re-sealed under the new key, `batchSize` values per write;
 * 4. the key source drops the old key.
 * Each value names its key, and the source holds both keys from 1 to 4, so a crash anywhere
 * leaves every value readable; a store that starts with a `previous` key finishes the rotation.
 */

export interface RotationStatus {
  state: 'idle' | 'running' | 'done' | 'failed';
  /** The key values are being (or were) re-sealed under. */
  keyId?: string;
  /** Values re-sealed by this run so far. */
  resealed: number;
  error?: string;
}

export interface RotationOptions {
  batchSize: number;
  /** Pause between batches, so that the store's other writes go first. */
  pauseMs: number;
  log: Logger;
}

export class KeyRotation {
  #status: RotationStatus = { state: 'idle', resealed: 0 };
  #running?: Promise<void>;
  #stopping = false;

  constructor(
    private readonly store: Store,
    private readonly options: RotationOptions,
  ) {}

  get status(): RotationStatus {
    return { ...this.#status };
  }

  /** Whether a rotation was left unfinished (the key source still holds the previous key). */
  get unfinished(): boolean {
    return !this.store.secrets.problem && this.store.secrets.ring.previous !== undefined;
  }

  /** Starts a rotation, or answers the one running. */
  start(): RotationStatus {
    if (this.#running) return this.status;
    const { secrets } = this.store;
    if (!secrets.source?.save) throw new StoreError('rotation_unavailable', `The data key cannot be rotated here: ${secrets.source?.name ?? 'its source'} cannot be written by the store.`);
    const ring = secrets.ring;
    this.#status = { state: 'running', resealed: 0 };
    this.#running = this.#run(ring).then(
      () => {
        this.#status = { ...this.#status, state: this.#stopping ? 'idle' : 'done' };
      },
      (error: Error) => {
        this.#status = { ...this.#status, state: 'failed', error: error.message };
        this.options.log.error('data key rotation failed; the store keeps both keys and finishes it at its next start', { error: error.message });
      },
    ).finally(() => {
      this.#running = undefined;
    });
    return this.status;
  }

  /** Resolves when the running rotation (if any) has ended. */
  async finished(): Promise<void> {
    await this.#running;
  }

  /** Stops after the batch in progress; the next start finishes the rotation. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#running;
  }

  async #run(start: KeyRing): Promise<void> {
    const { store, options } = this;
    const { secrets } = store;
    const save = secrets.source!.save!;
    let ring = start;
    if (!ring.previous) {
      ring = { current: generateDataKey(), previous: ring.current };
      await save(ring);
      secrets.useRing(ring);
    }
    const current = ring.current;
    this.#status.keyId = current.id;
    options.log.info('data key rotation started', { key: current.id, previous: ring.previous!.id });
    await store.mutate((m) => m.put('meta', KEY_RECORD, keyRecordOf(current)));
    let range: KeyRange = {};
    for (;;) {
      if (this.#stopping) return;
      const { count, last } = await store.mutate(async (m) => {
        let count = 0;
        let last: string | undefined;
        for await (const [key, sealed] of store.storage.entries<string>(fileSections.secrets, { ...range, limit: options.batchSize })) {
          count += 1;
          last = key;
          if (sealedKeyId(sealed) === current.id) continue;
          const binding = [key.slice(0, key.indexOf(SEP)), key.slice(key.indexOf(SEP) + 1)];
          m.put(fileSections.secrets, key, seal(current, unseal(ring, sealed, binding), binding));
          this.#status.resealed += 1;
        }
        return { count, last };
      });
      if (count < options.batchSize || last === undefined) break;
      range = { gt: last };
      await sleep(options.pauseMs);
    }
    const finished: KeyRing = { current };
    await save(finished);
    secrets.useRing(finished);
    options.log.info('data key rotation finished', { key: current.id, resealed: this.#status.resealed });
  }
}
