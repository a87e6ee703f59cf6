/**
 * "Pages" of an app that keeps its documents and writes in IndexedDB (fake-indexeddb, one
 * IDBFactory per test): each page is a real client, its document cache and its own
 * `indexedDbStorage` instance on the shared database and lock manager. A page that goes away
 * like a reloaded browser tab releases its storage (the browser drops its locks) and its
 * socket, and runs nothing more.
 */
import { type DocumentCache, documentCache } from '../../src/core/document-cache.js';
import type { RealtimeClient, RealtimeClientOptions } from '../../src/index.js';
import type { Storage, StoredWrite } from '../../src/storage.js';
import { indexedDbStorage } from '../../src/storage.js';
import { connect } from './relay.js';

/** One page: its client, its storage and the document cache over both. */
export interface Page {
  client: RealtimeClient;
  storage: Storage;
  cache: DocumentCache;
  /**
   * The page goes away as a reloaded tab does: its storage lets go of its database and owner
   * lock, its socket drops. Nothing of it runs afterwards: its client stays offline, unclosed
   * (so nothing it held is settled by it), and whatever its cache still asks of the storage
   * never runs.
   */
  unload(): void;
}

/** Where the pages of one test keep their state. */
export interface Origin {
  indexedDB: IDBFactory;
  locks: LockManager;
  name: string;
}

/** Opens a page on `relay` with a storage on `origin` (client options: e.g. `autoConnect: false`). */
export function openPage(relay: { url: string }, origin: Origin, options: Partial<RealtimeClientOptions> = {}, wrap: (s: Storage) => Storage = (s) => s): Page {
  const raw = indexedDbStorage(origin.name, { indexedDB: origin.indexedDB, locks: origin.locks });
  // Once the page is gone, nothing of it reaches the database: its calls never run (nor settle).
  let gone = false;
  const alive = {} as Record<string, unknown>;
  for (const name of ['loadDocument', 'saveDocument', 'removeDocument', 'saveWrite', 'removeWrite', 'claimWrites'] as const) {
    alive[name] = (...args: unknown[]) => (gone ? new Promise<never>(() => {}) : (raw[name] as (...a: unknown[]) => Promise<unknown>)(...args));
  }
  const storage = wrap(alive as unknown as Storage);
  const client = connect(relay, options);
  const cache = documentCache(client, { storage, gcTime: 50 });
  return {
    client,
    storage: raw,
    cache,
    unload() {
      gone = true;
      raw.close?.();
      client.disconnect();
    },
  };
}

/** Every record of one store of the origin's database, read on a connection of its own. */
export async function rawRecords(origin: Pick<Origin, 'indexedDB' | 'name'>, store: 'documents' | 'writes'): Promise<Array<Record<string, unknown>>> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const req = origin.indexedDB.open(`syncdoc:${origin.name}`);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  try {
    if (!db.objectStoreNames.contains(store)) return [];
    return await new Promise((resolve, reject) => {
      const req = db.transaction(store).objectStore(store).getAll();
      req.onsuccess = () => resolve(req.result as Array<Record<string, unknown>>);
      req.onerror = () => reject(req.error);
    });
  } finally {
    db.close();
  }
}

/** The saved writes the origin holds (straight from the database). */
export async function savedWrites(origin: Origin): Promise<StoredWrite[]> {
  return (await rawRecords(origin, 'writes')) as unknown as StoredWrite[];
}
