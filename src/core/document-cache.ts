/**
 * The client-side document cache: one {@link DocumentEntry} per (service, id), shared by every
 * reader, reference-counted and released a short while after the last reader leaves. It routes
 * the connection's events to entries and makes them catch up after a reconnect.
 */
import { assertDocId, assertDocumentData, assertService, DEFAULT_LIMITS, type JsonObject } from '../protocol/index.js';
import { type DocumentActions, documentActions } from './document-actions.js';
import { DocumentEntry } from './document-entry.js';
import type { DocumentTransport } from './document-transport.js';
import { pendingMutation } from './pending-mutation.js';
import type { Storage } from './storage.js';

/** Options of a {@link DocumentCache}. */
export interface DocumentCacheOptions {
  /** How long an entry nobody reads is kept (ms), so a quick remount reuses it. Default 1000. */
  gcTime?: number;
  /** Conflict retries of `update` (default 3). */
  updateRetries?: number;
  /**
   * Where the last confirmed state of each document and the pending writes survive a reload
   * (`indexedDbStorage(name)` from `syncdoc/storage`, or your own {@link Storage}). After a
   * reload documents show from it at once (`unconfirmed: true` until the relay answers) and the
   * writes it kept are sent once. A storage that fails (quota, private mode) is left for memory,
   * with one warning.
   */
  storage?: Storage;
}

const key = (service: string, id: string) => `${service}\u0000${id}`;

/** One cached document: its entry, its write methods, and the timer that releases it when idle. */
interface Slot {
  entry: DocumentEntry;
  actions: DocumentActions<unknown>;
  timer?: ReturnType<typeof setTimeout> | undefined;
}

/** Documents of one connection. */
export class DocumentCache {
  readonly #entries = new Map<string, Slot>();
  readonly #transport: DocumentTransport;
  readonly #gcTime: number;
  readonly #retries: number;
  readonly #storage: Storage | undefined;
  #restored = false;

  constructor(transport: DocumentTransport, options: DocumentCacheOptions = {}) {
    this.#transport = transport;
    this.#gcTime = options.gcTime ?? 1000;
    this.#retries = options.updateRetries ?? 3;
    this.#storage = options.storage && degrading(options.storage);
    // Entries subscribe to their own events and follow the connection themselves (see
    // DocumentEntry.activate): the cache only shares them and releases idle ones.
  }

  /**
   * The entry of a document and its write methods. `create` is the data to create it with when
   * it does not exist; it belongs to the document, so a reader bringing it to an entry made
   * without it hands it over (see {@link DocumentEntry.createWith}).
   */
  document<T>(service: string, id: string, create?: Record<string, unknown>): { entry: DocumentEntry; actions: DocumentActions<T> } {
    assertService(service);
    assertDocId(id);
    if (create !== undefined) assertDocumentData(create, DEFAULT_LIMITS, 'create');
    const k = key(service, id);
    let found = this.#entries.get(k);
    if (found) {
      clearTimeout(found.timer);
      found.timer = undefined;
      if (create !== undefined) found.entry.createWith(create as JsonObject);
    } else {
      const entry = new DocumentEntry(service, id, { transport: this.#transport, create: create as JsonObject | undefined, onIdle: () => this.#idle(k, slot), storage: this.#storage });
      const slot: Slot = { entry, actions: documentActions(entry, this.#retries) };
      this.#entries.set(k, (found = slot));
      this.#idle(k, slot); // dropped unless a reader subscribes within gcTime
    }
    return found as { entry: DocumentEntry; actions: DocumentActions<T> };
  }

  /**
   * Sends the writes an earlier page left in storage (once: later calls do nothing).
   * `RealtimeProvider` calls it when it mounts; without React, call it once the page runs.
   */
  restore(): void {
    if (this.#restored || !this.#storage) return;
    this.#restored = true;
    void this.#storage.claimWrites().then((writes) => {
      for (const w of writes) {
        const { entry } = this.document(w.service, w.id);
        entry.ensureActive();
        // Nobody awaits it: its outcome shows in the document, the devtools panel and onError.
        const settle = { resolve: () => {}, reject: () => {} };
        entry.enqueue(pendingMutation(entry, w.kind, w, settle), true);
      }
    }, () => {});
  }

  /** Number of cached documents (for tests and devtools). */
  get size(): number {
    return this.#entries.size;
  }

  #idle(k: string, slot: Slot): void {
    slot.timer ??= setTimeout(() => {
      slot.timer = undefined;
      if (!slot.entry.idle) return; // a reader came back, or writes are still pending (checked again when they settle)
      slot.entry.dispose();
      // Only our own slot: a newer entry for the same document may hold it by now.
      if (this.#entries.get(k) === slot) this.#entries.delete(k);
    }, this.#gcTime);
    // Only housekeeping: it must not keep a process alive (a server render leaves one behind).
    (slot.timer as { unref?: () => void }).unref?.();
  }
}

/**
 * A storage whose calls never reject: once one fails, it warns once and is left alone, and the
 * app goes on in memory (what was kept stays for the next page that can read it).
 */
function degrading(storage: Storage): Storage {
  let broken = false;
  const guarded = (name: keyof Storage) => async (...args: unknown[]) => {
    try {
      if (!broken) return await (storage[name] as (...a: unknown[]) => Promise<unknown>)(...args);
    } catch (err) {
      if (!broken) console.warn(`syncdoc: the storage failed, so documents and pending writes are kept in memory only from now on: ${String(err)}`);
      broken = true;
    }
    return name === 'claimWrites' ? [] : undefined;
  };
  // Only its methods are guarded: anything else (a property it lacks) reads as it is.
  return new Proxy(storage, { get: (target, name: keyof Storage) => (typeof target[name] === 'function' ? guarded(name) : target[name]) });
}

const caches = new WeakMap<DocumentTransport, DocumentCache>();

/** The cache of a connection, made on first use, so every hook on one client shares it. */
export function documentCache(transport: DocumentTransport, options?: DocumentCacheOptions): DocumentCache {
  let cache = caches.get(transport);
  if (!cache) caches.set(transport, (cache = new DocumentCache(transport, options)));
  return cache;
}
