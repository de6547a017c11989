import { randomBytes } from 'node:crypto';
import { Secrets } from '../secrets/secrets.js';
import { CHANGES_BY_PATH, pathIndexKeys, seqKey, type Change, type ChangeInput } from './changes.js';
import { migrate, migrations, type BeforeMigration, type Migration } from './migrations.js';
import type { Storage, WriteOp } from './storage.js';
import { withFields } from './with-fields.js';

export type Clock = () => number;

/** What a mutation may do: stage writes and the changes they make, all committed in one batch. */
export interface Mutation {
  /** The time of this mutation, shared by every record it writes. */
  readonly now: number;
  put(section: string, key: string, value: unknown): void;
  del(section: string, key: string): void;
  change(change: ChangeInput): void;
}

export type ChangeListener = (changes: Change[]) => void;

/**
 * The store: reads go straight to storage; writes go through `mutate`, which runs one at a time
 * so a read-modify-write never interleaves with another, gives each change the next `seq` and
 * commits data, indexes and change records in a single atomic batch.
 */
export class Store {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<ChangeListener>();
  /** Seals and opens secret values; locked (every use a `secrets_locked` error) until the start gives it a key. */
  secrets = new Secrets(undefined, undefined);

  private constructor(
    readonly storage: Storage,
    readonly clock: Clock,
    private lastSeq: number,
  ) {}

  static async open(storage: Storage, clock: Clock = Date.now, options: { migrations?: Migration[]; beforeMigration?: BeforeMigration } = {}): Promise<Store> {
    await migrate(storage, options.migrations ?? migrations, options.beforeMigration);
    let lastSeq = 0;
    for await (const key of storage.keys('changes', { reverse: true, limit: 1 })) lastSeq = Number(key);
    return new Store(storage, clock, lastSeq);
  }

  get seq(): number {
    return this.lastSeq;
  }

  mutate<T>(work: (mutation: Mutation) => Promise<T> | T): Promise<T> {
    const run = this.tail.then(() => this.commit(work));
    this.tail = run.catch(() => {});
    return run;
  }

  /** Called after every committed mutation with its changes, in seq order. */
  onChanges(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A secret generated on first use and kept in the store (e.g. the cursor signing key). */
  async secret(name: string): Promise<Buffer> {
    const stored = await this.storage.get<string>('meta', `secret:${name}`);
    if (stored) return Buffer.from(stored, 'base64url');
    return this.mutate(async (m) => {
      const again = await this.storage.get<string>('meta', `secret:${name}`);
      if (again) return Buffer.from(again, 'base64url');
      const value = randomBytes(32);
      m.put('meta', `secret:${name}`, value.toString('base64url'));
      return value;
    });
  }

  close(): Promise<void> {
    return this.tail.then(() => this.storage.close());
  }

  private async commit<T>(work: (mutation: Mutation) => Promise<T> | T): Promise<T> {
    const ops: WriteOp[] = [];
    const changes: Change[] = [];
    const now = this.clock();
    const result = await work({
      now,
      put: (section, key, value) => ops.push({ type: 'put', section, key, value }),
      del: (section, key) => ops.push({ type: 'del', section, key }),
      change: (input) => changes.push(withFields(input, { seq: this.lastSeq + changes.length + 1, time: now })),
    });
    for (const change of changes) {
      ops.push({ type: 'put', section: 'changes', key: seqKey(change.seq), value: change });
      for (const key of pathIndexKeys(change)) ops.push({ type: 'put', section: CHANGES_BY_PATH, key, value: change.seq });
    }
    await this.storage.write(ops);
    this.lastSeq += changes.length;
    if (changes.length) for (const listener of this.listeners) listener(changes);
    return result;
  }
}
