/**
 * What one connection may cost the relay: writes and frames per second (token buckets),
 * subscriptions, connections per user, and the time allowed to authenticate. Every refusal is
 * a typed error and is counted in {@link Refusals}.
 */
import { SyncError } from '../src/protocol/index.js';

/** Per-connection and per-user limits of a relay. */
export interface ConnectionLimits {
  /** Writes a connection may make per second, sustained (token bucket). Default 100. */
  writesPerSecond: number;
  /** Writes a connection may make at once after being idle. Default 200. */
  writeBurst: number;
  /** Frames of any kind a connection may send per second, sustained. Default 500. */
  framesPerSecond: number;
  /** Frames a connection may send at once (a reconnect resubscribes everything). Default 2000. */
  frameBurst: number;
  /** Frame-rate refusals after which a socket is closed as flooding (1008). Default 10. */
  maxRateRefusals: number;
  /** Subscriptions one connection may hold. Default 1000. */
  maxSubscriptions: number;
  /** Open connections one user (a token's `sub`) may hold across this relay. Default 100. */
  maxConnectionsPerUser: number;
  /** Time a socket has to present a valid token on a relay with auth, in ms. Default 5000. */
  authTimeoutMs: number;
}

/** Defaults for {@link ConnectionLimits}. */
export const DEFAULT_CONNECTION_LIMITS: Readonly<ConnectionLimits> = {
  writesPerSecond: 100,
  writeBurst: 200,
  framesPerSecond: 500,
  frameBurst: 2000,
  maxRateRefusals: 10,
  maxSubscriptions: 1000,
  maxConnectionsPerUser: 100,
  authTimeoutMs: 5000,
};

/** Checks limit options; throws a plain Error naming the bad one (a configuration fault). */
export function checkConnectionLimits(limits: Partial<ConnectionLimits> | undefined): ConnectionLimits {
  const out = { ...DEFAULT_CONNECTION_LIMITS, ...limits };
  for (const key of Object.keys(DEFAULT_CONNECTION_LIMITS) as Array<keyof ConnectionLimits>) {
    const v = out[key];
    if (typeof v !== 'number' || !(v > 0)) throw new Error(`limits.${key} must be a positive number, got ${String(v)}`);
  }
  return out;
}

/**
 * A token bucket: `rate` tokens a second, up to `burst` held. {@link take} spends one, or says
 * how long until one is there. Refilled lazily from the clock, so an idle bucket costs nothing.
 */
export class TokenBucket {
  #tokens: number;
  #at = performance.now();

  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {
    this.#tokens = burst;
  }

  /** Spends a token: 0 when there was one, else the ms until there will be. */
  take(): number {
    const now = performance.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#at) * this.rate) / 1000);
    this.#at = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.#tokens) * 1000) / this.rate);
  }
}

/** A `rate_limited` error, with the wait when one is known. */
export function rateLimited(message: string, retryAfterMs?: number): SyncError {
  return new SyncError('rate_limited', message, retryAfterMs === undefined ? undefined : { retryAfterMs });
}

/** Why the relay refused something. */
export type RefusalReason =
  | 'unauthorized'
  | 'auth_timeout'
  | 'token_expired'
  | 'forbidden'
  | 'origin'
  | 'write_rate'
  | 'frame_rate'
  | 'flood'
  | 'subscriptions'
  | 'connections_per_user';

/** Counts of refusals by reason, since the relay started. */
export class Refusals {
  readonly #counts = new Map<RefusalReason, number>();

  count(reason: RefusalReason): void {
    this.#counts.set(reason, (this.#counts.get(reason) ?? 0) + 1);
  }

  /** The counts so far, every reason present. */
  snapshot(): Record<RefusalReason, number> {
    const out = {} as Record<RefusalReason, number>;
    for (const r of REASONS) out[r] = this.#counts.get(r) ?? 0;
    return out;
  }
}

const REASONS: readonly RefusalReason[] = [
  'unauthorized',
  'auth_timeout',
  'token_expired',
  'forbidden',
  'origin',
  'write_rate',
  'frame_rate',
  'flood',
  'subscriptions',
  'connections_per_user',
];

/** Open connections per user across one relay. */
export class UserConnections {
  readonly #open = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** Takes a place for `user`; false when the user already holds the most allowed. */
  admit(user: string): boolean {
    const n = this.#open.get(user) ?? 0;
    if (n >= this.max) return false;
    this.#open.set(user, n + 1);
    return true;
  }

  /** Gives a place back. */
  release(user: string): void {
    const n = (this.#open.get(user) ?? 1) - 1;
    if (n <= 0) this.#open.delete(user);
    else this.#open.set(user, n);
  }
}
