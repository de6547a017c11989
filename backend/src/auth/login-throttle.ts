import type { Clock } from '../store/store.js';
import { RateLimiter } from './rate-limit.js';

/** Above this many remembered user names or sign-ins, the oldest are forgotten so memory stays bounded. */
const rememberAtMost = 10_000;

export interface LoginThrottleOptions {
  clock: Clock;
  /** Failures of one user name from one address per window before that pair is refused. */
  failuresPerAddress: number;
  windowMs: number;
  /** Failures of one user name, from any address, before its growing delay starts. */
  freeFailures: number;
  /** The first delay; each further failure doubles it, up to `maxDelayMs`. */
  firstDelayMs: number;
  maxDelayMs: number;
  /** How long an address that signed in as a user name stays exempt from that name's delay. */
  trustMs: number;
}

/** Whether the client is on the store's own machine. */
export function isLoopbackAddress(address: string): boolean {
  return address === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/i.test(address);
}

/** Deletes the oldest insertions beyond `rememberAtMost` (a Map iterates in insertion order). */
function forgetOldest(map: Map<string, unknown>): void {
  for (const key of map.keys()) {
    if (map.size <= rememberAtMost) return;
    map.delete(key);
  }
}

/**
 * Password guessing limits that slow an attacker without locking the account's owner out. No
 * limit here is one that someone else's failures can close for the owner's own address:
 * - one user name from one address: `failuresPerAddress` failures per window, then 429 for that
 *   pair only (the attacker's);
 * - one user name from anywhere: after `freeFailures` failures, each further try must wait a
 *   delay that doubles with every failure (capped), except from an address that signed in as
 *   that name recently and for an admin on loopback (the store's operator at its machine).
 * Every attempt per address is counted separately, before the body is read (attempts.ts).
 */
export class LoginThrottle {
  private readonly pairs: RateLimiter;
  private readonly names = new Map<string, { failures: number; last: number }>();
  /** `<name>\0<address>` -> the time of the last sign-in from there. */
  private readonly trusted = new Map<string, number>();

  constructor(private readonly options: LoginThrottleOptions) {
    this.pairs = new RateLimiter({ limit: options.failuresPerAddress, windowMs: options.windowMs, clock: options.clock });
  }

  /**
   * Seconds to wait before this attempt may be checked, or undefined when it may go on.
   * `loopbackAdmin`: the user name is an admin's and the client is on loopback.
   */
  wait(name: string, address: string, loopbackAdmin: boolean): number | undefined {
    const pairWait = this.pairs.wait(`${name}\0${address}`);
    if (pairWait !== undefined || loopbackAdmin || this.isTrusted(name, address)) return pairWait;
    const now = this.options.clock();
    const state = this.current(name, now);
    const free = now - (state.last + this.delayAfter(state.failures));
    return free >= 0 ? undefined : Math.max(1, Math.ceil(-free / 1000));
  }

  failed(name: string, address: string): void {
    this.pairs.hit(`${name}\0${address}`);
    const now = this.options.clock();
    const state = this.current(name, now);
    this.names.delete(name);
    this.names.set(name, { failures: state.failures + 1, last: now });
    forgetOldest(this.names);
  }

  succeeded(name: string, address: string): void {
    const key = `${name}\0${address}`;
    this.trusted.delete(key);
    this.trusted.set(key, this.options.clock());
    forgetOldest(this.trusted);
  }

  private isTrusted(name: string, address: string): boolean {
    const since = this.trusted.get(`${name}\0${address}`);
    return since !== undefined && this.options.clock() - since < this.options.trustMs;
  }

  /** A name's failures, forgotten after a window without any. */
  private current(name: string, now: number): { failures: number; last: number } {
    const state = this.names.get(name);
    return state && now - state.last < this.options.windowMs ? state : { failures: 0, last: now };
  }

  private delayAfter(failures: number): number {
    const { freeFailures, firstDelayMs, maxDelayMs } = this.options;
    return failures < freeFailures ? 0 : Math.min(maxDelayMs, firstDelayMs * 2 ** (failures - freeFailures));
  }
}
