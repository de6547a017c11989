import { randomBytes } from 'node:crypto';
import { Secrets } from '../secrets/secrets.js';
import { withStoredData } from './change-feed.js';
import { CHANGES_BY_PATH, pathIndexKeys, seqKey, storedChange, type Change, type ChangeInput } from './changes.js';
import { migrate, migrations, type BeforeMigration, type Migration } from './migrations.js';
import { isShared, stagingOf, type Storage, type Transaction, type WriteOp, type WriteStaging } from './storage.js';
import { withFields } from './with-fields.js';

export type Clock = () => number;

/** What a mutation may do: stage writes and the changes they make, all committed in one batch. */
export interface Mutation extends WriteStaging {
  /** The time of this mutation, shared by every record it writes. */
  readonly now: number;
  change(change: ChangeInput): void;
}

export type ChangeListener = (changes: Change[]) => void;

/**
 * The store: reads go straight to storage; writes go through `mutate`, which runs one at a time
 * in this process so a read-modify-write never interleaves with another, gives each change the
 * next `seq` and commits data, indexes and change records in a single atomic batch.
 *
 * On a shared storage (PostgreSQL, several instances) each mutation is also one transaction whose
 * reads see one snapshot and which runs again when it conflicts with another instance's; the seqs
 * come from the database. Listeners get every change in seq order, whichever instance made it:
 * a commit elsewhere is announced with its last seq, and the feed is read from the last one seen.
 */
export class Store {
  private tail: Promise<unknown> = Promise.resolve();
  /** Deliveries to the listeners, one after another so that they stay in seq order. */
  private delivery: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<ChangeListener>();
  /** Seals and opens secret values; locked (every use a `secrets_locked` error) until the start gives it a key. */
  secrets = new Secrets(undefined, undefined);
  private stopFollowing = () => {};

  private constructor(
    readonly storage: Storage,
    readonly clock: Clock,
    /** The last seq delivered to the listeners (on LevelDB, also the last one written). */
    private lastSeq: number,
  ) {}

  static async open(storage: Storage, clock: Clock = Date.now, options: { migrations?: Migration[]; beforeMigration?: BeforeMigration } = {}): Promise<Store> {
    const upgrade = () => migrate(storage, options.migrations ?? migrations, options.beforeMigration);
    // Instances starting together on one database migrate one after the other: the later ones find the work done.
    await (isShared(storage) ? storage.exclusive(upgrade) : upgrade());
    let lastSeq = 0;
    for await (const key of storage.keys('changes', { reverse: true, limit: 1 })) lastSeq = Number(key);
    if (!isShared(storage)) return new Store(storage, clock, lastSeq);
    // A feed copied in from elsewhere moves the counter past its seqs.
    await storage.adoptSeq(lastSeq);
    const store = new Store(storage, clock, await storage.lastSeq());
    store.stopFollowing = storage.onCommitted((seq) => void store.catchUp(seq));
    return store;
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

  async close(): Promise<void> {
    await this.tail;
    this.stopFollowing();
    await this.delivery;
    await this.storage.close();
  }

  private async commit<T>(work: (mutation: Mutation) => Promise<T> | T): Promise<T> {
    const storage = this.storage;
    if (!isShared(storage)) {
      const { result, changes } = await this.run(work, { write: (ops) => storage.write(ops), claimSeqs: async () => this.lastSeq + 1 });
      this.lastSeq += changes.length;
      if (changes.length) this.emit(changes);
      return result;
    }
    const { result, changes } = await storage.transaction((tx) => this.run(work, tx));
    if (changes.length) await this.catchUp(changes[changes.length - 1].seq, changes);
    return result;
  }

  private async run<T>(work: (mutation: Mutation) => Promise<T> | T, tx: Transaction): Promise<{ result: T; changes: Change[] }> {
    const ops: WriteOp[] = [];
    const inputs: ChangeInput[] = [];
    const now = this.clock();
    const result = await work({
      now,
      ...stagingOf(ops),
      change: (input) => inputs.push(input),
    });
    const first = inputs.length ? await tx.claimSeqs(inputs.length) : 0;
    const changes = inputs.map((input, i) => withFields(input, { seq: first + i, time: now }));
    for (const change of changes) {
      ops.push({ type: 'put', section: 'changes', key: seqKey(change.seq), value: storedChange(change) });
      for (const key of pathIndexKeys(change)) ops.push({ type: 'put', section: CHANGES_BY_PATH, key, value: change.seq });
    }
    await tx.write(ops);
    return { result, changes };
  }

  private emit(changes: Change[]): void {
    for (const listener of this.listeners) listener(changes);
  }

  /**
   * Delivers every change up to `target` not delivered yet: `own` (this instance's commit) as it
   * is when it follows the last one delivered, otherwise read from the feed. A read that fails (the
   * database out of reach) leaves the rest for the next announcement; every reconnect makes one.
   */
  private catchUp(target: number, own: Change[] = []): Promise<void> {
    const run = this.delivery.then(async () => {
      if (target <= this.lastSeq) return;
      if (own.length && own[0].seq === this.lastSeq + 1) {
        this.lastSeq = target;
        this.emit(own);
        return;
      }
      let batch: Change[] = [];
      for await (const [, change] of this.storage.entries<Change>('changes', { gt: seqKey(this.lastSeq), lte: seqKey(target) })) {
        batch.push(change);
        if (batch.length === CATCH_UP_BATCH) {
          const completed = await withStoredData(this.storage, batch);
          this.lastSeq = change.seq;
          this.emit(completed);
          batch = [];
        }
      }
      if (batch.length) this.emit(await withStoredData(this.storage, batch));
      this.lastSeq = target;
    });
    this.delivery = run.catch(() => {});
    return this.delivery;
  }
}

/** Changes handed to the listeners at once while catching up. */
const CATCH_UP_BATCH = 256;
