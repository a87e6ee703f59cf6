/**
 * The document cache with storage, in Node: `indexedDbStorage` on fake-indexeddb (a fresh
 * IDBFactory per test) and the in-process Web Locks of test/storage/locks.ts, against a real
 * relay over real WebSockets. A "reload" is a page that goes away (its storage closed, its socket
 * dropped, nothing more of it running) and a new page (client, cache, storage instance) on the
 * same database: it shows what was saved until the relay answers, and sends the writes the old
 * page left, once. A storage that fails is left for memory, with one warning.
 */
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Relay } from '../../server/index.js';
import { documentCache } from '../../src/core/document-cache.js';
import { type RealtimeClient, increment } from '../../src/index.js';
import type { Storage, StoredDocument } from '../../src/storage.js';
import { indexedDbStorage } from '../../src/storage.js';
import { type Origin, openPage, rawRecords, savedWrites } from '../helpers/pages.js';
import { openReader, outcome } from '../helpers/reader.js';
import { connect, eventually, opened, startRelay } from '../helpers/relay.js';
import { TestLocks } from '../storage/locks.js';
import { settle } from './fake-transport.js';

const SERVICE = 'counter';
type Counter = { n: number; m?: number; note?: string };

let relay: Relay;
let seed: RealtimeClient;
let origin: Origin;
let counter = 0;
const uid = () => `c_${Date.now().toString(36)}_${++counter}`;

beforeAll(async () => {
  relay = await startRelay('memory');
  seed = await opened(connect(relay));
});

beforeEach(() => {
  origin = { indexedDB: new IDBFactory(), locks: new TestLocks(), name: `app${++counter}` };
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** The saved state of one document (read by a storage instance of its own, which claims nothing). */
async function savedDocument(service: string, id: string): Promise<StoredDocument | undefined> {
  const probe = indexedDbStorage(origin.name, { indexedDB: origin.indexedDB, locks: origin.locks });
  try {
    return await probe.loadDocument(service, id);
  } finally {
    probe.close?.();
  }
}

/** What a fresh page of this origin would claim (after every page that could own a write is gone). */
async function claimable(): Promise<unknown[]> {
  const probe = indexedDbStorage(origin.name, { indexedDB: origin.indexedDB, locks: origin.locks });
  try {
    return await probe.claimWrites();
  } finally {
    probe.close?.();
  }
}

/** A document made with `data`, and a first page that has it loaded. */
async function firstPage(data: Counter) {
  const id = uid();
  await seed.sync.create<Counter>(SERVICE, data, id);
  const first = openPage(relay, origin);
  const r1 = openReader<Counter>(first.client, SERVICE, id);
  await eventually(() => r1.snap().status === 'ready', 5000, 'the first page to load it');
  return { id, first, r1 };
}

describe('a reload with storage', () => {
  it('shows the saved document at once, unconfirmed, until the relay answers with what it has', async () => {
    const { id, first, r1 } = await firstPage({ n: 1 });
    expect(r1.snap()).toMatchObject({ status: 'ready', revision: 1, data: { n: 1 }, unconfirmed: false });
    await eventually(async () => (await savedDocument(SERVICE, id))?.revision === 1, 5000, 'the document to be saved');
    expect(await savedDocument(SERVICE, id)).toMatchObject({ service: SERVICE, id, revision: 1, data: { n: 1 }, incarnation: expect.stringMatching(/^[0-9a-v]{12}$/) });
    first.unload();

    // Someone else writes while the page reloads: what was saved is now behind.
    await seed.sync.merge(SERVICE, id, { n: 2, note: 'later' });

    // The new page starts offline, so nothing from the relay can come before storage.
    const second = openPage(relay, origin, { autoConnect: false });
    second.client.disconnect();
    const r2 = openReader<Counter>(second.client, SERVICE, id);
    await eventually(() => r2.snap().status === 'ready', 5000, 'the saved document to show');
    expect(r2.snap()).toMatchObject({ status: 'ready', revision: 1, data: { n: 1 }, pending: 0, unconfirmed: true, error: undefined });
    // Still offline: it stays as saved, flagged.
    await new Promise((r) => setTimeout(r, 50));
    expect(r2.snap()).toMatchObject({ revision: 1, data: { n: 1 }, unconfirmed: true });

    second.client.connect();
    await eventually(() => r2.snap().unconfirmed === false, 5000, 'the relay to confirm');
    expect(r2.snap()).toMatchObject({ status: 'ready', revision: 2, data: { n: 2, note: 'later' }, pending: 0, unconfirmed: false });
    // What is saved follows the relay's word.
    await eventually(async () => (await savedDocument(SERVICE, id))?.revision === 2, 5000, 'revision 2 to be saved');
    expect(await savedDocument(SERVICE, id)).toMatchObject({ revision: 2, data: { n: 2, note: 'later' } });
    expect(await seed.sync.get(SERVICE, id)).toMatchObject({ revision: 2, data: { n: 2, note: 'later' } });
  });

  it('writes made offline are sent by the next page, each applied exactly once, and storage is left empty', async () => {
    const { id, first, r1 } = await firstPage({ n: 0 });
    first.client.disconnect();
    const writes = [r1.actions.mutate({ n: increment(1) }), r1.actions.mutate({ n: increment(10), m: increment(5) }), r1.actions.mutate({ n: increment(100) })];
    for (const w of writes) void outcome(w);
    expect(r1.snap()).toMatchObject({ revision: 1, pending: 3, data: { n: 111, m: 5 } });
    await eventually(async () => (await savedWrites(origin)).length === 3, 5000, 'the three writes to be saved');
    const saved = (await savedWrites(origin)).sort((x, y) => x.seq - y.seq);
    expect(saved.map((w) => [w.kind, w.ops, w.baseRevision])).toEqual([
      ['mutate', [{ op: 'increment', path: 'n', value: 1 }], 1],
      ['mutate', [{ op: 'increment', path: 'n', value: 10 }, { op: 'increment', path: 'm', value: 5 }], 1],
      ['mutate', [{ op: 'increment', path: 'n', value: 100 }], 1],
    ]);
    first.unload();
    expect(await seed.sync.get(SERVICE, id)).toMatchObject({ revision: 1, data: { n: 0 } });

    const second = openPage(relay, origin);
    await opened(second.client);
    second.cache.restore();
    second.cache.restore(); // once: a second call sends nothing more
    const r2 = openReader<Counter>(second.client, SERVICE, id);
    await eventually(async () => (await seed.sync.get<Counter>(SERVICE, id)).revision === 4, 5000, 'the three writes to land');
    await eventually(() => r2.snap().pending === 0 && r2.snap().revision === 4, 5000, 'the new page to show them');
    expect(r2.snap()).toMatchObject({ status: 'ready', revision: 4, data: { n: 111, m: 5 }, pending: 0, unconfirmed: false });
    expect(r2.failures).toEqual([]);
    // Each saved write answered once (their order is the next test's).
    expect(r2.activity('ack').map((a) => a.mutationId).sort()).toEqual(saved.map((w) => w.mutationId).sort());
    // Answered, so forgotten.
    await eventually(async () => (await savedWrites(origin)).length === 0, 5000, 'storage to forget the writes');
    second.unload();
    expect(await claimable()).toEqual([]);
    // A third page has nothing to send: the counts stay.
    const third = openPage(relay, origin);
    third.cache.restore();
    const r3 = openReader<Counter>(third.client, SERVICE, id);
    await eventually(() => r3.snap().status === 'ready' && !r3.snap().unconfirmed, 5000, 'the third page to load');
    await third.client.request({ type: 'ping' });
    expect(r3.snap()).toMatchObject({ revision: 4, data: { n: 111, m: 5 }, pending: 0 });
    expect(await seed.sync.get(SERVICE, id)).toMatchObject({ revision: 4, data: { n: 111, m: 5 } });
  });

  /** Page 1 makes `count` merges of one field offline (`between`: how it spaces them) and reloads; page 2 restores them. */
  async function restoredInOrder(count: number, { between, sameMillisecond = false }: { between?: () => Promise<void>; sameMillisecond?: boolean } = {}) {
    const { id, first, r1 } = await firstPage({ n: 0 });
    first.client.disconnect();
    // A burst (one handler making several writes): the clock does not move between them.
    const clock = sameMillisecond ? vi.spyOn(Date, 'now').mockReturnValue(Date.now()) : undefined;
    try {
      for (let i = 1; i <= count; i++) {
        void outcome(r1.actions.merge({ note: `w${i}` }));
        await between?.();
      }
    } finally {
      clock?.mockRestore();
    }
    const made = r1.entry.pendingWrites.map((p) => p.mutationId);
    expect(made).toHaveLength(count);
    expect(r1.snap()).toMatchObject({ pending: count, data: { n: 0, note: `w${count}` } });
    await eventually(async () => (await savedWrites(origin)).length === count, 5000, 'the writes to be saved');
    // Saved in the order made (claimWrites hands them out by seq).
    const bySeq = (await savedWrites(origin)).sort((x, y) => x.seq - y.seq).map((w) => w.mutationId);
    first.unload();
    const second = openPage(relay, origin);
    second.cache.restore();
    const r2 = openReader<Counter>(second.client, SERVICE, id);
    await eventually(() => r2.activity('ack').length === count, 5000, 'every write answered');
    await eventually(() => r2.snap().pending === 0, 5000, 'nothing pending');
    return { id, made, bySeq, r2 };
  }

  it('several writes left by a page go out in the order they were made', async () => {
    // Each in a millisecond of its own, so the order saved is unambiguous.
    const { id, made, bySeq, r2 } = await restoredInOrder(4, { between: () => new Promise((r) => setTimeout(r, 3)) });
    expect(bySeq).toEqual(made);
    expect(r2.activity('ack').map((a) => a.mutationId)).toEqual(made);
    expect(await seed.sync.get(SERVICE, id)).toMatchObject({ revision: 5, data: { n: 0, note: 'w4' } });
    expect(r2.snap()).toMatchObject({ status: 'ready', revision: 5, data: { n: 0, note: 'w4' } });
  });

  it('several writes made within one millisecond also go out in the order they were made', async () => {
    const { id, made, bySeq, r2 } = await restoredInOrder(4, { sameMillisecond: true });
    expect(bySeq).toEqual(made);
    expect(r2.activity('ack').map((a) => a.mutationId)).toEqual(made);
    expect(await seed.sync.get(SERVICE, id)).toMatchObject({ revision: 5, data: { n: 0, note: 'w4' } });
  });

  it('a write the relay applied but whose answer the page never got is sent again by the next page and applied once', async () => {
    const { id, first, r1 } = await firstPage({ n: 0 });
    // The page dies before the answer: its writes go out, but what comes back is never heard.
    const request = first.client.request.bind(first.client);
    first.client.request = (message, options) => (message.type === 'mutate' ? (void request(message, options).catch(() => {}), new Promise<never>(() => {})) : request(message, options));
    void outcome(r1.actions.mutate({ n: increment(7) }));
    await eventually(async () => (await seed.sync.get<Counter>(SERVICE, id)).revision === 2, 5000, 'the relay to apply it');
    await eventually(async () => (await savedWrites(origin)).length === 1, 5000, 'the write to be saved');
    first.unload();

    const second = openPage(relay, origin);
    second.cache.restore();
    const r2 = openReader<Counter>(second.client, SERVICE, id);
    await eventually(async () => (await savedWrites(origin)).length === 0, 5000, 'the write to be answered and forgotten');
    await eventually(() => r2.activity('ack').length === 1 && !r2.snap().unconfirmed && r2.entry.pendingWrites.length === 0, 5000, 'the relay to answer it');
    // Answered as it first landed (revision 2): the write is done, and shown once.
    expect(r2.activity('ack')).toMatchObject([{ write: 'mutate', revision: 2 }]);
    expect(r2.snap()).toMatchObject({ status: 'ready', revision: 2, data: { n: 7 }, pending: 0 });
    expect(r2.failures).toEqual([]);
    expect(await seed.sync.get(SERVICE, id)).toMatchObject({ revision: 2, data: { n: 7 } });
  });
});

/** A storage whose every method rejects, counting calls. */
function brokenStorage(): Storage & { calls: string[] } {
  const calls: string[] = [];
  const fail = (name: string) => () => {
    calls.push(name);
    return Promise.reject(new Error(`QuotaExceededError: ${name}`));
  };
  return {
    calls,
    loadDocument: fail('loadDocument'),
    saveDocument: fail('saveDocument'),
    removeDocument: fail('removeDocument'),
    saveWrite: fail('saveWrite'),
    removeWrite: fail('removeWrite'),
    claimWrites: fail('claimWrites'),
  };
}

describe('a storage that fails', () => {
  it('every method rejecting: the app goes on in memory, with exactly one warning, and its writes land', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const id = uid();
    await seed.sync.create<Counter>(SERVICE, { n: 0 }, id);
    const storage = brokenStorage();
    const client = await opened(connect(relay));
    const r = openReader<Counter>(client, SERVICE, id, { cache: { storage } });
    documentCache(client).restore();
    await eventually(() => r.snap().status === 'ready', 5000, 'it to load');
    expect(r.snap()).toMatchObject({ revision: 1, data: { n: 0 }, unconfirmed: false });
    for (let i = 0; i < 3; i++) await r.actions.mutate({ n: increment(1) });
    // Offline and back, too.
    client.disconnect();
    const offline = r.actions.merge({ note: 'offline' });
    client.connect();
    await offline;
    await eventually(() => r.snap().revision === 5 && r.snap().pending === 0, 5000, 'every write answered');
    await new Promise((res) => setTimeout(res, 300)); // past the save interval: a save would have been tried
    expect(r.snap()).toMatchObject({ status: 'ready', revision: 5, data: { n: 3, note: 'offline' }, pending: 0 });
    expect(r.failures).toEqual([]);
    expect(await seed.sync.get(SERVICE, id)).toMatchObject({ revision: 5, data: { n: 3, note: 'offline' } });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/^syncdoc: the storage failed, so documents and pending writes are kept in memory only from now on: Error: QuotaExceededError: /);
    // Left alone once it failed: only the calls already on their way when the first one failed.
    expect(storage.calls.length).toBeLessThanOrEqual(2);
    expect(storage.calls.every((c) => c === 'loadDocument' || c === 'claimWrites')).toBe(true);
  });

  /**
   * A page whose storage reads and saves writes, but throws on forgetting a write and on saving
   * or removing a document: its first write is saved, then forgetting it degrades the storage.
   * Two more writes follow in memory. Returns with the page unloaded.
   */
  async function degradedAfterSaveWrite() {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const id = uid();
    await seed.sync.create<Counter>(SERVICE, { n: 0 }, id);
    const calls: string[] = [];
    const page = openPage(relay, origin, {}, (inner) => ({
      loadDocument: (s, i) => (calls.push('loadDocument'), inner.loadDocument(s, i)),
      claimWrites: () => (calls.push('claimWrites'), inner.claimWrites()),
      saveWrite: (w) => (calls.push('saveWrite'), inner.saveWrite(w)),
      removeWrite: () => {
        calls.push('removeWrite');
        throw new TypeError('removeWrite broke');
      },
      saveDocument: () => {
        calls.push('saveDocument');
        throw new TypeError('saveDocument broke');
      },
      removeDocument: () => {
        calls.push('removeDocument');
        throw new TypeError('removeDocument broke');
      },
    }));
    page.cache.restore();
    const r = openReader<Counter>(page.client, SERVICE, id);
    await eventually(() => r.snap().status === 'ready', 5000, 'it to load');
    // The first write is saved, then answered: forgetting it throws, and storage is left.
    expect(await r.actions.mutate({ n: increment(1) })).toMatchObject({ revision: 2, data: { n: 1 } });
    await eventually(() => warn.mock.calls.length === 1, 5000, 'the warning');
    expect(await savedWrites(origin)).toHaveLength(1);
    // From then on in memory: writes land, nothing more reaches the storage.
    const before = calls.length;
    await r.actions.mutate({ n: increment(1) });
    await r.actions.merge({ note: 'in memory' });
    await new Promise((res) => setTimeout(res, 300)); // past the save interval: a save would have been tried
    const after = calls.slice(before);
    page.unload();
    return { id, warn, calls, after, r };
  }

  it('saveWrite working, later methods throwing: degrades once, and the app goes on in memory', async () => {
    const { id, warn, calls, after, r } = await degradedAfterSaveWrite();
    expect(after).toEqual([]);
    expect(calls.filter((c) => c === 'saveWrite')).toHaveLength(1);
    expect(calls).toContain('removeWrite');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/^syncdoc: the storage failed, so documents and pending writes are kept in memory only from now on: TypeError: (removeWrite|saveDocument) broke$/);
    expect(r.snap()).toMatchObject({ status: 'ready', revision: 4, data: { n: 2, note: 'in memory' }, pending: 0 });
    expect(r.failures).toEqual([]);
    expect(await seed.sync.get(SERVICE, id)).toMatchObject({ revision: 4, data: { n: 2, note: 'in memory' } });
    // What was kept stays for the next page.
    expect((await savedWrites(origin)).map((w) => w.ops)).toEqual([[{ op: 'increment', path: 'n', value: 1 }]]);
  });

  it('the write a degraded storage kept is sent by the next page and answered, not applied again', async () => {
    const { id, warn } = await degradedAfterSaveWrite();
    // The next page, with a storage that works, claims the leftover write: the relay knows its
    // mutation id, so it is answered as it first landed, not applied again.
    const next = openPage(relay, origin);
    next.cache.restore();
    const r2 = openReader<Counter>(next.client, SERVICE, id);
    await eventually(async () => (await savedWrites(origin)).length === 0, 5000, 'the leftover write to be answered and forgotten');
    await eventually(() => r2.activity('ack').length === 1 && !r2.snap().unconfirmed && r2.entry.pendingWrites.length === 0, 5000, 'the relay to answer it');
    expect(await seed.sync.get(SERVICE, id)).toMatchObject({ revision: 4, data: { n: 2, note: 'in memory' } });
    expect(r2.activity('ack')).toMatchObject([{ write: 'mutate', revision: 2 }]);
    expect(r2.failures).toEqual([]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(await rawRecords(origin, 'writes')).toEqual([]);
    // Shown once, and done.
    expect(r2.snap()).toMatchObject({ status: 'ready', revision: 4, data: { n: 2, note: 'in memory' }, pending: 0 });
  });
});

describe('a storage slower than the relay', () => {
  /** A wrapper that holds every `loadDocument` answer until `release()`. */
  function slowLoads() {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let asked = 0;
    let loaded: Promise<unknown> = Promise.resolve();
    const wrap = (s: Storage): Storage => ({
      ...s,
      loadDocument: (service, id) => {
        asked++;
        const answer = held.then(() => s.loadDocument(service, id));
        loaded = answer;
        return answer;
      },
    });
    /** Resolves once the held load has answered and what the entry does with it has run. */
    const settled = async () => {
      await loaded;
      await settle();
    };
    return { wrap, release, asked: () => asked, settled };
  }

  /** Page 1 on a relay of its own reads a document (saved); the page goes away and the relay restarts empty. */
  async function savedThenLost() {
    const before = await startRelay('memory');
    const id = uid();
    const writer = await opened(connect(before));
    const old = await writer.sync.create<Counter>(SERVICE, { n: 1, note: 'old' }, id);
    const first = openPage(before, origin);
    const r1 = openReader<Counter>(first.client, SERVICE, id);
    await eventually(() => r1.snap().status === 'ready', 5000, 'the first page to load it');
    await eventually(async () => (await savedDocument(SERVICE, id))?.revision === 1, 5000, 'the document to be saved');
    first.unload();
    await writer.close();
    const port = before.port;
    await before.close();
    const after = await startRelay('memory', { port });
    return { id, old, after };
  }

  it("a saved state of the same document that loads after the relay's answer changes nothing", async () => {
    const id = uid();
    await seed.sync.create<Counter>(SERVICE, { n: 1 }, id);
    const first = openPage(relay, origin);
    const r1 = openReader<Counter>(first.client, SERVICE, id);
    await eventually(async () => (await savedDocument(SERVICE, id))?.revision === 1, 5000, 'the document to be saved');
    expect(r1.snap()).toMatchObject({ revision: 1 });
    first.unload();
    await seed.sync.merge(SERVICE, id, { n: 2 });
    const slow = slowLoads();
    const second = openPage(relay, origin, {}, slow.wrap);
    const r2 = openReader<Counter>(second.client, SERVICE, id);
    await eventually(() => r2.snap().status === 'ready', 5000, 'the relay to answer');
    expect(slow.asked()).toBe(1);
    slow.release();
    await slow.settled(); // the saved state has loaded
    expect(r2.snap()).toMatchObject({ status: 'ready', revision: 2, data: { n: 2 }, unconfirmed: false });
  });

  it('a saved state of the document before it was lost and created again, loading after the relay answered, does not replace the new one', async () => {
    const { id, old, after } = await savedThenLost();
    const other = await opened(connect(after));
    const fresh = await other.sync.create<Counter>(SERVICE, { n: 100, note: 'new' }, id);
    expect(fresh.incarnation).not.toBe(old.incarnation);
    const slow = slowLoads();
    const second = openPage(after, origin, {}, slow.wrap);
    const r2 = openReader<Counter>(second.client, SERVICE, id);
    await eventually(() => r2.snap().status === 'ready', 5000, 'the relay to answer');
    expect(r2.snap()).toMatchObject({ revision: 1, data: { n: 100, note: 'new' }, unconfirmed: false });
    expect(slow.asked()).toBe(1);
    slow.release();
    await slow.settled(); // the saved state has loaded
    expect(r2.snap()).toMatchObject({ status: 'ready', revision: 1, data: { n: 100, note: 'new' }, unconfirmed: false });
    // Writes go to the new document.
    expect(await r2.actions.merge({ note: 'newer' })).toMatchObject({ revision: 2, incarnation: fresh.incarnation });
    expect(await other.sync.get(SERVICE, id)).toMatchObject({ revision: 2, data: { n: 100, note: 'newer' } });
  });

  it('a saved state of a document the relay lost, loading after the relay said not_found, does not bring it back', async () => {
    const { id, after } = await savedThenLost();
    const slow = slowLoads();
    const second = openPage(after, origin, {}, slow.wrap);
    const r2 = openReader<Counter>(second.client, SERVICE, id);
    await eventually(() => r2.snap().status === 'not-found', 5000, 'the relay to answer');
    expect(slow.asked()).toBe(1);
    slow.release();
    await slow.settled(); // the saved state has loaded
    expect(r2.snap()).toMatchObject({ status: 'not-found', data: undefined, revision: undefined, error: { code: 'not_found' } });
    const other = await opened(connect(after));
    await expect(other.sync.get(SERVICE, id)).rejects.toMatchObject({ code: 'not_found' });
  });
});
