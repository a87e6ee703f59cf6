/**
 * 7 — React components re-rendered ÷ components whose selected value changed.
 *
 * 100 components, each `useSyncDocument(service, id, { select: d => d[`f${i}`] })` on one
 * document, are mounted with react-dom's `createRoot` in jsdom under a `RealtimeProvider` whose
 * client is a real `RealtimeClient` (ws) of an in-process relay (createRelay, memory store).
 * Random writes go to the relay's store (a real value change of one field, a write that leaves
 * the field as it was, or a write to a field nobody selects); inside one `act()` per write, the
 * bench waits until the client has applied that revision, so React renders each write apart. A counts the renders after the document has loaded (a counter in each component);
 * B counts the (component, write) pairs whose selected value really changed, judged from the
 * store's data before and after each write.
 */
import { type ReactNode, act, createElement } from 'react';
import WebSocket from 'ws';
import { createRelay } from '../../server/index.js';
import { documentCache } from '../../src/core/document-cache.js';
import { RealtimeClient } from '../../src/index.js';
import { RealtimeProvider, useSyncDocument } from '../../src/react.js';
import type { JsonObject, MutationOp } from '../../src/protocol/index.js';
import { compare, type Measure, sleep } from '../harness.js';
import { BENCH_LIMITS } from '../support/relay-config.js';
import { prng } from './client-diff.js';

const SERVICE = 'bench';
const ID = 'doc_select';
const COMPONENTS = 100;
const FIELDS = Array.from({ length: COMPONENTS }, (_, i) => `f${i}`);

/** jsdom has no type declarations in this project: the little of it used here. */
interface JsdomWindow {
  document: Document;
  navigator: Navigator;
  close(): void;
}
interface JsdomModule {
  JSDOM: new (html: string) => { window: JsdomWindow };
}

/** f0..f99 (numbers, strings and small objects, in turn) and fields no component selects. */
function fieldsDocument(): JsonObject {
  const doc: JsonObject = { title: 'select benchmark', meta: { writes: 0, by: 'bench' } };
  FIELDS.forEach((f, i) => {
    doc[f] = i % 3 === 0 ? i : i % 3 === 1 ? `value ${i}` : { n: i, label: `item ${i}` };
  });
  return doc;
}

/** One random write: 60% a real change of a selected field, 20% a same-value write, 20% an unselected field. */
function randomWrite(data: JsonObject, rnd: () => number, w: number): MutationOp {
  const f = FIELDS[Math.floor(rnd() * COMPONENTS)]!;
  const value = data[f]!;
  const r = rnd();
  if (r < 0.6) {
    if (typeof value === 'number') return { op: 'set', path: f, value: value + 1 };
    if (typeof value === 'string') return { op: 'set', path: f, value: `value w${w}` };
    return { op: 'set', path: `${f}.n`, value: (value as { n: number }).n + 1 };
  }
  if (r < 0.8) return { op: 'set', path: f, value: structuredClone(value) };
  return { op: 'set', path: 'meta.writes', value: w + 1 };
}

function Field(props: { id: string; i: number; counts: number[] }): ReactNode {
  const { id, i, counts } = props;
  const doc = useSyncDocument<JsonObject, unknown>(SERVICE, id, { select: (d) => d[`f${i}`] });
  counts[i] = (counts[i] ?? 0) + 1;
  return createElement('span', null, doc.status === 'ready' ? `${JSON.stringify(doc.data)};` : `${doc.status};`);
}

export const selectRenders: Measure = {
  key: 'select-renders',
  id: 7,
  async run(ctx) {
    const writes = Math.max(20, Math.round(200 * ctx.scale));
    const g = globalThis as Record<string, unknown>;
    const saved = { window: g.window, document: g.document, navigator: g.navigator, act: g.IS_REACT_ACT_ENVIRONMENT };
    const { JSDOM } = (await import('jsdom' as string)) as JsdomModule;
    const dom = new JSDOM('<!doctype html><html><body></body></html>');
    g.window = dom.window;
    g.document = dom.window.document;
    g.navigator = dom.window.navigator;
    g.IS_REACT_ACT_ENVIRONMENT = true;
    // react-dom decides at load whether there is a DOM: load it only now.
    const { createRoot } = await import('react-dom/client');

    // Limits out of the way, as on every bench relay (support/relay-config.ts).
    const relay = await createRelay({ port: 0, log: () => {}, limits: BENCH_LIMITS });

    /** One workload: mount, load, `writes` writes one by one, on a fresh client and document. */
    const workload = async (seed: number): Promise<{ renders: number; changed: number }> => {
      const rnd = prng(seed);
      const id = `${ID}_${seed}`;
      const { store } = relay;
      await store.create(SERVICE, id, fieldsDocument());
      const client = new RealtimeClient({ url: relay.url, WebSocket });
      /** Inside act(): waits until the cache entry the hooks share has applied `revision` (its event has arrived). */
      const reach = async (revision: number) => {
        const { entry } = documentCache(client).document(SERVICE, id);
        for (const started = Date.now(); (entry.getSnapshot().revision ?? 0) < revision; ) {
          if (Date.now() - started > 10_000) throw new Error(`select-renders: r${revision} never arrived`);
          await sleep(0);
        }
      };
      const counts: number[] = new Array<number>(COMPONENTS).fill(0);
      const container = dom.window.document.createElement('div');
      dom.window.document.body.appendChild(container);
      const root = createRoot(container);
      const tree = createElement(
        RealtimeProvider,
        { client, cache: { gcTime: 0 } },
        FIELDS.map((_, i) => createElement(Field, { key: i, id, i, counts })),
      );
      await act(async () => root.render(tree));
      await act(() => reach(1));
      const shown = () => container.textContent ?? '';
      const expected = (data: JsonObject) => FIELDS.map((f) => `${JSON.stringify(data[f])};`).join('');
      if (shown() !== expected((await store.get(SERVICE, id)).data as JsonObject)) {
        throw new Error(`select-renders: components did not load: ${shown().slice(0, 80)}`);
      }
      const loaded = counts.reduce((s, n) => s + n, 0);
      let changed = 0;
      for (let w = 0; w < writes; w++) {
        const before = (await store.get(SERVICE, id)).data as JsonObject;
        const was = FIELDS.map((f) => JSON.stringify(before[f]));
        await act(async () => {
          const after = await store.mutate(SERVICE, id, [randomWrite(before, rnd, w)]);
          changed += FIELDS.filter((f, i) => JSON.stringify(after.data[f]) !== was[i]).length;
          await reach(after.revision);
        });
      }
      const final = (await store.get(SERVICE, id)).data as JsonObject;
      if (shown() !== expected(final)) throw new Error('select-renders: components do not show the latest data');
      const renders = counts.reduce((s, n) => s + n, 0) - loaded;
      await act(async () => root.unmount());
      container.remove();
      await sleep(5); // the cache releases the entry (gcTime 0) before the client closes
      await client.close();
      return { renders, changed };
    };

    // A and B of a round come from the same workload: the first of the two calls runs it.
    let round = 0;
    let current: { renders: number; changed: number; taken: number } | undefined;
    const take = (k: 'renders' | 'changed') => async (): Promise<number> => {
      current ??= { ...(await workload(++round)), taken: 0 };
      const value = current[k];
      if (++current.taken === 2) current = undefined;
      return value;
    };

    try {
      return [
        await compare(
          ctx,
          {
            id: 7,
            name: 'select: components re-rendered ÷ selected values changed (100 components)',
            unit: 'renders',
            target: '= 1.0',
            note: `A: renders, after loading, of 100 components each selecting one field with useSyncDocument (react-dom createRoot in jsdom, RealtimeClient over ws to an in-process relay with a memory store) during ${writes} random writes to the store (60% change a selected field, 20% rewrite a field with its own value, 20% touch an unselected field), each awaited in its own act() until the client has applied it; B: (component, write) pairs whose selected value changed, from the store's data before and after each write.`,
          },
          take('renders'),
          take('changed'),
        ),
      ];
    } finally {
      await relay.close();
      dom.window.close();
      for (const [k, v] of [
        ['window', saved.window],
        ['document', saved.document],
        ['navigator', saved.navigator],
        ['IS_REACT_ACT_ENVIRONMENT', saved.act],
      ] as const) {
        if (v === undefined) delete g[k];
        else g[k] = v;
      }
    }
  },
};
