/**
 * A document's local writes: pending (shown at once, on top of the confirmed state), one in
 * flight at a time (so each is built against the latest confirmed state), retried when the relay
 * says `rate_limited` or, for `update`, `conflict`, and rolled back alone when refused.
 */
import { type SyncDocument, type SyncError, asSyncError } from '../protocol/index.js';
import type { Confirmed } from './document-state.js';
import type { BuiltRequest, PendingMutation } from './pending-mutation.js';

/** What the queue needs from its document. */
export interface WriteHost {
  readonly service: string;
  readonly id: string;
  /** The state writes are built on; none while the document is not loaded. */
  base(): Confirmed | undefined;
  /** Sends a built write (resent across reconnects until answered). */
  send(request: NonNullable<BuiltRequest>): Promise<unknown>;
  /** The relay answered a write (`doc`: its document, none for a delete). */
  acked(p: PendingMutation, doc: SyncDocument | undefined): void;
  /** Catches up until the confirmed revision is at least `revision` (before an `update` re-runs). */
  reach(revision: number): Promise<void>;
  /**
   * A write is retried, or left the queue refused (rejected already): for the log, `onError`
   * listeners, and the document, which the relay's error may say moved on.
   */
  note(p: PendingMutation, what: 'retry' | 'rollback', err: SyncError): void;
  /** The visible state may have changed. */
  changed(): void;
}

/**
 * How often a write that timed out is sent again before it fails with `timeout` ("may have been
 * applied"; the document then catches up to show whether it was).
 */
const RESENDS = 3;

/** The writes of one document. */
export class WriteQueue {
  /** Pending writes, oldest first; the one in flight stays here until answered. */
  readonly items: PendingMutation[] = [];
  #inflight: PendingMutation | undefined;
  /** Writes an earlier page left: they go first, in the order they were added. */
  readonly #restored = new WeakSet<PendingMutation>();

  constructor(readonly host: WriteHost) {}

  /** Whether a write is waiting or in flight. */
  get busy(): boolean {
    return this.items.length > 0;
  }

  /** Adds a write (at the front: one saved by an earlier page, which came first). */
  add(p: PendingMutation, first?: boolean): void {
    if (first) {
      // After the write in flight and the earlier page's writes added before this one.
      let i = this.#inflight ? 1 : 0;
      while (i < this.items.length && this.#restored.has(this.items[i]!)) i++;
      this.#restored.add(p);
      this.items.splice(i, 0, p);
    } else this.items.push(p);
    this.host.changed();
    this.pump();
  }

  /** Takes a write out (when it is there). */
  remove(p: PendingMutation | undefined): void {
    const i = p ? this.items.indexOf(p) : -1;
    if (i >= 0) this.items.splice(i, 1);
  }

  /** Our own write came back as an event: it is part of the confirmed state now. */
  echoed(mutationId: string): void {
    this.remove(this.items.find((p) => p.mutationId === mutationId));
  }

  /**
   * Fails every write but those `keep` accepts (they stay, in flight or waiting); returns the
   * others.
   * The write in flight has left the list already when its event came back before its
   * answer: not answered, it fails too.
   */
  rejectAll(err: SyncError, keep: (p: PendingMutation) => boolean = () => false): PendingMutation[] {
    const inflight = this.#inflight;
    const all = inflight && !this.items.includes(inflight) ? [inflight, ...this.items] : [...this.items];
    const failed = all.filter((p) => !keep(p));
    for (const p of failed) this.remove(p);
    if (inflight && failed.includes(inflight)) this.#inflight = undefined;
    for (const p of failed) p.reject(err);
    return failed;
  }

  /** Sends the next write when none is in flight. */
  pump(): void {
    const base = this.host.base();
    const p = this.items[0];
    if (this.#inflight || !base || !p) return;
    let request: BuiltRequest;
    try {
      request = p.build(base.data, base.revision, base.incarnation);
    } catch (err) {
      return this.#rollback(p, asSyncError(err));
    }
    if (request === null) {
      // Nothing to change: done without a round trip, with the document as it is.
      this.items.shift();
      const { service, id } = this.host;
      p.resolve({ service, id, revision: base.revision, data: base.data, createdAt: 0, updatedAt: 0, incarnation: base.incarnation ?? '' });
      this.host.changed();
      return this.pump();
    }
    this.#inflight = p;
    this.host.send(request).then(
      (doc) => {
        if (this.#inflight !== p) return; // dropped meanwhile (the document went)
        this.#inflight = undefined;
        this.remove(p);
        this.host.acked(p, (doc as SyncDocument | null) ?? undefined);
        p.resolve((doc as SyncDocument | null) ?? undefined);
        this.pump();
      },
      (err: unknown) => void this.#failed(p, asSyncError(err)),
    );
  }

  async #failed(p: PendingMutation, err: SyncError): Promise<void> {
    if (this.#inflight !== p) return;
    // Over the relay's write rate: not refused, only early. No answer in time: it may have been
    // applied, or not. Either way it goes again with its mutation id, which the relay applies once.
    const again = (err.code === 'rate_limited' && err.retryAfterMs !== undefined) || (err.code === 'timeout' && p.resends++ < RESENDS);
    if (again || (p.kind === 'update' && err.code === 'conflict' && p.retriesLeft > 0)) {
      this.host.note(p, 'retry', err);
      // A conflicting update re-runs its recipe on the latest state, after catching up to the
      // revision the relay named.
      if (again) await new Promise((resolve) => setTimeout(resolve, err.retryAfterMs ?? 0));
      else {
        p.retriesLeft -= 1;
        await this.host.reach(err.revision ?? (this.host.base()?.revision ?? 0) + 1);
      }
      if (this.#inflight !== p) return;
      this.#inflight = undefined;
      return this.pump();
    }
    this.#inflight = undefined;
    this.#rollback(p, err);
    this.pump();
  }

  #rollback(p: PendingMutation, err: SyncError): void {
    this.remove(p);
    p.reject(err);
    this.host.note(p, 'rollback', err);
    this.host.changed();
  }
}
