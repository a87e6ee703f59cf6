/**
 * `indexedDbStorage` on fake-indexeddb (a fresh IDBFactory per test) and Web Locks (the real
 * `navigator.locks` when this Node has it, else the in-process TestLocks of ./locks.ts). Each
 * storage instance on a shared factory and lock manager plays one tab of an origin.
 */
import { IDBFactory, forceCloseDatabase } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Storage, StoredDocument, StoredWrite } from '../../src/storage.js';
import { indexedDbStorage } from '../../src/storage.js';
import { rawRecords as readRecords } from '../helpers/pages.js';
import { TestLocks, realWebLocks, webLocks } from './locks.js';

let factory: IDBFactory;
let locks: LockManager;
let name: string;
let opened: Storage[];
let counter = 0;

beforeEach(() => {
  factory = new IDBFactory();
  locks = webLocks();
  // Unique per test: with the real navigator.locks, lock names are shared by the whole process.
  name = `app${++counter}_${Math.random().toString(36).slice(2, 8)}`;
  opened = [];
});

afterEach(() => {
  for (const s of opened) s.close?.();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

/** A storage instance ("a tab") on this test's database, closed after the test. */
function tab(options: Parameters<typeof indexedDbStorage>[1] = { indexedDB: factory, locks }): Storage {
  const s = indexedDbStorage(name, options);
  opened.push(s);
  return s;
}

const doc = (id: string, revision: number, data: StoredDocument['data'] = { n: revision }): StoredDocument => ({
  service: 'todo',
  id,
  revision,
  incarnation: 'inc_1',
  data,
  savedAt: 1_700_000_000_000 + revision,
});

const write = (mutationId: string, seq: number, extra: Partial<StoredWrite> = {}): StoredWrite => ({
  mutationId,
  service: 'todo',
  id: 'doc_1',
  kind: 'merge',
  data: { n: seq },
  baseRevision: 1,
  seq,
  ...extra,
});

const ids = (writes: StoredWrite[]) => writes.map((w) => w.mutationId);

/** The records of one object store, read straight from the database. */
const rawRecords = (store: 'documents' | 'writes') => readRecords({ indexedDB: factory, name }, store);

/** The names of the held Web Locks that belong to this test's database. */
async function heldLocks(): Promise<string[]> {
  const { held = [] } = await locks.query();
  return held.map((l) => l.name ?? '').filter((n) => n.startsWith(`syncdoc:${name}:`));
}

/** Calls every method; each must return a promise (never throw) that rejects matching `message`. */
async function expectEveryMethodRejects(s: Storage, message: RegExp): Promise<void> {
  const calls: Array<() => Promise<unknown>> = [
    () => s.loadDocument('todo', 'doc_1'),
    () => s.saveDocument(doc('doc_1', 1)),
    () => s.removeDocument('todo', 'doc_1'),
    () => s.saveWrite(write('m_1', 1)),
    () => s.removeWrite('m_1'),
    () => s.claimWrites(),
  ];
  for (const call of calls) {
    let promise: Promise<unknown> | undefined;
    expect(() => (promise = call())).not.toThrow();
    expect(promise).toBeInstanceOf(Promise);
    await expect(promise).rejects.toThrow(message);
  }
}

describe('indexedDbStorage: creating', () => {
  it('refuses a name that is not a non-empty string, with a TypeError that says so', () => {
    for (const bad of ['', undefined, null, 42, {}]) {
      expect(() => indexedDbStorage(bad as string)).toThrow(TypeError);
      expect(() => indexedDbStorage(bad as string)).toThrow(/indexedDbStorage: name must be a non-empty string, got/);
    }
  });

  it('touches neither IndexedDB nor the locks until first used (safe in server-side rendering)', async () => {
    const open = vi.spyOn(factory, 'open');
    const request = vi.spyOn(locks, 'request');
    const s = tab();
    expect(open).not.toHaveBeenCalled();
    expect(request).not.toHaveBeenCalled();
    expect(await s.loadDocument('todo', 'doc_1')).toBeUndefined();
    expect(open).toHaveBeenCalledTimes(1);
    expect(open.mock.calls[0]![0]).toBe(`syncdoc:${name}`);
  });
});

describe('indexedDbStorage: documents', () => {
  it('saves, loads, replaces and removes a document, keyed by service and id', async () => {
    const s = tab();
    expect(await s.loadDocument('todo', 'doc_1')).toBeUndefined();
    await s.saveDocument(doc('doc_1', 1, { title: 'a', tags: ['x'], nested: { deep: { n: 1.5, ok: true, none: null } } }));
    await s.saveDocument({ ...doc('doc_1', 9), service: 'order' });
    expect(await s.loadDocument('todo', 'doc_1')).toEqual(doc('doc_1', 1, { title: 'a', tags: ['x'], nested: { deep: { n: 1.5, ok: true, none: null } } }));

    await s.saveDocument(doc('doc_1', 2, { title: 'b' }));
    expect(await s.loadDocument('todo', 'doc_1')).toEqual(doc('doc_1', 2, { title: 'b' }));
    expect((await s.loadDocument('order', 'doc_1'))?.revision).toBe(9);

    await s.removeDocument('todo', 'doc_1');
    expect(await s.loadDocument('todo', 'doc_1')).toBeUndefined();
    expect((await s.loadDocument('order', 'doc_1'))?.revision).toBe(9);
    await s.removeDocument('todo', 'never_saved'); // forgetting what is not there is fine
  });

  it('stores a copy (structured clone): changing the object after saving changes nothing saved', async () => {
    const s = tab();
    const saved = doc('doc_1', 1, { list: [1, 2], inner: { a: 'x' } });
    await s.saveDocument(saved);
    (saved.data.list as number[]).push(3);
    (saved.data.inner as { a: string }).a = 'changed';
    const loaded = await s.loadDocument('todo', 'doc_1');
    expect(loaded?.data).toEqual({ list: [1, 2], inner: { a: 'x' } });
    expect(loaded).not.toBe(saved);
  });

  it('survives a reload: a new instance on the same database reads what the old one saved', async () => {
    const first = tab();
    await first.saveDocument(doc('doc_1', 4));
    first.close?.();
    expect(await tab().loadDocument('todo', 'doc_1')).toEqual(doc('doc_1', 4));
  });

  it('lays the database out as documented: syncdoc:<name>, documents by [service, id], writes by mutationId with owner and seq', async () => {
    const s = tab();
    await s.saveDocument(doc('doc_1', 1));
    await s.saveWrite(write('m_1', 7));
    s.close?.();
    const db = await new Promise<IDBDatabase>((resolve) => {
      const req = factory.open(`syncdoc:${name}`);
      req.onsuccess = () => resolve(req.result);
    });
    expect([...db.objectStoreNames].sort()).toEqual(['documents', 'writes']);
    const tx = db.transaction(['documents', 'writes']);
    expect(tx.objectStore('documents').keyPath).toEqual(['service', 'id']);
    expect(tx.objectStore('writes').keyPath).toBe('mutationId');
    db.close();
    const [record] = await rawRecords('writes');
    expect(record).toMatchObject({ ...write('m_1', 7), seq: 7 });
    expect(typeof record!.owner).toBe('string');
    expect((record!.owner as string).length).toBeGreaterThanOrEqual(16);
  });
});

describe('indexedDbStorage: writes', () => {
  it('saves writes, forgets removed ones, and claims the rest in seq order, as saved', async () => {
    const s = tab();
    const mutate = write('m_a', 3, { kind: 'mutate', data: undefined, ops: [{ op: 'increment', path: 'n', value: 2 }, { op: 'remove', path: 'x' }], expectedRevision: 5, incarnation: 'inc_1' });
    await s.saveWrite(mutate);
    await s.saveWrite(write('m_c', 1));
    await s.saveWrite(write('m_b', 2, { kind: 'replace', data: { whole: true } }));
    await s.saveWrite(write('m_d', 10, { kind: 'delete', data: undefined }));
    await s.removeWrite('m_d');
    await s.removeWrite('m_never'); // forgetting what is not there is fine

    const claimed = await s.claimWrites();
    expect(ids(claimed)).toEqual(['m_c', 'm_b', 'm_a']);
    // Exactly the engine's writes: no owner field leaks out, nothing is lost.
    expect(claimed).toEqual([write('m_c', 1), write('m_b', 2, { kind: 'replace', data: { whole: true } }), mutate]);
  });

  it('sorts by seq numerically, not by mutation id or insertion order', async () => {
    const s = tab();
    for (const seq of [10, 2, 33, 1, 100]) await s.saveWrite(write(`m_${String(1000 - seq)}`, seq));
    expect((await s.claimWrites()).map((w) => w.seq)).toEqual([1, 2, 10, 33, 100]);
  });

  it('a reload claims the writes the closed page left, and they become the new page’s', async () => {
    const old = tab();
    await old.saveWrite(write('m_2', 2));
    await old.saveWrite(write('m_1', 1));
    const oldOwner = (await rawRecords('writes'))[0]!.owner;
    old.close?.();

    const reloaded = tab();
    expect(ids(await reloaded.claimWrites())).toEqual(['m_1', 'm_2']);
    const owners = new Set((await rawRecords('writes')).map((r) => r.owner));
    expect(owners.size).toBe(1);
    expect(owners.has(oldOwner)).toBe(false);

    // Re-tagged: another live tab now finds them owned and takes none of them.
    expect(await tab().claimWrites()).toEqual([]);
    expect(ids(await reloaded.claimWrites())).toEqual(['m_1', 'm_2']);
  });

  it('two live tabs each claim only their own writes; after one closes, its orphans go to one other tab only', async () => {
    const a = tab();
    const b = tab();
    await a.saveWrite(write('a_1', 1));
    await b.saveWrite(write('b_2', 2));
    await a.saveWrite(write('a_3', 3));
    expect(ids(await a.claimWrites())).toEqual(['a_1', 'a_3']);
    expect(ids(await b.claimWrites())).toEqual(['b_2']);
    expect(ids(await a.claimWrites())).toEqual(['a_1', 'a_3']); // still its own, still live

    a.close?.();
    const c = tab();
    await c.saveWrite(write('c_4', 4));
    const [fromB, fromC] = [await b.claimWrites(), await c.claimWrites()];
    expect(ids(fromB)).toEqual(['a_1', 'b_2', 'a_3']);
    expect(ids(fromC)).toEqual(['c_4']);
    // Once b has them they are b's: c, live beside it, never gets them, however often it asks.
    expect(ids(await c.claimWrites())).toEqual(['c_4']);
  });

  it('claimWrites from several live tabs at once never hands one write to two of them', async () => {
    const gone = tab();
    const all = Array.from({ length: 30 }, (_, i) => write(`m_${i}`, i));
    for (const w of all) await gone.saveWrite(w);
    gone.close?.();

    const tabs = [tab(), tab(), tab()];
    const results = await Promise.all(tabs.flatMap((t) => [t.claimWrites(), t.claimWrites()]));
    // Each tab's two concurrent calls see the same set (both are its own by then, or the first got them all)…
    const perTab = tabs.map((_, i) => new Set([...ids(results[2 * i]!), ...ids(results[2 * i + 1]!)]));
    // …and no write is in two tabs' sets, and none is lost.
    const seen = perTab.flatMap((set) => [...set]);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.sort()).toEqual(ids(all).sort());
    expect(perTab.filter((set) => set.size > 0)).toHaveLength(1); // one claim took them all; the others found them owned
  });

  it('claimWrites runs under the exclusive lock syncdoc:<name>:claim', async () => {
    const s = tab();
    await s.saveWrite(write('m_1', 1));
    let release!: () => void;
    let heldIt!: () => void;
    const isHeld = new Promise<void>((r) => (heldIt = r));
    const outside = locks.request(`syncdoc:${name}:claim`, () => {
      heldIt();
      return new Promise<void>((r) => (release = r));
    });
    await isHeld;
    let done = false;
    const claim = s.claimWrites().then((w) => ((done = true), w));
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toBe(false);
    release();
    await outside;
    expect(ids(await claim)).toEqual(['m_1']);
  });

  it('leaves alone a write saved during a claim by a tab that the lock snapshot did not show yet', async () => {
    const gone = tab();
    await gone.saveWrite(write('gone_1', 1));
    gone.close?.();

    // A new tab opens between the claimer's lock snapshot and its re-tagging, and saves a write.
    let newcomer: Storage | undefined;
    const racing: LockManager = {
      request: locks.request.bind(locks) as LockManager['request'],
      query: async () => {
        const snapshot = await locks.query();
        newcomer = tab();
        await newcomer.saveWrite(write('new_2', 2));
        return snapshot;
      },
    };
    const claimer = tab({ indexedDB: factory, locks: racing });
    expect(ids(await claimer.claimWrites())).toEqual(['gone_1']);
    expect(ids(await newcomer!.claimWrites())).toEqual(['new_2']);
  });

  it('saves no write before its owner lock is granted, so no other tab can take it for an orphan', async () => {
    let openGate!: () => void;
    const gate = new Promise<void>((r) => (openGate = r));
    // Web Locks that grant this tab's owner lock only once the gate opens.
    const slow: LockManager = {
      request: (async (lockName: string, callback: LockGrantedCallback<unknown>) => {
        if (lockName.includes(':owner:')) await gate;
        return locks.request(lockName, callback);
      }) as LockManager['request'],
      query: () => locks.query(),
    };
    const a = tab({ indexedDB: factory, locks: slow });
    const b = tab();
    const saving = a.saveWrite(write('a_1', 1));
    await new Promise((r) => setTimeout(r, 30));
    expect(await b.claimWrites()).toEqual([]);
    openGate();
    await saving;
    expect(await b.claimWrites()).toEqual([]);
    expect(ids(await a.claimWrites())).toEqual(['a_1']);
  });

  it('holds syncdoc:<name>:owner:<id> while open and releases it on close(); then every method rejects', async () => {
    const s = tab();
    await s.saveWrite(write('m_1', 1));
    const owner = (await rawRecords('writes'))[0]!.owner as string;
    expect(await heldLocks()).toEqual([`syncdoc:${name}:owner:${owner}`]);
    s.close?.();
    s.close?.(); // twice is fine
    await vi.waitFor(async () => expect(await heldLocks()).toEqual([]));
    await expectEveryMethodRejects(s, new RegExp(`syncdoc/storage "${name}": the storage is closed`));
  });
});

describe('indexedDbStorage without Web Locks', () => {
  it('claims every saved write (one tab assumed), from live instances too, and logs nothing', async () => {
    vi.stubGlobal('navigator', undefined);
    const logs = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) => vi.spyOn(console, m));
    const a = tab({ indexedDB: factory });
    const b = tab({ indexedDB: factory });
    await a.saveWrite(write('a_2', 2));
    await b.saveWrite(write('b_1', 1));
    expect(ids(await b.claimWrites())).toEqual(['b_1', 'a_2']);
    expect(ids(await a.claimWrites())).toEqual(['b_1', 'a_2']);
    await a.removeWrite('b_1');
    expect(ids(await b.claimWrites())).toEqual(['a_2']);
    for (const spy of logs) expect(spy).not.toHaveBeenCalled();
  });
});

describe('indexedDbStorage: failures reject, never throw', () => {
  it('without any IndexedDB (server-side rendering), every method rejects saying IndexedDB is not available', async () => {
    vi.stubGlobal('indexedDB', undefined);
    const s = tab({ locks });
    await expectEveryMethodRejects(s, /IndexedDB is not available/);
    expect(() => s.close?.()).not.toThrow();
  });

  it('a factory whose open() throws makes every method reject with the cause', async () => {
    const throwing = {
      open: () => {
        throw new DOMException('The operation is insecure.', 'SecurityError');
      },
    } as unknown as IDBFactory;
    const s = tab({ indexedDB: throwing, locks });
    await expectEveryMethodRejects(s, new RegExp(`cannot open the IndexedDB database "syncdoc:${name}": SecurityError: The operation is insecure`));
  });

  it('an open that fails with an error event (a newer database version on disk) makes every method reject', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = factory.open(`syncdoc:${name}`, 5);
      req.onsuccess = () => (req.result.close(), resolve());
      req.onerror = () => reject(req.error);
    });
    const s = tab();
    await expectEveryMethodRejects(s, new RegExp(`cannot open the IndexedDB database "syncdoc:${name}": VersionError`));
  });

  it('does not remember a failed open: the next call tries again', async () => {
    let fails = 1;
    const flaky = {
      open: (...args: Parameters<IDBFactory['open']>) => {
        if (fails-- > 0) throw new DOMException('try later', 'UnknownError');
        return factory.open(...args);
      },
    } as unknown as IDBFactory;
    const s = tab({ indexedDB: flaky, locks });
    await expect(s.saveDocument(doc('doc_1', 1))).rejects.toThrow(/UnknownError: try later/);
    await s.saveDocument(doc('doc_1', 2));
    expect((await s.loadDocument('todo', 'doc_1'))?.revision).toBe(2);
  });

  it('a lock manager that refuses makes every method on writes reject; documents, which nobody owns, still work', async () => {
    const refusing: LockManager = {
      request: () => Promise.reject(new DOMException('denied', 'SecurityError')),
      query: () => Promise.reject(new DOMException('denied', 'SecurityError')),
    };
    const s = tab({ indexedDB: factory, locks: refusing });
    const why = /cannot take its owner lock: SecurityError: denied/;
    await expect(s.saveWrite(write('m_1', 1))).rejects.toThrow(why);
    await expect(s.removeWrite('m_1')).rejects.toThrow(why);
    await expect(s.claimWrites()).rejects.toThrow(why);
    await s.saveDocument(doc('doc_1', 2));
    expect((await s.loadDocument('todo', 'doc_1'))?.revision).toBe(2);
    await s.removeDocument('todo', 'doc_1');
    expect(await s.loadDocument('todo', 'doc_1')).toBeUndefined();
  });

  it('rejects a request the database refuses (not cloneable, bad key) and goes on working', async () => {
    const s = tab();
    const notCloneable = doc('doc_1', 1, { fn: (() => 1) as unknown as string });
    let saving: Promise<void> | undefined;
    expect(() => (saving = s.saveDocument(notCloneable))).not.toThrow();
    await expect(saving).rejects.toThrow(new RegExp(`syncdoc/storage "${name}": saveDocument failed: DataCloneError`));
    await expect(s.saveWrite({ ...write('m_1', 1), mutationId: undefined } as unknown as StoredWrite)).rejects.toThrow(/saveWrite failed: DataError/);
    await expect(s.loadDocument(undefined as unknown as string, 'doc_1')).rejects.toThrow(/loadDocument failed: DataError/);
    await s.saveDocument(doc('doc_1', 3));
    expect((await s.loadDocument('todo', 'doc_1'))?.revision).toBe(3);
    expect(await s.claimWrites()).toEqual([]);
  });

  it('reopens after the browser closed the database under it (storage cleared)', async () => {
    const connections: IDBDatabase[] = [];
    const watching = {
      open: (...args: Parameters<IDBFactory['open']>) => {
        const req = factory.open(...args);
        req.addEventListener('success', () => connections.push(req.result));
        return req;
      },
    } as unknown as IDBFactory;
    const s = tab({ indexedDB: watching, locks });
    await s.saveDocument(doc('doc_1', 1));
    expect(connections).toHaveLength(1);
    const closedEvent = new Promise((r) => connections[0]!.addEventListener('close', r));
    forceCloseDatabase(connections[0] as never);
    await closedEvent;
    expect((await s.loadDocument('todo', 'doc_1'))?.revision).toBe(1);
    expect(connections).toHaveLength(2);
  });

  it('lets a newer version of the database open (closes its connection), then rejects rather than using it', async () => {
    const s = tab();
    await s.saveDocument(doc('doc_1', 1));
    const upgraded = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = factory.open(`syncdoc:${name}`, 2);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
      req.onblocked = () => reject(new Error('blocked by the storage’s connection'));
    });
    upgraded.close();
    await expect(s.loadDocument('todo', 'doc_1')).rejects.toThrow(/cannot open the IndexedDB database .*VersionError/);
  });
});

describe('the test Web Locks', () => {
  it(`are ${realWebLocks ? 'the real navigator.locks' : 'TestLocks: exclusive, in request order, visible to query()'}`, async () => {
    const l = realWebLocks ? locks : new TestLocks();
    const order: string[] = [];
    let releaseFirst!: () => void;
    const first = l.request(`${name}:x`, () => new Promise<void>((r) => ((releaseFirst = r), order.push('first'))));
    const second = l.request(`${name}:x`, {}, () => void order.push('second'));
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual(['first']);
    const snapshot = await l.query();
    expect(snapshot.held?.map((h) => h.name)).toContain(`${name}:x`);
    expect(snapshot.pending?.map((h) => h.name)).toContain(`${name}:x`);
    releaseFirst();
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'second']);
    expect((await l.query()).held?.map((h) => h.name)).not.toContain(`${name}:x`);
  });
});
