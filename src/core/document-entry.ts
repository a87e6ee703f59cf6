/**
 * One document in the client cache: its state ({@link EntryState}, changed only through
 * {@link reduce}), its local writes ({@link WriteQueue}) and the snapshot readers see. Incoming
 * changes are applied in revision order; a gap triggers catch-up. Each creation of a document is
 * an incarnation: when the relay shows another one (the document was lost and created again) or
 * has none (lost), what the entry held is dropped and the writes made on it fail, saying so.
 */
import {
  type CatchUpResult,
  type JsonObject,
  type SyncDocument,
  type SyncEvent,
  SyncError,
  asSyncError,
} from '../protocol/index.js';
import { ActivityLog } from './activity-log.js';
import type { DocumentTransport } from './document-transport.js';
import { type Change, type Confirmed, type EntryAction, type EntryState, type Snapshot, INITIAL, otherIncarnation, reduce } from './document-state.js';
import type { DocumentSnapshot, WriteFailure } from './document-snapshot.js';
import { callSafely } from './emitter.js';
import type { PendingMutation } from './pending-mutation.js';
import type { Storage } from './storage.js';
import { savedWrite } from './saved-write.js';
import { WriteQueue } from './write-queue.js';

export type { DocumentSnapshot, DocumentStatus, WriteFailure } from './document-snapshot.js';

/** What an entry asks the relay about its document. */
type DocumentQuery = { type: 'get' } | { type: 'create'; data: JsonObject } | { type: 'catchup'; since: number; incarnation?: string | undefined };

/** How an entry is made (by its cache). */
export interface EntryOptions {
  /** None for a refused entry, which never loads. */
  transport?: DocumentTransport | undefined;
  /** Data to create the document with when it does not exist. */
  create?: JsonObject | undefined;
  /** Called when the entry may be dropped. */
  onIdle: (entry: DocumentEntry) => void;
  /** Refused (a bad service or id, for the hooks): in error from the start; writes reject. */
  refused?: SyncError | undefined;
  /** Where the confirmed state and pending writes survive a reload (calls that never reject: the cache's). */
  storage?: Storage | undefined;
}

/** How often at most a document's confirmed state is saved, in ms. */
const SAVE_EVERY = 250;

/** One cached document. */
export class DocumentEntry {
  #state: EntryState = INITIAL;
  readonly #writes: WriteQueue;
  /** Events that arrived ahead of the confirmed revision, by revision. */
  readonly #early = new Map<number, SyncEvent>();
  #catchingUp = false;
  #catchUpAgain = false;
  #subId: string | undefined;
  readonly #listeners = new Set<() => void>();
  #snapshot!: DocumentSnapshot;
  /** Settles {@link DocumentEntry.loaded}; a new one each time the entry (re)starts loading. */
  #settleLoad!: () => void;
  #loaded!: Promise<void>;
  /** Whether a load (get, create, get again) is running. */
  #loading = false;
  /** What happened to this document lately (for the devtools panel). */
  readonly activity = new ActivityLog();
  readonly #writeErrors = new Set<(failure: WriteFailure) => void>();
  readonly #transport: DocumentTransport | undefined;
  /** Data to create the document with when it does not exist (from any reader: the first kept). */
  #create: JsonObject | undefined;
  readonly #onIdle: (entry: DocumentEntry) => void;
  readonly #storage: Storage | undefined;
  #saveTimer: ReturnType<typeof setTimeout> | undefined;
  #stopStatus: (() => void) | undefined;
  #wasOffline = false;
  /** Inside {@link DocumentEntry.#batch}: readers are told at its end. */
  #holding = 0;
  /** An event came: storage's copy, if read later, is not shown (see #activate). */
  #heard = false;

  constructor(
    readonly service: string,
    readonly id: string,
    options: EntryOptions,
  ) {
    this.#transport = options.transport;
    this.#create = options.create;
    this.#onIdle = options.onIdle;
    this.#storage = options.storage;
    this.#writes = new WriteQueue({
      service,
      id,
      base: () => this.#state.confirmed,
      send: (request) => this.#transport!.request(request, { queueWhileOffline: true }),
      acked: (p, doc) => {
        this.#forget(p);
        if (doc) this.#dispatch({ type: 'snapshot', snapshot: { ...doc, deleted: false } });
        // A delete answers no document; it is deleted now, even if its event comes later.
        else if (p.kind === 'delete') this.#deleted();
        this.activity.add('ack', { write: p.kind, mutationId: p.mutationId, revision: doc?.revision });
        // The write left the queue: readers see that even when its answer changed nothing (a
        // resent write answered as it first landed, at or below the confirmed revision).
        this.#changed();
      },
      reach: (revision) => this.#reach(revision),
      note: (p, what, err) => {
        this.activity.add(what, { write: p.kind, mutationId: p.mutationId, revision: what === 'retry' ? err.revision : undefined, error: err.code });
        if (what !== 'rollback') return;
        this.#failed(p, err);
        // The relay knows a newer revision than we do (its event was lost), or another
        // incarnation, or none, or the write may have landed: find out what it has.
        if (err.code === 'conflict' || err.code === 'timeout' || (err.code === 'not_found' && !this.#state.confirmed?.deleted)) this.#catchUp();
      },
      changed: () => this.#changed(),
    });
    this.#startLoading();
    if (options.refused) this.#fail('error', options.refused);
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

  /** Changes the state, and tells readers when what they see changed. */
  #dispatch(action: EntryAction): void {
    const prev = this.#state;
    const next = reduce(prev, action);
    if (next === prev) return;
    this.#state = next;
    const c = next.confirmed;
    if (c && !prev.confirmed) this.#settleLoad();
    if (c && !next.unconfirmed) this.#save();
    this.#writes.pump();
    this.#changed();
  }

  /**
   * Runs several changes as one: readers are told once, after all of them (an event that
   * confirms our own write never shows it applied twice in between).
   */
  #batch(fn: () => void): void {
    this.#holding++;
    try {
      fn();
    } finally {
      this.#holding--;
    }
    this.#changed();
  }

  /**
   * Starts loading and syncing if not yet done. Subscribing does it; Suspense calls it too,
   * since a suspended component has not subscribed yet.
   */
  ensureActive(): void {
    if (!this.#transport) return;
    if (this.#subId === undefined) this.#activate();
    // Missing, and a reader brought data to create it with (see createWith): create it now.
    else if (this.#state.status === 'not-found' && !this.#state.confirmed && this.#create && !this.#loading) this.#reload(this.#create);
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
    const loading = this.#subId !== undefined && !this.#state.confirmed && this.#state.status === 'loading';
    return this.#listeners.size === 0 && !this.#writes.busy && !loading;
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

  /**
   * Subscribes with its own handler (events reach this entry whatever the cache's map holds),
   * follows the connection to catch up (or load again) after a reconnect, shows what storage
   * kept while the relay answers, and loads.
   */
  #activate(): void {
    const t = this.#transport!;
    this.#subId = t.subscribe(
      { topic: `sync.${this.service}.*`, filter: { id: this.id }, returnMode: 'diff' },
      (event) => this.receive(event),
      // `forbidden`: the token no longer reads it. What the entry showed can no longer be kept
      // true, so it is dropped, and the writes waiting on it fail with the same error.
      (err) => {
        this.dispose();
        this.#drop('error', err, err);
      },
    );
    this.#stopStatus = t.on('status', (status) => {
      if (status !== 'open') {
        this.#wasOffline = true;
        // Events held are of the connection that dropped: what came since, the catch-up (or the
        // load, sent again) tells; one held from before may be of a document lost since.
        this.#early.clear();
      } else if (this.#wasOffline) {
        this.#wasOffline = false;
        // Back: catch up on what happened meanwhile (or load again, if it never loaded).
        if (this.#state.confirmed) this.#catchUp();
        else if (!this.#loading) void this.#load();
      }
    });
    // Storage's copy shows only while nothing came from the relay: an event held for the load
    // may be of another creation of the document, which the copy would stand before.
    void this.#storage?.loadDocument(this.service, this.id).then((saved) => saved && !this.#heard && this.#dispatch({ type: 'snapshot', snapshot: { ...saved, deleted: false, unconfirmed: true } }));
    void this.#load();
  }

  /** Sends a request about this document. */
  #ask(query: DocumentQuery): Promise<unknown> {
    return this.#transport!.request({ ...query, service: this.service, id: this.id }, { queueWhileOffline: query.type !== 'catchup' });
  }

  /** A new {@link DocumentEntry.loaded} promise, for a load that starts. */
  #startLoading(): void {
    this.#loaded = new Promise<void>((resolve) => (this.#settleLoad = resolve));
  }

  /** Loads again from nothing (a missing document to create, or one that was dropped). */
  #reload(create?: JsonObject): void {
    this.#startLoading();
    this.#dispatch({ type: 'load' });
    if (!this.#loading) void this.#load(create);
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
        const doc = (await this.#ask(create ? { type: 'create', data: create } : { type: 'get' })) as SyncDocument;
        this.#confirmFromRelay({ ...doc, deleted: false });
      } catch (err) {
        const e = asSyncError(err);
        if (create && e.code === 'conflict') {
          [create, taken] = [undefined, e.revision ?? 1]; // someone else created it first
          continue;
        }
        const had = this.#state.confirmed;
        if (e.code !== 'not_found' || create || (had && !this.#state.unconfirmed)) this.#fail('error', e);
        // The id exists but reads as missing: soft-deleted, which is final (creating it again conflicts).
        else if (taken !== undefined) this.#confirmFromRelay({ revision: taken, data: {}, deleted: true, incarnation: undefined });
        // Missing: shown from storage only (dropped), or nothing shown and no create event held.
        else if (had || !this.#fromCreateEvent()) {
          if (had) this.#drop('not-found', e, this.#gone());
          if (this.#create) {
            create = this.#create; // created again, with create data
            continue;
          }
          if (!had) {
            // Nothing to show, nor to keep: a copy storage still has is of a document the relay lost.
            void this.#storage?.removeDocument(this.service, this.id);
            this.#fail('not-found', e);
          }
        }
      }
      break;
    }
    this.#loading = false;
    this.#batch(() => this.#drainEarly());
  }

  /** A full state from the relay: one of another incarnation replaces everything, writes included. */
  #confirmFromRelay(snapshot: Snapshot): void {
    this.#batch(() => {
      if (otherIncarnation(this.#state.confirmed, snapshot.incarnation)) {
        const err = this.#recreated();
        this.#drop('loading', err, err, snapshot.incarnation);
      }
      this.#dispatch({ type: 'snapshot', snapshot });
    });
  }

  /**
   * A missing document whose create event (revision 1) is held: it starts from there, as if
   * the event came after the load (the events that follow it are applied by #drainEarly).
   */
  #fromCreateEvent(): boolean {
    const create = this.#early.get(1);
    if (this.#state.confirmed || create?.metadata.operation !== 'create') return false;
    this.#dispatch({ type: 'snapshot', snapshot: { revision: 0, data: {}, deleted: false, incarnation: create.metadata.incarnation } });
    return true;
  }

  /** What the writes made on a document the relay lost and someone created again fail with. */
  #recreated(): SyncError {
    return new SyncError('conflict', `${this.service}/${this.id} was created again after the relay lost it: this write, made on the document before, was not applied`);
  }

  /** ...and those made on a document the relay lost. */
  #gone(): SyncError {
    return new SyncError('not_found', `${this.service}/${this.id} is gone: the relay lost it, so this write was not applied`);
  }

  /**
   * What the entry held is not what the relay has (lost, created again, or no longer readable):
   * dropped, with the writes made on it, which fail with `writeError`.
   */
  #drop(status: 'loading' | 'not-found' | 'error', error: SyncError, writeError: SyncError, current?: string): void {
    this.#early.clear();
    this.activity.add('dropped', { error: error.message });
    this.#rejectWrites(writeError, current);
    void this.#storage?.removeDocument(this.service, this.id);
    this.#dispatch({ type: 'drop', status, error });
  }

  /** A load that failed: `not-found` or `error`, unless an event brought the document meanwhile. */
  #fail(status: 'not-found' | 'error', error: SyncError): void {
    this.#dispatch({ type: 'fail', status, error });
    if (this.#state.confirmed) return;
    this.#settleLoad();
    // Writes made while loading cannot go anywhere: there is no document to write to.
    this.#rejectWrites(error);
    this.#changed();
  }

  /** An event for this document (already routed by service and id). */
  receive(event: SyncEvent): void {
    this.#batch(() => {
      this.#heard = true;
      const { revision, operation, incarnation } = event.metadata;
      if (otherIncarnation(this.#state.confirmed, incarnation)) {
        // Another creation of this document: what we hold is of the one before. Its create event
        // brings the new one; any other event means loading it.
        const err = this.#recreated();
        this.#drop('loading', err, err, incarnation);
        // (held all the same: a load already running may have been answered before this event)
        if (operation !== 'create') this.#reload();
      }
      // Applied when it is next in line: now, or after the load or a catch-up.
      this.#early.set(revision, event);
      // Missing (not loading): a create event brings the document into being.
      if (operation === 'create' && revision === 1 && !this.#loading) this.#fromCreateEvent();
      this.#drainEarly();
    });
  }

  /** Applies a change that follows the confirmed revision. */
  #apply(change: Pick<Change, 'revision' | 'operation'> & { mutationId?: string | undefined }, body: Pick<Change, 'diff' | 'data'>): void {
    if (change.revision !== this.#state.confirmed!.revision + 1) return; // seen already
    this.#dispatch({ type: 'change', change, body });
    const { revision, operation, mutationId } = change;
    this.activity.add('event', { revision, operation, mutationId });
    // Our own write came back as an event: it is now part of the confirmed state.
    if (mutationId) this.#writes.echoed(mutationId);
  }

  /**
   * Applies the held events that follow the confirmed revision, dropping those seen already
   * (event, ack or catch-up). One that is missing in between means catching up.
   */
  #drainEarly(): void {
    const c = () => this.#state.confirmed;
    if (!c()) return;
    // Held from before the load, of another creation: all dropped (one left ahead of the next in
    // line would ask for a catch-up after every catch-up, forever); the catch-up (naming ours)
    // brings the truth.
    let other = false;
    const { revision, incarnation } = c()!;
    for (const [r, e] of this.#early) {
      if (r <= revision) this.#early.delete(r);
      else if (incarnation && e.metadata.incarnation !== incarnation) {
        this.#early.delete(r);
        other = true;
      }
    }
    if (other) return this.#catchUp();
    let next: SyncEvent | undefined;
    while ((next = this.#early.get(c()!.revision + 1))) {
      const { metadata } = next;
      this.#early.delete(metadata.revision);
      try {
        this.#apply(metadata, next.payload);
      } catch (err) {
        // A diff that does not fit our state means our state is wrong: fetch the truth instead.
        this.activity.add('catch-up', { revision: metadata.revision, error: asSyncError(err).message });
        return this.#catchUp();
      }
    }
    if (this.#early.size > 0) this.#catchUp();
  }

  /** Asks the relay what this entry missed since its confirmed revision (saying which incarnation it holds). */
  #catchUp(): void {
    const c = this.#state.confirmed;
    if (!c || this.#subId === undefined) return;
    if (this.#catchingUp) {
      this.#catchUpAgain = true;
      return;
    }
    this.#catchingUp = true;
    void this.#fetchMissed(c).finally(() => {
      this.#catchingUp = false;
      if (this.#catchUpAgain) {
        this.#catchUpAgain = false;
        this.#catchUp();
      }
    });
  }

  /** Asks what came after `c` (naming its incarnation) and applies the answer; false when that failed. */
  async #fetchMissed(c: Confirmed): Promise<boolean> {
    try {
      this.#applyCatchUp((await this.#ask({ type: 'catchup', since: c.revision, incarnation: c.incarnation })) as CatchUpResult, c.revision);
      return true;
    } catch (err) {
      this.#catchUpFailed(asSyncError(err), c.incarnation);
      return false;
    }
  }

  /** A catch-up answering `not_found`: the relay lost the document (a soft delete still answers). */
  #catchUpFailed(err: SyncError, asked: string | undefined): void {
    this.activity.add('catch-up', { error: err.message });
    // (about the incarnation asked of: one that came since, by its create event, is not gone)
    if (err.code !== 'not_found' || !this.#state.confirmed || this.#state.confirmed.incarnation !== asked) return;
    this.#drop('not-found', err, this.#gone());
    // Missing, and a reader brought data to create it with: create it again.
    if (this.#create) this.#reload(this.#create);
  }

  /** A catch-up's answer, to a question about what came after revision `since`. */
  #applyCatchUp(result: CatchUpResult, since: number): void {
    this.#batch(() => {
      if ('snapshot' in result) {
        this.activity.add('catch-up', { revision: result.revision });
        // A snapshot behind what we asked about is the relay's state now, behind ours (its
        // Redis restored from an older copy): it replaces ours, which the relay no longer has.
        const { revision, deleted, incarnation } = result;
        this.#confirmFromRelay({ revision, data: result.snapshot as JsonObject, deleted, incarnation, behind: revision < since });
      } else {
        const c = this.#state.confirmed!;
        this.activity.add('catch-up', { changes: result.changes.length, since: c.revision });
        // (the relay answers changes only for the incarnation asked about)
        for (const ch of result.changes) this.#apply(ch, ch);
      }
      this.#drainEarly();
    });
  }

  /** Waits (by catching up) until the confirmed revision is at least `revision`. */
  async #reach(revision: number): Promise<void> {
    // At least once: the conflict may be with another creation of the document, whose revision says nothing.
    for (let tries = 0, c; tries < 5 && (c = this.#state.confirmed) && (tries === 0 || c.revision < revision); tries++) {
      if (!(await this.#fetchMissed(c))) return;
    }
  }

  /** Marks the confirmed state deleted (a delete was answered). */
  #deleted(): void {
    const c = this.#state.confirmed;
    if (c && !c.deleted) this.#dispatch({ type: 'snapshot', snapshot: { ...c, revision: c.revision + 1, deleted: true } });
  }

  /** Adds a local write: visible at once, saved when there is storage, sent when its turn comes. */
  enqueue(p: PendingMutation, saved?: boolean): void {
    const { confirmed, error } = this.#state;
    // Not loaded, and not loading: it failed with `not-found` or `error` (see #fail).
    if (!confirmed && error) return this.#failed(p, error, true);
    if (this.#storage && !saved && confirmed) this.#saveWrite(p, confirmed.revision, confirmed.incarnation);
    this.#writes.add(p, saved);
  }

  /** Keeps a write across reloads: the request it would send now, on the visible state. */
  #saveWrite(p: PendingMutation, revision: number, incarnation: string | undefined): void {
    const write = savedWrite(this, p, this.#snapshot.data as JsonObject | undefined, revision, incarnation);
    if (write) void this.#storage!.saveWrite(write);
  }

  /** A write settled: storage forgets it. */
  #forget(p: PendingMutation): void {
    void this.#storage?.removeWrite(p.mutationId);
  }

  /** Fails every queued write with `error`. */
  #rejectWrites(error: SyncError, current?: string): void {
    // Those bound to the incarnation the relay has now (saved on it by an earlier page) were
    // made on the document as it is: the relay judges them.
    for (const p of this.#writes.rejectAll(error, (p) => current !== undefined && p.incarnation === current)) {
      this.activity.add('rollback', { write: p.kind, mutationId: p.mutationId, error: error.code });
      this.#failed(p, error);
    }
  }

  /** A write failed (its promise already rejected, unless `reject`): storage and `onError` listeners hear it. */
  #failed(p: PendingMutation, error: SyncError, reject?: boolean): void {
    if (reject) p.reject(error);
    this.#forget(p);
    for (const listener of this.#writeErrors) callSafely(listener, { error, write: p.kind });
  }

  /** Calls `listener` for every write of this document that fails; returns the function that stops it. */
  onWriteError(listener: (failure: WriteFailure) => void): () => void {
    this.#writeErrors.add(listener);
    return () => this.#writeErrors.delete(listener);
  }

  /** Pending writes, oldest first (for the devtools panel). */
  get pendingWrites(): ReadonlyArray<Pick<PendingMutation, 'mutationId' | 'kind'>> {
    return this.#writes.items;
  }

  /** Saves the confirmed state, at most every {@link SAVE_EVERY} ms (the latest one). */
  #save(): void {
    if (!this.#storage || this.#saveTimer) return;
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = undefined;
      const c = this.#state.confirmed;
      if (!c || this.#state.unconfirmed) return;
      const { service, id } = this;
      const st = this.#storage!;
      void (c.deleted ? st.removeDocument(service, id) : st.saveDocument({ service, id, revision: c.revision, incarnation: c.incarnation, data: c.data, savedAt: Date.now() }));
    }, SAVE_EVERY);
  }

  /** Recomputes the snapshot and tells readers when it changed (at the end of a batch, inside one). */
  #changed(): void {
    if (this.#holding) return;
    if (this.idle) this.#onIdle(this); // e.g. the last pending write settled after the readers left
    const next = this.#compute();
    const prev = this.#snapshot;
    if (prev && (Object.keys(next) as Array<keyof DocumentSnapshot>).every((k) => next[k] === prev[k])) return;
    this.#snapshot = next;
    for (const l of [...this.#listeners]) l();
  }

  #compute(): DocumentSnapshot {
    const { confirmed: c, status, error, unconfirmed = false } = this.#state;
    let data = c && !c.deleted ? c.data : undefined;
    let deleted = c?.deleted ?? false;
    for (const p of this.#writes.items) {
      if (p.kind === 'delete') deleted = true;
      if (data === undefined || deleted) continue;
      try {
        data = p.apply(data);
      } catch {
        // It cannot apply on the current state: the relay will refuse it and it rolls back.
      }
    }
    // (one of the union's shapes: with a confirmed state it is ready, with data, or deleted;
    // without one there is no data nor revision, and a failure always sets the error)
    return {
      status: deleted ? 'deleted' : c ? 'ready' : status,
      data: deleted ? undefined : data,
      revision: c?.revision,
      pending: this.#writes.items.length,
      unconfirmed,
      error,
    } as DocumentSnapshot;
  }
}
