/**
 * One document in the client cache: the confirmed server state (revision + frozen data), the
 * queue of local writes on top of it, and the snapshot readers see. Incoming diffs are applied
 * in revision order with Immer; a gap triggers catch-up. Local writes go out one at a time, so
 * each `update` is built against the latest confirmed state; a failed write is dropped from the
 * queue (rolled back) while the others stay, re-applied on the new confirmed state.
 */
import {
  type CatchUpResult,
  type ChangeRecord,
  type JsonObject,
  type SyncDocument,
  type SyncEvent,
  type SyncError,
  applyDiff,
  asSyncError,
} from '../protocol/index.js';
import { ActivityLog } from './activity-log.js';
import type { DocumentTransport } from './document-transport.js';
import type { MutationKind, PendingMutation } from './pending-mutation.js';
import { callSafely } from './emitter.js';
import type { RequestOptions } from './connection.js';
import { replaceEqualDeep } from './structural-sharing.js';

/** Where a document stands, as hooks show it. */
export type DocumentStatus = 'loading' | 'ready' | 'not-found' | 'deleted' | 'error';

/**
 * What readers see; the same object until something visible changes. A union on `status`:
 * `data` and `revision` are there exactly when the document is (`ready`, which it stays while
 * reconnecting and catching up); `deleted` keeps the revision it was deleted at, if it had
 * loaded; `error` always has its error.
 */
export type DocumentSnapshot<T = Record<string, unknown>> =
  | SnapshotOf<'loading', undefined, undefined>
  | SnapshotOf<'ready', T, number>
  | SnapshotOf<'not-found', undefined, undefined>
  | SnapshotOf<'deleted', undefined, number | undefined>
  | SnapshotOf<'error', undefined, undefined, SyncError>;

/** The fields of a snapshot in one status. */
interface SnapshotOf<S extends DocumentStatus, T, R, E = SyncError | undefined> {
  /** `loading` until the first answer; `ready` with data; `not-found`, `deleted` or `error`. */
  status: S;
  /** The visible data: the confirmed state with pending local writes applied. */
  data: T;
  /** The confirmed server revision the visible data is based on. */
  revision: R;
  /** Local writes not yet acknowledged. */
  pending: number;
  /** The error behind `status: 'error'` (or `not-found`: the relay's `not_found`). */
  error: E;
}

interface Confirmed {
  revision: number;
  data: JsonObject;
  deleted: boolean;
}

/** A write that failed (rolled back, or refused before it could be sent), for `onError`. */
export interface WriteFailure {
  /** Why. */
  error: SyncError;
  /** Which write method it was. */
  write: MutationKind;
}

/** What a write did (an event's metadata, or a catch-up's change record)... */
type ChangeMeta = Pick<ChangeRecord, 'revision' | 'operation' | 'mutationId'>;
/** ...and what it changed (an event's payload, or the change record again). */
type ChangeBody = { diff?: ChangeRecord['diff']; data?: Record<string, unknown> };

/** What an entry asks the relay about its document. */
type DocumentQuery = { type: 'get' } | { type: 'create'; data: JsonObject } | { type: 'catchup'; since: number };

/** One cached document. */
export class DocumentEntry {
  #confirmed: Confirmed | undefined;
  #status: DocumentStatus = 'loading';
  #error: SyncError | undefined;
  readonly #queue: PendingMutation[] = [];
  #inflight: PendingMutation | undefined;
  /** Events that arrived ahead of the confirmed revision, by revision. */
  readonly #early = new Map<number, SyncEvent>();
  #catchingUp = false;
  #catchUpAgain = false;
  #subId: string | undefined;
  readonly #listeners = new Set<() => void>();
  #snapshot: DocumentSnapshot;
  /** Settles {@link DocumentEntry.loaded} (once: later calls do nothing). */
  #settleLoad!: () => void;
  /** A new one each time the entry (re)starts loading: from the start, or to create a missing document. */
  #loaded!: Promise<void>;
  /** Whether a load (get, create, get again) is running. */
  #loading = false;
  /** What happened to this document lately (for the devtools panel). */
  readonly activity = new ActivityLog();
  readonly #writeErrors = new Set<(failure: WriteFailure) => void>();

  /** None for a refused entry, which never loads. */
  readonly #transport: DocumentTransport | undefined;
  /** Data to create the document with when it does not exist (from any reader: the first kept). */
  #create: JsonObject | undefined;
  readonly #onIdle: (entry: DocumentEntry) => void;

  constructor(
    readonly service: string,
    readonly id: string,
    transport: DocumentTransport | undefined,
    create: JsonObject | undefined,
    onIdle: (entry: DocumentEntry) => void,
    refused?: SyncError,
  ) {
    this.#transport = transport;
    this.#create = create;
    this.#onIdle = onIdle;
    this.#startLoading();
    // Refused (a bad service or id, for the hooks): in error from the start; writes reject.
    if (refused) this.#setFailure('error', refused);
    this.#snapshot = this.#compute();
  }

  /** The current snapshot (stable between changes). */
  getSnapshot = (): DocumentSnapshot => this.#snapshot;

  /** Listens for snapshot changes; the first listener starts loading and syncing. */
  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    this.ensureActive();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#onIdle(this);
    };
  };

  /**
   * Starts loading and syncing if not yet done. Subscribing does it; Suspense calls it too,
   * since a suspended component has not subscribed yet.
   */
  ensureActive(): void {
    if (!this.#transport) return;
    if (this.#subId === undefined) this.#activate();
    // Missing, and a reader brought data to create it with (see createWith): create it now.
    else if (this.#status === 'not-found' && !this.#confirmed && this.#create && !this.#loading) {
      this.#status = 'loading';
      this.#error = undefined;
      this.#startLoading();
      this.#changed();
      void this.#load(this.#create);
    }
  }

  /**
   * Data to create the document with when it is missing. `create` belongs to the document, not
   * to the reader that made the entry: any reader's applies (the first given is kept; across
   * clients the first create to reach the relay wins, the others load it). An entry already
   * `not-found` creates the document when that reader subscribes.
   */
  createWith(data: JsonObject): void {
    this.#create ??= data;
  }

  /** Whether the entry may be dropped: nobody reads it, nothing is pending, it is not loading. */
  get idle(): boolean {
    const loading = this.#subId !== undefined && this.#status === 'loading' && !this.#confirmed;
    return this.#listeners.size === 0 && this.#queue.length === 0 && this.#inflight === undefined && !loading;
  }

  /** Resolves once the first load has settled (for Suspense). */
  loaded(): Promise<void> {
    return this.#loaded;
  }

  /** Stops syncing (after the last reader left). */
  dispose(): void {
    if (this.#subId !== undefined) this.#transport!.unsubscribe(this.#subId);
    this.#subId = undefined;
    this.#stopStatus?.();
    this.#stopStatus = undefined;
  }

  #stopStatus: (() => void) | undefined;
  #wasOffline = false;

  /**
   * Subscribes with its own handler (events reach this entry whatever the cache's map holds)
   * and follows the connection, to catch up (or load again) after a reconnect.
   */
  #activate(): void {
    this.#subId = this.#transport!.subscribe(
      { topic: `sync.${this.service}.*`, filter: { id: this.id }, returnMode: 'diff' },
      (event) => this.receive(event),
      (err) => this.#revoked(err),
    );
    this.#stopStatus = this.#transport!.on('status', (status) => {
      if (status !== 'open') this.#wasOffline = true;
      else if (this.#wasOffline) {
        this.#wasOffline = false;
        this.#reconnected();
      }
    });
    void this.#load();
  }

  /** Sends a request about this document. */
  #ask(query: DocumentQuery, options?: RequestOptions): Promise<unknown> {
    return this.#transport!.request({ ...query, service: this.service, id: this.id }, options);
  }

  /** A new {@link DocumentEntry.loaded} promise, for a load that starts. */
  #startLoading(): void {
    this.#loaded = new Promise<void>((resolve) => (this.#settleLoad = resolve));
  }

  /**
   * Loads the document (with `create`: creates it first). When it is missing: starts from its
   * create event if one came meanwhile, else creates it if the entry has data to create it with;
   * a create that finds the id taken loads what is there.
   */
  async #load(create?: JsonObject): Promise<void> {
    this.#loading = true;
    /** Set after a create answered `conflict`: the id exists, at this revision. */
    let taken: number | undefined;
    for (;;) {
      try {
        const doc = (await this.#ask(create ? { type: 'create', data: create } : { type: 'get' }, { queueWhileOffline: true })) as SyncDocument;
        this.#confirm(doc.revision, doc.data as JsonObject, false);
      } catch (err) {
        const e = asSyncError(err);
        if (create && e.code === 'conflict') {
          [create, taken] = [undefined, e.revision ?? 1]; // someone else created it first
          continue;
        }
        if (e.code !== 'not_found' || create || this.#confirmed) this.#setFailure('error', e);
        // The id exists but reads as missing: soft-deleted, which is final (creating it again conflicts).
        else if (taken !== undefined) this.#confirm(taken, {}, true);
        else if (!this.#fromCreateEvent()) {
          if (this.#create) {
            create = this.#create;
            continue;
          }
          this.#setFailure('not-found', e);
        }
      }
      break;
    }
    this.#loading = false;
    this.#drainEarly();
    this.#changed();
  }

  /**
   * A missing document whose create event (revision 1) is held: it starts from there, as if
   * the event came after the load (the events that follow it are applied by #drainEarly).
   */
  #fromCreateEvent(): boolean {
    if (this.#confirmed || this.#early.get(1)?.metadata.operation !== 'create') return false;
    this.#confirmed = { revision: 0, data: {}, deleted: false };
    return true;
  }

  /**
   * The relay refused or ended this document's subscription (`forbidden`: the token no longer
   * reads it). What the entry showed can no longer be kept true, so it is dropped, and the
   * writes waiting on it fail with the same error.
   */
  #revoked(error: SyncError): void {
    this.dispose(); // the relay dropped the subscription; drop the status listener with it
    this.#confirmed = undefined;
    this.#early.clear();
    this.#setFailure('error', error);
    this.activity.add('rollback', { error: error.code });
    this.#changed();
  }

  #setFailure(status: 'not-found' | 'error', error: SyncError): void {
    if (this.#confirmed) return; // an event already brought the document
    this.#status = status;
    this.#error = error;
    this.#settleLoad();
    // Writes made while loading cannot go anywhere: there is no document to write to.
    for (const p of this.#queue.splice(0)) this.#reject(p, error);
  }

  /** Sets the confirmed state; the first load has settled. */
  #setConfirmed(revision: number, data: JsonObject, deleted: boolean): void {
    this.#confirmed = { revision, data, deleted };
    this.#status = deleted ? 'deleted' : 'ready';
    this.#error = undefined;
    this.#settleLoad();
  }

  /** Sets the confirmed state to a full snapshot (structurally shared with the previous one). */
  #confirm(revision: number, data: JsonObject, deleted: boolean): void {
    if (this.#confirmed && revision <= this.#confirmed.revision) return;
    this.#setConfirmed(revision, replaceEqualDeep(this.#confirmed?.data, data), deleted);
    this.#pump();
  }

  /** An event for this document (already routed by service and id). */
  receive(event: SyncEvent): void {
    const { revision, operation } = event.metadata;
    // Applied when it is next in line: now, or after the load or a catch-up.
    this.#early.set(revision, event);
    // Missing (not loading): a create event brings the document into being.
    if (operation === 'create' && revision === 1 && this.#status !== 'loading') this.#fromCreateEvent();
    this.#drainEarly();
    this.#changed();
  }

  /** Applies the change that follows the confirmed revision. */
  #applyChange({ revision, operation, mutationId }: ChangeMeta, { diff, data }: ChangeBody): void {
    const c = this.#confirmed!;
    let next = c.data;
    if (operation !== 'delete') {
      // Copy-on-write along the changed paths only, freezing just what is new. Same structural
      // sharing as an Immer draft, without its walk over every sibling on the path (bench #6);
      // Immer still runs the local update() recipes.
      if (diff) next = applyDiff(c.data, diff, { freeze: true });
      else if (data) next = replaceEqualDeep(c.data, data as JsonObject);
    }
    this.#setConfirmed(revision, next, operation === 'delete');
    this.activity.add('event', { revision, operation, mutationId });
    // Our own write came back as an event: it is now part of the confirmed state.
    if (mutationId) this.#dequeue(this.#queue.find((p) => p.mutationId === mutationId));
  }

  /**
   * Applies the held events that follow the confirmed revision, dropping those seen already
   * (event, ack or catch-up). One that is missing in between means catching up.
   */
  #drainEarly(): void {
    if (!this.#confirmed) return;
    for (const r of this.#early.keys()) if (r <= this.#confirmed.revision) this.#early.delete(r);
    let next: SyncEvent | undefined;
    while ((next = this.#early.get(this.#confirmed.revision + 1))) {
      const { metadata } = next;
      this.#early.delete(metadata.revision);
      try {
        this.#applyChange(metadata, next.payload);
      } catch (err) {
        // A diff that does not fit our state means our state is wrong: fetch the truth instead.
        this.activity.add('catch-up', { revision: metadata.revision, error: asSyncError(err).message });
        return this.#catchUp();
      }
    }
    if (this.#early.size > 0) this.#catchUp();
  }

  /** Asks the relay for what this entry missed since its confirmed revision. */
  #catchUp(): void {
    if (!this.#confirmed || this.#subId === undefined) return;
    if (this.#catchingUp) {
      this.#catchUpAgain = true;
      return;
    }
    this.#catchingUp = true;
    this.#ask({ type: 'catchup', since: this.#confirmed.revision })
      .then((result) => this.#applyCatchUp(result as CatchUpResult))
      .catch((err: unknown) => this.activity.add('catch-up', { error: asSyncError(err).message }))
      .finally(() => {
        this.#catchingUp = false;
        if (this.#catchUpAgain) {
          this.#catchUpAgain = false;
          this.#catchUp();
        }
      });
  }

  #applyCatchUp(result: CatchUpResult): void {
    if ('snapshot' in result) {
      this.activity.add('catch-up', { revision: result.revision });
      this.#confirm(result.revision, result.snapshot as JsonObject, result.deleted);
    } else {
      this.activity.add('catch-up', { changes: result.changes.length, since: this.#confirmed!.revision });
      for (const ch of result.changes) if (ch.revision === this.#confirmed!.revision + 1) this.#applyChange(ch, ch);
    }
    this.#drainEarly();
    this.#changed();
  }

  /** The connection came back: catch up on what happened meanwhile (or load again, if it never loaded). */
  #reconnected(): void {
    if (this.#confirmed) this.#catchUp();
    else if (!this.#loading) void this.#load();
  }

  /** Adds a local write: visible at once, sent when its turn comes. */
  enqueue(p: PendingMutation): void {
    // Not loaded, and not loading: it failed with `not-found` or `error` (#setFailure).
    if (!this.#confirmed && this.#error) return this.#reject(p, this.#error);
    this.#queue.push(p);
    this.#changed();
    this.#pump();
  }

  /** Sends the next queued write when none is in flight. */
  #pump(): void {
    if (this.#inflight || !this.#confirmed) return;
    const p = this.#queue[0];
    if (!p) return;
    let request;
    try {
      request = p.build(this.#confirmed.data, this.#confirmed.revision);
    } catch (err) {
      this.#rollback(p, asSyncError(err));
      return;
    }
    if (request === null) {
      // Nothing to change: done without a round trip, with the document as it is.
      const { revision, data } = this.#confirmed;
      this.#queue.shift();
      p.resolve({ service: this.service, id: this.id, revision, data, createdAt: 0, updatedAt: 0, incarnation: '' });
      this.#changed();
      this.#pump();
      return;
    }
    this.#inflight = p;
    this.#transport!.request(request, { queueWhileOffline: true }).then(
      (result) => this.#acknowledged(p, result as SyncDocument | null),
      (err: unknown) => void this.#failed(p, asSyncError(err)),
    );
  }

  /** Takes a write out of the queue (when it is still there). */
  #dequeue(p: PendingMutation | undefined): void {
    const i = p ? this.#queue.indexOf(p) : -1;
    if (i >= 0) this.#queue.splice(i, 1);
  }

  #acknowledged(p: PendingMutation, doc: SyncDocument | null): void {
    this.#inflight = undefined;
    this.#dequeue(p);
    if (doc) this.#confirm(doc.revision, doc.data as JsonObject, false);
    // A delete answers no document; it is deleted now, even if its event comes later.
    else if (p.kind === 'delete' && this.#confirmed) this.#confirmed = { ...this.#confirmed, deleted: true };
    this.activity.add('ack', { write: p.kind, mutationId: p.mutationId, revision: doc?.revision });
    p.resolve(doc ?? undefined);
    this.#changed();
    this.#pump();
  }

  async #failed(p: PendingMutation, err: SyncError): Promise<void> {
    if (err.code === 'rate_limited' && err.retryAfterMs !== undefined && this.#queue.includes(p)) {
      // Over the relay's write rate: not refused, only early. Send it again (same mutation id) then.
      this.activity.add('retry', { write: p.kind, mutationId: p.mutationId, error: err.code });
      setTimeout(() => {
        this.#inflight = undefined;
        this.#pump();
      }, err.retryAfterMs);
      return;
    }
    if (p.kind === 'update' && err.code === 'conflict' && p.retriesLeft > 0 && this.#queue.includes(p)) {
      // Re-run the recipe on the latest state: catch up to the revision the relay named first.
      p.retriesLeft -= 1;
      this.activity.add('retry', { write: p.kind, mutationId: p.mutationId, revision: err.revision });
      await this.#reach(err.revision ?? (this.#confirmed?.revision ?? 0) + 1);
      this.#inflight = undefined;
      this.#pump();
      return;
    }
    this.#inflight = undefined;
    this.#rollback(p, err);
    // The relay knows a newer revision than we do (its event was lost): fetch what we missed.
    if (err.code === 'conflict' && this.#confirmed && (err.revision ?? 0) > this.#confirmed.revision) this.#catchUp();
    this.#pump();
  }

  /** Waits (by catching up) until the confirmed revision is at least `revision`. */
  async #reach(revision: number): Promise<void> {
    for (let tries = 0; tries < 5 && this.#confirmed && this.#confirmed.revision < revision; tries++) {
      try {
        this.#applyCatchUp((await this.#ask({ type: 'catchup', since: this.#confirmed.revision })) as CatchUpResult);
      } catch {
        return;
      }
    }
  }

  #rollback(p: PendingMutation, err: SyncError): void {
    this.#dequeue(p);
    this.activity.add('rollback', { write: p.kind, mutationId: p.mutationId, error: err.code });
    this.#reject(p, err);
    this.#changed();
  }

  /** Fails a write: its promise, and every {@link DocumentEntry.onWriteError} listener. */
  #reject(p: PendingMutation, error: SyncError): void {
    p.reject(error);
    for (const listener of this.#writeErrors) callSafely(listener, { error, write: p.kind });
  }

  /** Calls `listener` for every write of this document that fails; returns the function that stops it. */
  onWriteError(listener: (failure: WriteFailure) => void): () => void {
    this.#writeErrors.add(listener);
    return () => this.#writeErrors.delete(listener);
  }

  /** Pending writes, oldest first (for the devtools panel). */
  get pendingWrites(): ReadonlyArray<Pick<PendingMutation, 'mutationId' | 'kind'>> {
    return this.#queue;
  }

  /** Recomputes the snapshot and tells readers when it changed. */
  #changed(): void {
    if (this.idle) this.#onIdle(this); // e.g. the last pending write settled after the readers left
    const next = this.#compute();
    const prev = this.#snapshot;
    if ((Object.keys(next) as Array<keyof DocumentSnapshot>).every((k) => next[k] === prev[k])) return;
    this.#snapshot = next;
    for (const l of [...this.#listeners]) l();
  }

  #compute(): DocumentSnapshot {
    const c = this.#confirmed;
    let data = c && !c.deleted ? c.data : undefined;
    let deleted = c?.deleted ?? false;
    for (const p of this.#queue) {
      if (p.kind === 'delete') deleted = true;
      if (data === undefined || deleted) continue;
      try {
        data = p.apply(data);
      } catch {
        // It cannot apply on the current state: the relay will refuse it and it rolls back.
      }
    }
    // (one of the union's shapes: with a confirmed state it is ready, with data, or deleted;
    // without one there is no data nor revision, and #setFailure always sets the error)
    return {
      status: deleted ? 'deleted' : c ? 'ready' : this.#status,
      data: deleted ? undefined : data,
      revision: c?.revision,
      pending: this.#queue.length,
      error: this.#error,
    } as DocumentSnapshot;
  }
}
