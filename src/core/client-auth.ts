/**
 * The client's side of tokens: which token goes in each connection's first frame, when to
 * refresh it on the open socket, and whether a close by the relay is a refusal (stop: calls
 * fail with `unauthorized` until `connect()`) or an expiry that a new token mends (reconnect).
 */
import { type AuthInfo, CLOSE_CODES, SyncError, timerAt } from '../protocol/index.js';

/** A token, or the function that fetches one (called before every connect and before `exp`). */
export type TokenSource = string | (() => string | Promise<string>);

/** Who the relay took this client for. */
export interface Identity {
  /** The token's user; `null` on a relay without auth. */
  user: string | null;
  /** When the token expires (ms since the epoch, the relay's clock); `null` if never. */
  expiresAt: number | null;
}

/** What the auth state asks of its connection. */
export interface AuthHooks {
  /** Sends a refreshed token on the open socket; resolves with the relay's answer (`null`: the socket went). */
  refresh(token: string): Promise<AuthInfo | null>;
  /** Reports a failure no call is waiting for (a refresh that failed: the connection stays up). */
  error(err: SyncError): void;
}

/** What a token function that threw or rejected comes to. */
const tokenFailed = (err: unknown) => new SyncError('unavailable', `the token function failed: ${err instanceof Error ? err.message : String(err)}`);

/** Refresh this long before expiry: a fifth of the lifetime, at least 1 s, at most a minute. */
function refreshMargin(expiresIn: number): number {
  return Math.min(60_000, Math.max(1_000, expiresIn / 5));
}

/** One client's tokens across its connections. */
export class ClientAuth {
  readonly #source: TokenSource | undefined;
  readonly #hooks: AuthHooks;
  /** The token fetched for the connection being dialled. */
  #next: string | undefined;
  #identity: Identity | undefined;
  /** Why the relay refused us: set, the client stops until `connect()`. */
  #refusal: SyncError | undefined;
  /** The relay said this socket's token expired (its close follows). */
  #expired: SyncError | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the current token expires, on this machine's clock. */
  #deadline = 0;
  /** Bumped per connection, so a refresh started on an old socket does nothing on a new one. */
  #generation = 0;
  /** The token function failed before the last dial, which therefore never went out. */
  dialError: SyncError | undefined;

  constructor(source: TokenSource | undefined, hooks: AuthHooks) {
    if (source !== undefined && typeof source !== 'string' && typeof source !== 'function') {
      throw new TypeError('token must be a string or a function returning one (or a promise of one)');
    }
    this.#source = source;
    this.#hooks = hooks;
  }

  get identity(): Identity | undefined {
    return this.#identity;
  }

  /** Why the relay refused this client's token, while it is refused. */
  get refusal(): SyncError | undefined {
    return this.#refusal;
  }

  /**
   * Called before each dial: a token function is asked again. When it fails, {@link dialError}
   * says why and this rejects (the dial is retried later); the connection reports it.
   */
  async prepare(): Promise<void> {
    this.dialError = undefined;
    if (typeof this.#source !== 'function') return;
    try {
      this.#next = await this.#source();
    } catch (err) {
      throw (this.dialError = tokenFailed(err));
    }
  }

  /** The first frame of a new connection. */
  helloFrame(rid: number): string {
    this.#generation++;
    this.#expired = undefined;
    const token = typeof this.#source === 'string' ? this.#source : this.#next;
    return JSON.stringify(token ? { type: 'auth', rid, token } : { type: 'auth', rid });
  }

  /** The relay welcomed the connection: remember who we are and plan the refresh. */
  welcomed(info: AuthInfo): void {
    this.#identity = { user: info.user, expiresAt: info.expiresAt };
    this.#schedule(info.expiresIn);
  }

  /** The relay refused the token in the first frame. */
  refused(err: SyncError): void {
    this.#refusal = err;
  }

  /** The relay says the token expired; the socket's close follows. */
  expired(err: SyncError): void {
    this.#expired = err;
  }

  /**
   * Whether to dial again after the relay closed the socket. A 4401 after an expiry is mended by
   * a fresh token when there is a function to ask; any other 4401 is a refusal.
   */
  shouldReconnect(code: number, reason: string): boolean {
    this.stop();
    if (code !== CLOSE_CODES.unauthorized) return true;
    if (this.#refusal) return false;
    if (this.#expired && typeof this.#source === 'function') return true;
    this.#refusal = this.#expired ?? new SyncError('unauthorized', `the relay refused the connection${reason ? `: ${reason}` : ''}`);
    return false;
  }

  /** Forgets a refusal (the app calls `connect()` again, for example after a new login). */
  reset(): void {
    this.#refusal = undefined;
  }

  /** Stops the refresh timer (the socket closed). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(expiresIn: number | null): void {
    this.stop();
    if (expiresIn === null || typeof this.#source !== 'function') return;
    this.#deadline = Date.now() + expiresIn;
    // Never sooner than half the lifetime, so a token function that hands out very short tokens
    // cannot make refreshes run back to back.
    const due = Date.now() + Math.max(expiresIn - refreshMargin(expiresIn), expiresIn / 2);
    const generation = this.#generation;
    timerAt(due, () => void this.#refresh(generation), (timer) => (this.#timer = timer));
  }

  async #refresh(generation: number): Promise<void> {
    try {
      const token = await (this.#source as () => string | Promise<string>)();
      if (generation !== this.#generation) return;
      const info = await this.#hooks.refresh(token);
      if (info && generation === this.#generation) this.welcomed(info);
    } catch (err) {
      if (generation !== this.#generation) return;
      this.#hooks.error(err instanceof SyncError ? err : tokenFailed(err));
      // Try again while the token lasts; once it expires the relay closes and a reconnect asks anew.
      const left = this.#deadline - Date.now();
      if (left > 1_000) this.#timer = setTimeout(() => void this.#refresh(generation), Math.min(5_000, left / 2));
    }
  }
}
