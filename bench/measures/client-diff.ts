/**
 * 6 — the client applying a one-field diff to a 100 kB document ÷ `structuredClone` of it.
 *
 * A is the hook cache's own path: a real `DocumentEntry` (from `documentCache`, as the hooks get
 * it) loaded through the fake transport from a real memory store, then fed, one by one, diff
 * events the store itself published (`DocumentEntry.receive` → copy-on-write `applyDiff` that
 * freezes only what it made → snapshot → listener). The events come from a generator store that made
 * one-field `set`s (`items.N.qty`) on the same document, parsed from its diff frames, so they
 * are exactly what a subscriber in diff mode gets. B is `structuredClone` of that document, the
 * price of the naive "copy it and change one field".
 */
import { performance } from 'node:perf_hooks';
import { documentCache } from '../../src/core/document-cache.js';
import type { JsonObject, SyncEvent } from '../../src/protocol/index.js';
import { FakeServer, settle } from '../../test/core/fake-transport.js';
import { compare, type Measure } from '../harness.js';

const SERVICE = 'bench';
const ID = 'doc_client_diff';

/** A small deterministic PRNG (mulberry32), so every run builds the same document and writes. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['alpha', 'bravo', 'delta', 'echo', 'kilo', 'lima', 'oscar', 'sierra', 'tango', 'zulu', 'north', 'south'];

/**
 * A realistic document of about `bytes` bytes of JSON: a header with nested settings, counters
 * and members, then an `items` array of order-line records (ids, strings, numbers, booleans,
 * tags, nested attributes) until the size is reached.
 */
export function makeDocument(bytes: number, seed = 1): JsonObject {
  const rnd = prng(seed);
  const word = () => WORDS[Math.floor(rnd() * WORDS.length)]!;
  const doc: JsonObject = {
    title: 'Quarterly order board',
    status: 'open',
    owner: { id: 'usr_0001', name: 'Ada Lovelace', email: 'ada@example.com', roles: ['admin', 'editor'] },
    settings: { theme: 'light', locale: 'en-GB', notifications: { email: true, push: false, digest: 'daily' } },
    counters: { views: 0, edits: 0, comments: 0 },
    members: Array.from({ length: 8 }, (_, i) => ({ id: `usr_${1000 + i}`, name: `${word()} ${word()}`, online: rnd() < 0.5 })),
    items: [],
  };
  const items = doc.items as JsonObject[];
  let size = JSON.stringify(doc).length;
  for (let i = 0; size < bytes; i++) {
    const item: JsonObject = {
      id: `itm_${String(i).padStart(5, '0')}`,
      sku: `SKU-${Math.floor(rnd() * 1e6)}`,
      name: `${word()} ${word()} ${word()}`,
      qty: Math.floor(rnd() * 50),
      price: Math.round(rnd() * 100_000) / 100,
      done: rnd() < 0.3,
      tags: [word(), word()],
      attrs: { color: word(), size: ['S', 'M', 'L', 'XL'][Math.floor(rnd() * 4)]!, weight: Math.round(rnd() * 5000) },
    };
    items.push(item);
    size += JSON.stringify(item).length + 1;
  }
  return doc;
}

/** One-field diff events, as a diff-mode subscriber receives them, made by a real memory store. */
async function makeEvents(base: JsonObject, count: number): Promise<{ events: SyncEvent[]; final: unknown }> {
  const server = new FakeServer();
  const probe = server.connect();
  probe.subscribe({ topic: `sync.${SERVICE}.*`, filter: { id: ID }, returnMode: 'diff' });
  await server.store.create(SERVICE, ID, structuredClone(base));
  probe.inbox.length = 0; // the create event
  const items = (base.items as JsonObject[]).length;
  const rnd = prng(7);
  for (let i = 0; i < count; i++) {
    const n = Math.floor(rnd() * items);
    await server.store.mutate(SERVICE, ID, [{ op: 'set', path: `items.${n}.qty`, value: 1000 + i }]);
  }
  const events = probe.inbox.splice(0);
  if (events.length !== count) throw new Error(`client-diff: expected ${count} events, got ${events.length}`);
  const final = (await server.store.get(SERVICE, ID)).data;
  await server.store.close();
  return { events, final };
}

/** A document entry of the hook cache, subscribed and loaded (revision 1) through the fake transport. */
async function loadedEntry(base: JsonObject) {
  const server = new FakeServer();
  const { incarnation } = await server.store.create(SERVICE, ID, structuredClone(base));
  const transport = server.connect();
  const { entry } = documentCache(transport, { gcTime: 0 }).document(SERVICE, ID);
  let notified = 0;
  const unsubscribe = entry.subscribe(() => notified++); // what a mounted hook does
  await transport.process();
  transport.answer();
  await settle();
  if (entry.getSnapshot().status !== 'ready') throw new Error('client-diff: the entry did not load');
  return { entry, incarnation, unsubscribe, notified: () => notified, close: () => server.store.close() };
}

export const clientDiff: Measure = {
  key: 'client-diff',
  id: 6,
  async run(ctx) {
    const base = makeDocument(100 * 1024);
    const bytes = Buffer.byteLength(JSON.stringify(base));
    const count = Math.max(100, Math.round(2000 * ctx.scale));
    const clones = Math.max(20, Math.round(400 * ctx.scale));
    ctx.log(`  document ${bytes} bytes, ${(base.items as unknown[]).length} items; ${count} diff events per round`);
    const { events, final } = await makeEvents(base, count);

    /** µs per event applied by a fresh entry at revision 1, over all the events. */
    const applyDiffs = async (check = false): Promise<number> => {
      const loaded = await loadedEntry(base);
      const copies = structuredClone(events) as SyncEvent[]; // as if freshly parsed from the wire
      // (made by another store: of the loaded document's creation, so the entry applies them)
      for (const e of copies) e.metadata.incarnation = loaded.incarnation;
      const before = loaded.notified();
      const t0 = performance.now();
      for (const e of copies) loaded.entry.receive(e);
      const us = ((performance.now() - t0) * 1000) / copies.length;
      const snap = loaded.entry.getSnapshot();
      if (snap.revision !== 1 + count || loaded.notified() - before !== count) {
        throw new Error(`client-diff: entry at r${snap.revision} after ${loaded.notified() - before} notifications`);
      }
      if (check && JSON.stringify(snap.data) !== JSON.stringify(final)) {
        throw new Error('client-diff: the entry does not hold what the store holds');
      }
      loaded.unsubscribe();
      await loaded.close();
      return us;
    };

    let sink: unknown;
    /** µs per structuredClone of the document. */
    const cloneDocument = async (): Promise<number> => {
      const t0 = performance.now();
      for (let i = 0; i < clones; i++) sink = structuredClone(base);
      const us = ((performance.now() - t0) * 1000) / clones;
      if (sink === base) throw new Error('unreachable');
      return us;
    };

    await applyDiffs(true); // warm-up, and the proof that the timed path really applies the diffs
    await cloneDocument();
    return [
      await compare(
        ctx,
        {
          id: 6,
          name: 'client one-field diff apply ÷ structuredClone, 100 kB document',
          unit: 'µs/op',
          target: '<= 0.02',
          note: `A: a loaded DocumentEntry of the hook cache (fake transport over a memory store) receiving ${count} one-field diff events (items.N.qty set, published by the store) through DocumentEntry.receive (copy-on-write applyDiff freezing only what it made, snapshot, listener), per event; B: structuredClone of the same ${Math.round(bytes / 1024)} kB document (${(base.items as unknown[]).length} nested records), per copy.`,
        },
        () => applyDiffs(),
        cloneDocument,
      ),
    ];
  },
};
