import { configSchema, type StoreConfigInput } from '../backend/src/config.js';
import { backendMessageSchema, type StartKeys } from '../backend/src/process/messages.js';
import type { KeyRingJson } from '../backend/src/secrets/key-ring.js';
import type { LanStatus } from '../preload/api.js';
import type { BackendProcess, ForkBackend } from './backend-process.js';
import { systemClock, type Clock } from './clock.js';
import { defaultRestartPolicy, restartDelay, type RestartPolicy } from './restart-policy.js';

export type StoreStatus = 'starting' | 'running' | 'restarting' | 'error' | 'stopping' | 'stopped';

export interface SupervisorState {
  status: StoreStatus;
  /** The loopback port, while running. */
  port?: number;
  /** Why the backend last failed; in `error`, why the supervisor gave up. */
  error?: string;
  lan: LanStatus;
  /** What the running backend said the user must hear (a data key that does not open its secrets). */
  warnings?: string[];
}

/** `stopped`: the backend confirmed it closed the store; `killed`: it had to be killed. */
export type StopResult = 'stopped' | 'killed';

/** Whether the user wants LAN sharing, and on which port teammates were told it is. */
export interface LanChoice {
  enabled: boolean;
  /** Reused when sharing is switched on again, so an address given out with an invite stays valid. */
  port?: number;
}

export interface SupervisorOptions {
  fork: ForkBackend;
  /** The choice to start with (the one kept from the last run); off by default. */
  lan?: LanChoice;
  /** Called whenever the choice changes, to keep it for the next run. */
  onLanChoice?: (choice: LanChoice) => void;
  /** Sent in every `start` message (the launch token is in it). */
  config: StoreConfigInput;
  /** The data key, sent in every `start` message beside the config (see main/data-key.ts). */
  keys?: StartKeys;
  /** Keeps a key ring a rotation made (in the OS keychain); without it the backend cannot rotate its key. */
  saveKeys?: (ring: KeyRingJson) => Promise<void>;
  clock?: Clock;
  restartPolicy?: RestartPolicy;
  /** How long the backend may take to answer `start` with `ready` before it counts as crashed. */
  startTimeoutMs?: number;
  /** How long the backend may take to stop after `shutdown` before it is killed. */
  stopTimeoutMs?: number;
}

interface Child {
  process: BackendProcess;
  exited: Promise<void>;
  startTimer?: unknown;
  fatal?: string;
  saidStopped: boolean;
}

const lanOff: LanStatus = { enabled: false };

/**
 * Keeps one backend process running: starts it, restarts it with a growing delay when it dies
 * unexpectedly, gives up after repeated crashes, and stops it on request.
 */
export class Supervisor {
  #state: SupervisorState = { status: 'stopped', lan: lanOff };
  #child?: Child;
  #crashTimes: number[] = [];
  #restartTimer?: unknown;
  #lanWanted: LanChoice;
  #keys?: StartKeys;
  #stopping?: Promise<StopResult>;
  readonly #listeners = new Set<(state: SupervisorState) => void>();
  readonly #clock: Clock;
  readonly #policy: RestartPolicy;

  constructor(private readonly options: SupervisorOptions) {
    // A config the backend would refuse is a bug here, not a reason for a crash loop there.
    configSchema.parse(options.config);
    this.#clock = options.clock ?? systemClock;
    this.#policy = options.restartPolicy ?? defaultRestartPolicy;
    this.#lanWanted = options.lan ?? { enabled: false };
    this.#keys = options.keys;
  }

  get state(): SupervisorState {
    return this.#state;
  }

  /** Calls `listener` after every state change; returns a function that unsubscribes. */
  onChange(listener: (state: SupervisorState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Starts the backend; also the way to try again after the supervisor gave up. */
  start(): void {
    if (this.#child || this.#restartTimer !== undefined) return;
    this.#stopping = undefined;
    this.#crashTimes = [];
    this.#launch();
  }

  /** Asks for LAN sharing on or off; remembered across restarts. The answer arrives as state. */
  setLan(enabled: boolean): void {
    this.#chooseLan({ ...this.#lanWanted, enabled });
    if (this.#state.status === 'running') this.#sendLan(this.#child);
  }

  #chooseLan(choice: LanChoice): void {
    this.#lanWanted = choice;
    this.options.onLanChoice?.(choice);
  }

  #sendLan(child: Child | undefined): void {
    const { enabled, port } = this.#lanWanted;
    child?.process.send(enabled && port !== undefined ? { type: 'lan', enabled, port } : { type: 'lan', enabled });
  }

  /** `shutdown`, then wait for the process to exit; kill it if that takes too long. */
  stop(): Promise<StopResult> {
    return (this.#stopping ??= this.#stop());
  }

  async #stop(): Promise<StopResult> {
    if (this.#restartTimer !== undefined) {
      this.#clock.clearTimeout(this.#restartTimer);
      this.#restartTimer = undefined;
    }
    const child = this.#child;
    if (!child) {
      this.#update({ status: 'stopped', port: undefined, lan: lanOff });
      return 'stopped';
    }
    this.#clock.clearTimeout(child.startTimer);
    this.#update({ status: 'stopping' });
    child.process.send({ type: 'shutdown' });
    const killTimer = this.#clock.setTimeout(() => child.process.kill(), this.options.stopTimeoutMs ?? 5000);
    await child.exited;
    this.#clock.clearTimeout(killTimer);
    return child.saidStopped ? 'stopped' : 'killed';
  }

  /**
   * Forks a new backend. Only ever called when no backend process is alive (at start, or from
   * the restart timer set after the previous one exited), so the LevelDB lock is free.
   */
  #launch(): void {
    this.#restartTimer = undefined;
    const process = this.options.fork();
    let markExited!: () => void;
    const child: Child = { process, saidStopped: false, exited: new Promise((resolve) => (markExited = resolve)) };
    this.#child = child;
    process.onMessage((data) => this.#onMessage(child, data));
    process.onExit((code) => {
      markExited();
      this.#onExit(child, code);
    });
    const startTimeoutMs = this.options.startTimeoutMs ?? 30_000;
    child.startTimer = this.#clock.setTimeout(() => {
      child.fatal = `The store did not start within ${startTimeoutMs / 1000} s.`;
      process.kill();
    }, startTimeoutMs);
    this.#update({ status: 'starting', port: undefined, lan: lanOff });
    process.send({ type: 'start', config: this.options.config, ...(this.#keys ? { keys: this.#keys } : {}) });
  }

  #onMessage(child: Child, data: unknown): void {
    const parsed = backendMessageSchema.safeParse(data);
    if (!parsed.success || child !== this.#child) return;
    const message = parsed.data;
    switch (message.type) {
      case 'ready':
        if (this.#state.status !== 'starting') return;
        this.#clock.clearTimeout(child.startTimer);
        this.#update({ status: 'running', port: message.port, error: undefined, warnings: message.warnings, lan: message.lan ? { enabled: true, ...message.lan } : lanOff });
        if (this.#lanWanted.enabled && !message.lan) this.#sendLan(child);
        return;
      case 'lan-status': {
        const { type: _type, ...lan } = message;
        const port = lan.url ? Number(new URL(lan.url).port) : undefined;
        if (lan.enabled && this.#lanWanted.enabled && port !== this.#lanWanted.port) this.#chooseLan({ enabled: true, port });
        else if (lan.error && this.#lanWanted.enabled && this.#lanWanted.port !== undefined) {
          // The port teammates knew is taken now: share on any free one (the tray shows the new address).
          this.#chooseLan({ enabled: true });
          this.#sendLan(child);
        }
        this.#update({ lan });
        return;
      }
      case 'fatal':
        child.fatal = message.message;
        return;
      case 'stopped':
        child.saidStopped = true;
        return;
      case 'key-ring':
        void this.#saveKeys(child, message.id, message.ring);
        return;
    }
  }

  /** Keeps a rotation's key ring, and sends it in the next `start` too, before the backend may use it. */
  async #saveKeys(child: Child, id: number, ring: KeyRingJson): Promise<void> {
    const { saveKeys } = this.options;
    try {
      if (!saveKeys || !this.#keys) throw new Error('this app does not keep data keys');
      await saveKeys(ring);
      this.#keys = { ...this.#keys, ring, problem: undefined };
      child.process.send({ type: 'key-ring-saved', id });
    } catch (error) {
      child.process.send({ type: 'key-ring-saved', id, error: (error as Error).message });
    }
  }

  #onExit(child: Child, code: number | null): void {
    if (child !== this.#child) return;
    this.#child = undefined;
    this.#clock.clearTimeout(child.startTimer);
    if (this.#stopping) {
      this.#update({ status: 'stopped', port: undefined, lan: lanOff });
      return;
    }
    const reason = child.fatal ?? `The store exited unexpectedly (exit code ${code ?? 'none'}).`;
    const now = this.#clock.now();
    this.#crashTimes.push(now);
    const delay = restartDelay(this.#crashTimes, now, this.#policy);
    if (delay === undefined) {
      this.#update({ status: 'error', port: undefined, lan: lanOff, error: `The store failed repeatedly and was not restarted. Last error: ${reason}` });
      return;
    }
    this.#restartTimer = this.#clock.setTimeout(() => this.#launch(), delay);
    this.#update({ status: 'restarting', port: undefined, lan: lanOff, error: reason });
  }

  #update(change: Partial<SupervisorState>): void {
    this.#state = { ...this.#state, ...change };
    for (const listener of this.#listeners) listener(this.#state);
  }
}
