/**
 * The page of measure 15 (bench/measures/storage-reload.ts), bundled with esbuild and opened in
 * Chromium: one 100 kB document, `?doc=` of the service `bench`, rendered whole (a header and
 * every item) through `RealtimeProvider` with `indexedDbStorage` and `useSyncDocument`, from the
 * relay `?relay=`. It records, in `window.reloadTimes` ({@link ReloadTimes}), `performance.now()`
 * (ms since the navigation started) at the first commit of the document shown from storage
 * (`ready`, `unconfirmed: true`) and at the first commit of the relay's answer (`unconfirmed:
 * false`), and when its storage read was asked and answered (the storage is wrapped to time it).
 */
import { memo, type ReactNode, useLayoutEffect } from 'react';
import { createRoot } from 'react-dom/client';
import { RealtimeProvider, useSyncDocument } from '../../src/react.js';
import { type Storage, indexedDbStorage } from '../../src/storage.js';

/** What the page records; read by the bench through `page.evaluate`. */
export interface ReloadTimes {
  /** First commit of the document from storage (ready, unconfirmed), ms since navigation start. */
  storage?: number;
  /** First commit of the relay's answer (ready, confirmed). */
  relay?: number;
  /** Items on screen at each of those commits (the whole document is rendered). */
  storageItems?: number;
  relayItems?: number;
  /** The revision shown at each. */
  storageRevision?: number;
  relayRevision?: number;
  /** When the cache asked storage for the document, when storage answered, and whether it had it. */
  loadAsked?: number;
  loadAnswered?: number;
  loadFound?: boolean;
  loadError?: string;
}

/** The page's window, with what it records. */
export type ReloadWindow = Window & { reloadTimes?: ReloadTimes };

interface Item {
  id: string;
  sku: string;
  name: string;
  qty: number;
  price: number;
  done: boolean;
  tags: string[];
  attrs: { color: string; size: string; weight: number };
}

interface Board {
  title: string;
  status: string;
  owner: { name: string };
  items: Item[];
}

const params = new URLSearchParams(window.location.search);
const times: ReloadTimes = ((window as ReloadWindow).reloadTimes = {});

const Row = memo(function Row({ item }: { item: Item }): ReactNode {
  return (
    <li>
      {item.id} · {item.sku} · {item.name} · {item.qty} × {item.price} · {item.done ? 'done' : 'open'} · {item.tags.join(', ')} · {item.attrs.color}{' '}
      {item.attrs.size} {item.attrs.weight} g
    </li>
  );
});

function BoardView({ id }: { id: string }): ReactNode {
  const doc = useSyncDocument<Board>('bench', id);
  const ready = doc.status === 'ready';
  useLayoutEffect(() => {
    if (!ready) return;
    // After the commit: the document is in the DOM.
    const now = performance.now();
    const items = document.querySelectorAll('li').length;
    if (doc.unconfirmed && times.storage === undefined) Object.assign(times, { storage: now, storageItems: items, storageRevision: doc.revision });
    if (!doc.unconfirmed && times.relay === undefined) Object.assign(times, { relay: now, relayItems: items, relayRevision: doc.revision });
  }, [ready, doc.unconfirmed, doc.revision]);
  if (doc.status !== 'ready') return <p>{doc.status}</p>;
  return (
    <main>
      <h1>{doc.data.title}</h1>
      <p>
        {doc.data.status} · {doc.data.owner.name} · revision {doc.revision} · {doc.unconfirmed ? 'from storage, not yet confirmed' : 'confirmed'}
      </p>
      <ol>
        {doc.data.items.map((item) => (
          <Row key={item.id} item={item} />
        ))}
      </ol>
    </main>
  );
}

const saved = indexedDbStorage('bench-reload');
// The same storage, timing its one read (for the log: where A's time goes).
const storage: Storage = {
  ...saved,
  loadDocument(service, id) {
    times.loadAsked ??= performance.now();
    return saved.loadDocument(service, id).then(
      (doc) => {
        times.loadAnswered ??= performance.now();
        times.loadFound ??= doc !== undefined;
        return doc;
      },
      (err: unknown) => {
        times.loadError ??= String(err);
        throw err;
      },
    );
  },
};
createRoot(document.getElementById('root')!).render(
  <RealtimeProvider url={params.get('relay')!} storage={storage}>
    <BoardView id={params.get('doc')!} />
  </RealtimeProvider>,
);
