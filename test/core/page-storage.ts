/**
 * Storage as one page of a client uses it, for tests that reload pages: an `indexedDbStorage`
 * (on fake-indexeddb) behind a wrapper that
 * - counts the operations in flight, so a test can wait for the asynchronous storage to settle;
 * - holds back what the page reads (`loadDocument`, `claimWrites`) until the test releases it,
 *   so the test decides whether storage or the relay answers first (as a busy or slow disk
 *   would); the engine ignores what the other calls answer, so those complete as they run;
 * - dies with its page: once the page is gone, nothing it starts reaches the database and
 *   nothing it started answers it.
 */
import type { IDBFactory } from 'fake-indexeddb';
import type { Storage, StoredDocument, StoredWrite } from '../../src/core/storage.js';
import { indexedDbStorage } from '../../src/storage.js';
import { openDatabase, transact } from '../../src/storage/idb.js';
import { settle } from './fake-transport.js';

/** A read the page has not been given yet. */
interface Held {
  what: 'loadDocument' | 'claimWrites';
  /** Settles once the database answered. */
  done: Promise<unknown>;
  /** Hands the answer to the page. */
  give: () => void;
}

/** One page's storage. */
export class PageStorage implements Storage {
  readonly #inner: Storage;
  #inflight = 0;
  #dead = false;
  /** Reads answered by the database (or still running), not yet handed to the page, oldest first. */
  readonly held: Held[] = [];

  /** A new instance ("a page") on database `name` of `factory`, with the origin's `locks`. */
  constructor(
    readonly factory: IDBFactory,
    readonly name: string,
    locks: LockManager,
  ) {
    this.#inner = indexedDbStorage(name, { indexedDB: factory, locks });
  }

  /** Whether an operation is still running in the database. */
  get busy(): boolean {
    return this.#inflight > 0;
  }

  #run<T>(op: () => Promise<T>): Promise<T> {
    if (this.#dead) return new Promise<T>(() => {});
    this.#inflight++;
    return op().finally(() => this.#inflight--);
  }

  /** A read: run now, its answer handed over by {@link release}. */
  #read<T>(what: Held['what'], op: () => Promise<T>): Promise<T> {
    if (this.#dead) return new Promise<T>(() => {});
    const done = this.#run(op);
    done.catch(() => {});
    return new Promise<T>((resolve, reject) => {
      this.held.push({ what, done, give: () => done.then(resolve, reject) });
    });
  }

  /** Hands the oldest held read to the page (once the database answered it); false when none. */
  async release(): Promise<boolean> {
    const next = this.held.shift();
    if (!next || this.#dead) return false;
    await next.done.catch(() => {});
    next.give();
    return true;
  }

  loadDocument(service: string, id: string): Promise<StoredDocument | undefined> {
    return this.#read('loadDocument', () => this.#inner.loadDocument(service, id));
  }

  saveDocument(doc: StoredDocument): Promise<void> {
    return this.#run(() => this.#inner.saveDocument(doc));
  }

  removeDocument(service: string, id: string): Promise<void> {
    return this.#run(() => this.#inner.removeDocument(service, id));
  }

  saveWrite(write: StoredWrite): Promise<void> {
    return this.#run(() => this.#inner.saveWrite(write));
  }

  removeWrite(mutationId: string): Promise<void> {
    return this.#run(() => this.#inner.removeWrite(mutationId));
  }

  claimWrites(): Promise<StoredWrite[]> {
    return this.#read('claimWrites', () => this.#inner.claimWrites());
  }

  /**
   * The page is gone: the instance is closed (its owner lock released, so the next page may
   * claim its writes), and from now on nothing it asks runs and nothing held is handed over.
   */
  kill(): void {
    this.#dead = true;
    this.held.length = 0;
    this.#inner.close?.();
  }
}

/** Waits until no storage has an operation running (checked over a few quiet turns); held reads stay held. */
export async function storageIdle(storages: readonly PageStorage[]): Promise<void> {
  for (let round = 0, quiet = 0; round < 500; round++) {
    await settle();
    quiet = storages.some((s) => s.busy) ? 0 : quiet + 1;
    if (quiet >= 2) return;
  }
  throw new Error('storageIdle: storage still busy after 500 rounds');
}

/** What database `name` of `factory` holds, read directly (no instance, no claim). */
export async function stored(factory: IDBFactory, name: string): Promise<{ documents: StoredDocument[]; writes: StoredWrite[] }> {
  const db = await openDatabase(factory as unknown as globalThis.IDBFactory, `syncdoc:${name}`);
  try {
    const documents = await transact(db, 'documents', 'readonly', (s) => s.getAll() as IDBRequest<StoredDocument[]>);
    const writes = await transact(db, 'writes', 'readonly', (s) => s.getAll() as IDBRequest<StoredWrite[]>);
    return { documents, writes };
  } finally {
    db.close();
  }
}
