import { StoreError } from '../store/store-error.js';
import type { Store } from '../store/store.js';
import { generateDataKey, type DataKey, type KeyRing } from './key-ring.js';
import type { KeySource } from './key-source.js';
import { seal, sealedKeyId, unseal } from './seal.js';

/**
 * The store's secrets: what seals and opens values under the data key, and the check that the
 * key given at start is the one this store's values were sealed with. A missing or wrong key
 * does not stop the store: everything but secrets stays readable and writable, and what needs
 * a secret's value answers `secrets_locked` with the reason, which names the key source.
 */

/** `meta` record: the id of the key values are sealed with, and a value it sealed, to recognise it. */
export const KEY_RECORD = 'secrets-key';
export interface KeyRecord {
  id: string;
  check: string;
}

const CHECK_TEXT = 'api-store data key';
const CHECK_BINDING = ['key-check'];

export const keyRecordOf = (key: DataKey): KeyRecord => ({ id: key.id, check: seal(key, CHECK_TEXT, CHECK_BINDING) });

/** Whether `key` is the key that `record` names and opens. */
function opensRecord(key: DataKey, record: KeyRecord): boolean {
  if (key.id !== record.id) return false;
  try {
    return unseal({ current: key }, record.check, CHECK_BINDING) === CHECK_TEXT;
  } catch {
    return false;
  }
}

export class Secrets {
  #ring?: KeyRing;
  /** Keys a rotation dropped, kept in memory only, for reads that fetched a value just before it was re-sealed. */
  readonly #retired: DataKey[] = [];
  readonly #problem?: string;

  constructor(
    readonly source: KeySource | undefined,
    ring: KeyRing | undefined,
    problem?: string,
  ) {
    this.#ring = ring;
    this.#problem = ring ? undefined : (problem ?? 'No data key was given to this store.');
  }

  /** Why secrets cannot be sealed or opened; undefined when they can. */
  get problem(): string | undefined {
    return this.#problem;
  }

  /** The key ring; a `secrets_locked` error when there is none. */
  get ring(): KeyRing {
    if (!this.#ring) throw new StoreError('secrets_locked', `Secrets cannot be sealed or opened: ${this.#problem}`);
    return this.#ring;
  }

  /** A rotation's step: the ring every later seal and open uses. */
  useRing(ring: KeyRing): void {
    for (const key of [this.#ring?.current, this.#ring?.previous]) {
      if (key && key.id !== ring.current.id && key.id !== ring.previous?.id) this.#retired.push(key);
    }
    this.#ring = ring;
  }

  seal(value: unknown, binding: readonly string[]): string {
    return seal(this.ring.current, JSON.stringify(value), binding);
  }

  open(sealed: string, binding: readonly string[]): unknown {
    const ring = this.ring;
    const retired = this.#retired.find((key) => key.id === sealedKeyId(sealed));
    return JSON.parse(unseal(retired ? { current: retired } : ring, sealed, binding));
  }
}

/**
 * The store's secrets under the key from `source`. The first start with no key anywhere makes
 * one (when the source can keep it); a store whose values were sealed under another key gets
 * locked secrets whose reason names the source, and nothing is written.
 */
export async function openSecrets(store: Store, source: KeySource): Promise<Secrets> {
  const record = await store.storage.get<KeyRecord>('meta', KEY_RECORD);
  let ring: KeyRing | undefined;
  try {
    ring = await source.load();
  } catch (error) {
    return new Secrets(source, undefined, `${(error as Error).message}`);
  }
  if (!ring) {
    if (record) return new Secrets(source, undefined, `the data key is missing: ${source.name} holds no key, and this store's secrets are sealed with key ${record.id}. Put that key back; nothing was changed.`);
    if (!source.save) return new Secrets(source, undefined, `${source.name} gave no data key.`);
    ring = { current: generateDataKey() };
    await source.save(ring);
  }
  if (record) {
    const known = [ring.current, ring.previous].find((key) => key && opensRecord(key, record));
    if (!known) {
      return new Secrets(source, undefined, `the data key in ${source.name} (key ${ring.current.id}) is not the key this store's secrets are sealed with (key ${record.id}). Give the right key; nothing was changed.`);
    }
  } else {
    const first = keyRecordOf(ring.current);
    await store.mutate((m) => m.put('meta', KEY_RECORD, first));
  }
  return new Secrets(source, ring);
}
