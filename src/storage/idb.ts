/**
 * Promises over IndexedDB's request and transaction events: the few `indexedDbStorage` needs.
 * Kept apart from the storage logic so that file reads as what it does, not as event plumbing.
 */

/** The object stores: `documents` keyed by `[service, id]`, `writes` keyed by `mutationId`. */
export type StoreName = 'documents' | 'writes';

/** Bump only with an upgrade step in `openDatabase` that keeps what older versions saved. */
const VERSION = 1;

/**
 * Opens `name`, creating its stores on first use. Rejects on any failure: `open` throwing
 * (SecurityError in sandboxed frames), an error event (VersionError after a downgrade, private
 * modes that refuse storage) or `blocked` (an older connection elsewhere that will not close).
 */
export function openDatabase(factory: IDBFactory, name: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    // A synchronous throw here rejects the promise: the executor turns it into a rejection.
    const req = factory.open(name, VERSION);
    let gaveUp = false;
    req.onupgradeneeded = () => {
      const db = req.result;
      db.createObjectStore('documents', { keyPath: ['service', 'id'] });
      db.createObjectStore('writes', { keyPath: 'mutationId' });
    };
    // An open that was given up on as blocked may still succeed later: close that connection,
    // or it would hold the database open with no one to close it.
    req.onsuccess = () => (gaveUp ? req.result.close() : resolve(req.result));
    req.onerror = () => reject(req.error ?? new Error('open failed'));
    req.onblocked = () => {
      gaveUp = true;
      reject(new Error('blocked: another tab keeps an older version of the database open'));
    };
  });
}

/**
 * Runs `body` in one transaction on `store` and resolves with the result of the request it
 * returns once the transaction has committed (so a resolved write is on disk, not just queued),
 * or rejects with why the transaction failed (a request error, quota, a closed database).
 */
export function transact<T = undefined>(
  db: IDBDatabase,
  store: StoreName,
  mode: IDBTransactionMode,
  body: (store: IDBObjectStore) => IDBRequest<T> | void,
): Promise<T> {
  return new Promise((resolve, reject) => {
    // `transaction()` and the request methods throw synchronously (InvalidStateError on a
    // closed database, DataError on a bad key, DataCloneError): the executor rejects for them.
    const tx = db.transaction(store, mode);
    const req = body(tx.objectStore(store));
    tx.oncomplete = () => resolve(req ? req.result : (undefined as T));
    // A failed request aborts its transaction, with the request's error as `tx.error`.
    tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
  });
}
