/**
 * `indexedDbStorage`: the browser's `Storage` (src/core/storage.ts), one IndexedDB database per
 * name, shared by every tab of the origin. Values are stored by structured clone, as given.
 *
 * Two tabs never send one write twice: every instance has a random owner id and holds the Web
 * Lock `syncdoc:<name>:owner:<id>` while it lives; writes are saved tagged with their owner, and
 * a write is claimed only from an owner whose lock is gone (its page was reloaded or closed: the
 * browser drops a page's locks with it).
 */
import type { Storage, StoredDocument, StoredWrite } from '../core/storage.js';
import { type StoreName, openDatabase, transact } from './idb.js';

/** Options of {@link indexedDbStorage}. */
export interface IndexedDbStorageOptions {
  /** The IndexedDB to use; by default the global `indexedDB`, looked up on first use. */
  indexedDB?: IDBFactory;
  /**
   * The Web Locks to use; by default `navigator.locks`. Where there are none (browsers before
   * 2022, insecure `http:` pages), `claimWrites` takes every saved write: one tab is assumed, and
   * if two tabs do claim one write both send it, which the relay answers once (it applies a
   * mutation id once, for an hour by default).
   */
  locks?: LockManager;
}

/** A write as saved: the engine's write plus the owner id of the instance that sends it. */
type WriteRecord = StoredWrite & { owner: string };

/**
 * A `Storage` in the IndexedDB database `syncdoc:<name>` (stores `documents` and `writes`).
 * Creating it does nothing yet, so it is safe during server-side rendering: the database is
 * opened on first use, and where there is no IndexedDB every method rejects saying so. Every
 * method returns a promise that rejects on failure (quota, private mode, a blocked or closed
 * database) and never throws; the engine then goes on in memory.
 *
 * @param name Names the database, so apps (or clients of different relays) on one origin keep
 *   separate state. A non-empty string.
 * @throws TypeError when `name` is not a non-empty string.
 */
export function indexedDbStorage(name: string, options: IndexedDbStorageOptions = {}): Storage {
  if (typeof name !== 'string' || name === '') {
    throw new TypeError(`indexedDbStorage: name must be a non-empty string, got ${JSON.stringify(name) ?? String(name)}`);
  }
  const dbName = `syncdoc:${name}`;
  const ownerLockName = (owner: string) => `${dbName}:owner:${owner}`;
  // 80 random bits: owner ids of tabs that ever shared this database must never collide.
  const ownerId = Array.from(crypto.getRandomValues(new Uint8Array(10)), (b) => (b + 256).toString(16).slice(1)).join('');
  const locks = options.locks ?? (typeof navigator === 'undefined' ? undefined : navigator.locks);
  const fail = (what: string, cause: unknown) =>
    new Error(`syncdoc/storage "${name}": ${what}: ${cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)}`, { cause });

  let closed = false;
  let owned: Promise<void> | undefined;
  let releaseOwner: (() => void) | undefined;
  let opening: Promise<IDBDatabase> | undefined;

  // Granted before this instance's first write reaches the database, so a tab that reads one of
  // its writes also sees its owner alive. Held until close(), or until the page goes away.
  const own = (lockManager: LockManager) =>
    (owned ??= new Promise<void>((granted, reject) => {
      lockManager
        .request(ownerLockName(ownerId), () => {
          granted();
          return closed ? undefined : new Promise<void>((release) => (releaseOwner = release));
        })
        .catch((err: unknown) => reject(fail('cannot take its owner lock', err)));
    }));

  /**
   * The open database. `writes`: for the writes' store, whose records are owned, so the owner
   * lock comes first; documents are nobody's, and a reload reads its document without waiting
   * for a lock (that wait is on the path to the first paint).
   */
  async function ready(writes = true): Promise<IDBDatabase> {
    if (closed) throw new Error(`syncdoc/storage "${name}": the storage is closed`);
    const factory = options.indexedDB ?? globalThis.indexedDB;
    if (!factory) throw new Error(`syncdoc/storage "${name}": IndexedDB is not available in this environment`);
    if (locks && writes) await own(locks);
    opening ??= openDatabase(factory, dbName).then(
      (db) => {
        // Another tab upgrading the database (a newer syncdoc) waits for this connection: let
        // it go. Either way, and after the browser closes it (storage cleared), the next call
        // opens again.
        db.onversionchange = () => {
          db.close();
          opening = undefined;
        };
        db.onclose = () => (opening = undefined);
        if (closed) db.close();
        return db;
      },
      (err: unknown) => {
        opening = undefined; // not remembered: the next call tries again
        throw fail(`cannot open the IndexedDB database "${dbName}"`, err);
      },
    );
    return opening;
  }

  async function run<T>(what: string, store: StoreName, mode: IDBTransactionMode, body: (s: IDBObjectStore) => IDBRequest<T> | void): Promise<T> {
    const db = await ready(store === 'writes');
    try {
      return await transact(db, store, mode, body);
    } catch (err) {
      throw fail(`${what} failed`, err);
    }
  }

  // Re-tags to this owner, in one transaction, every saved write `take` accepts, and returns them.
  async function retag(take: (record: WriteRecord) => boolean): Promise<StoredWrite[]> {
    const claimed: StoredWrite[] = [];
    await run('claimWrites', 'writes', 'readwrite', (s) => {
      const all = s.getAll();
      all.onsuccess = () => {
        for (const record of all.result as WriteRecord[]) {
          if (!take(record)) continue;
          s.put({ ...record, owner: ownerId });
          const { owner: _, ...write } = record;
          claimed.push(write);
        }
      };
    });
    return claimed.sort((p, q) => p.seq - q.seq);
  }

  return {
    loadDocument: (service, id) => run<StoredDocument | undefined>('loadDocument', 'documents', 'readonly', (s) => s.get([service, id])),
    saveDocument: (doc) => run('saveDocument', 'documents', 'readwrite', (s) => void s.put(doc)),
    removeDocument: (service, id) => run('removeDocument', 'documents', 'readwrite', (s) => void s.delete([service, id])),
    saveWrite: (write) => run('saveWrite', 'writes', 'readwrite', (s) => void s.put({ ...write, owner: ownerId } satisfies WriteRecord)),
    removeWrite: (mutationId) => run('removeWrite', 'writes', 'readwrite', (s) => void s.delete(mutationId)),

    async claimWrites() {
      await ready();
      if (!locks) return retag(() => true);
      // One claim at a time per database, across tabs: two claimers never split one orphan.
      return locks.request(`${dbName}:claim`, async () => {
        // Which writes exist, then which owners are alive, then re-tag only those writes still
        // with the owner seen. In this order a write saved after the first read (perhaps by a
        // tab whose lock the snapshot missed) is left alone: its owner held its lock before it
        // saved it, so a write that was read has an owner the snapshot shows, unless it is gone.
        const seen = await run<WriteRecord[]>('claimWrites', 'writes', 'readonly', (s) => s.getAll());
        let held: LockInfo[];
        try {
          held = (await locks.query()).held ?? [];
        } catch (err) {
          throw fail('claimWrites cannot read the held locks', err);
        }
        const alive = new Set(held.map((lock) => lock.name));
        const takeable = new Map<string, string>();
        for (const { mutationId, owner } of seen) {
          if (owner === ownerId || !alive.has(ownerLockName(owner))) takeable.set(mutationId, owner);
        }
        return retag((r) => takeable.has(r.mutationId) && takeable.get(r.mutationId) === r.owner);
      });
    },

    close() {
      if (closed) return;
      closed = true;
      releaseOwner?.();
      void opening?.then(
        (db) => db.close(),
        () => undefined,
      );
    },
  };
}
