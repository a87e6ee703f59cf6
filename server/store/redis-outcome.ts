/**
 * Honest outcomes for Redis writes (SPEC "Durable client"): `unavailable` means "certainly not
 * applied", so a write script that may have run before Redis failed is never answered with it.
 *
 * ioredis cannot tell the two cases apart by error. A command still in its offline queue (never
 * sent) and one written to a socket that then dropped are both rejected with
 * MaxRetriesPerRequestError once `maxRetriesPerRequest` reconnects failed: on a drop it keeps the
 * sent commands for a resend, but in the very queue that the retry limit flushes. So this file
 * tracks it: a write sent while the connection was `ready`, or queued across a `ready` (when
 * ioredis sent its offline queue), may have run. Such a write is sent again with the same
 * mutation id once Redis is back (the write scripts answer a remembered id with the write's first
 * result, see lua/write-begin.lua), and answered `timeout` ("may have been applied") if Redis is
 * not back within {@link UNKNOWN_OUTCOME_LIMIT_MS}.
 */
import { type Redis, ReplyError } from 'ioredis';
import { SyncError } from '../../src/protocol/index.js';

/** How long a write whose outcome is unknown is retried before it is answered `timeout`. */
export const UNKNOWN_OUTCOME_LIMIT_MS = 10_000;

/**
 * Relay-made mutation ids start with this character, which client ids cannot contain (they match
 * `[A-Za-z0-9_-]`): they never collide with a client's, and the write script leaves them out of
 * what clients see (the change log, the event; see lua/write-finish.lua), as for a write sent
 * without a mutation id.
 */
const RELAY_MUTATION_ID_MARK = '~';

/** Makes the mutation ids the relay gives writes sent without one, so that a retry is safe. */
export function relayMutationIds(instance: string): () => string {
  let n = 0;
  return () => `${RELAY_MUTATION_ID_MARK}${instance}.${(n++).toString(36)}`;
}

/** Redis answers that mean "not now" (failover, loading, busy script, memory): the command did not run. */
export const TRANSIENT = /^(READONLY|LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|OOM|NOREPLICAS)\b/;

/** Retries write scripts whose outcome a Redis failure left unknown; see the file comment. */
export class WriteOutcomes {
  /** How many times the connection became ready: a command queued before a change was sent. */
  private readies = 0;
  private waiting: { promise: Promise<boolean>; settle: (ready: boolean) => void } | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly limitMs = UNKNOWN_OUTCOME_LIMIT_MS,
  ) {
    redis.on('ready', () => {
      this.readies++;
      this.wake(true);
    });
    redis.on('end', () => this.wake(false));
  }

  /**
   * Runs `send` (one write script with a mutation id) and resolves with its reply. Rejects with
   * Redis's own error when the script certainly did not run (never sent, or refused), and with
   * `timeout` when it may have run and Redis did not answer a resend in time.
   */
  async write<T>(send: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.limitMs;
    let mayHaveRun = false;
    for (;;) {
      const sentAtOnce = this.redis.status === 'ready';
      const readies = this.readies;
      try {
        // Every attempt is bounded by the deadline: a frozen Redis (or one that accepts the
        // connection and never gets ready) fails nothing, and its command may still run later.
        return await beforeDeadline(send(), deadline, this.limitMs);
      } catch (err) {
        if (err instanceof ReplyError) {
          // Redis answered, so this attempt did not run; after one that may have, a "not now" is waited out.
          if (!(mayHaveRun && TRANSIENT.test((err as Error).message))) throw mayHaveRun ? unknownOutcome(this.limitMs, err) : err;
        } else if (err instanceof SyncError) {
          throw err;
        } else {
          mayHaveRun ||= sentAtOnce || this.readies !== readies;
          if (!mayHaveRun) throw err;
        }
        if (!(await this.back(deadline))) throw unknownOutcome(this.limitMs, err);
      }
    }
  }

  /** Resolves true once the connection is ready for a resend, false if not before `deadline`. */
  private async back(deadline: number): Promise<boolean> {
    if (this.redis.status === 'end') return false; // closed on purpose: nothing comes back
    const left = deadline - Date.now();
    if (left <= 0) return false;
    // Ready again (ioredis reconnected, or Redis refused with LOADING and the like): resend after
    // a short pause, so that a Redis failing every command is not hammered.
    if (this.redis.status === 'ready') {
      await new Promise((resolve) => setTimeout(resolve, Math.min(100, left)));
      return true;
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), left)));
    return Promise.race([this.nextReady(), late]).finally(() => clearTimeout(timer));
  }

  /** One promise for every waiting write (not a listener each): true on `ready`, false on `end`. */
  private nextReady(): Promise<boolean> {
    if (!this.waiting) {
      let settle!: (ready: boolean) => void;
      const promise = new Promise<boolean>((resolve) => (settle = resolve));
      this.waiting = { promise, settle };
    }
    return this.waiting.promise;
  }

  private wake(ready: boolean): void {
    this.waiting?.settle(ready);
    this.waiting = undefined;
  }
}

/** The answer to a write that may have been applied and that Redis did not confirm in time. */
function unknownOutcome(limitMs: number, cause: unknown): SyncError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new SyncError(
    'timeout',
    `Redis did not confirm this write within ${limitMs / 1000} s (${why}): ` +
      'the write may have been applied; resend it with the same mutationId to learn its outcome',
  );
}

/** `attempt`, or `timeout` once `deadline` passes first (the attempt may still complete). */
function beforeDeadline<T>(attempt: Promise<T>, deadline: number, limitMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(unknownOutcome(limitMs, new Error('no answer'))), Math.max(0, deadline - Date.now()));
  });
  attempt.catch(() => {}); // a late failure after the deadline is nobody's to handle
  return Promise.race([attempt, late]).finally(() => clearTimeout(timer));
}
