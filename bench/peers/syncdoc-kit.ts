/**
 * syncdoc's clients for the peer comparisons: one `RealtimeClient` (WebSocket from `ws`) per
 * writer or watcher. A write is `realtime.sync.merge` of one small field, acknowledged by the
 * relay's result; a watcher is `subscribe({ topic: 'sync.bench.updated', filter: { id } })` in
 * the default return mode (full).
 */
import WebSocket from 'ws';
import { RealtimeClient } from '../../src/index.js';
import { type Kit, Tally } from './kit.js';

const SERVICE = 'bench';

const client = (url: string) => new RealtimeClient({ url, WebSocket, reconnection: false });

export const syncdocKit: Kit = {
  name: 'syncdoc',

  async seed(url, docs, fields) {
    const rt = client(url);
    try {
      await Promise.all(docs.map((id) => rt.sync.create(SERVICE, Object.fromEntries(fields.map((f) => [f, 0])), id)));
    } finally {
      await rt.close();
    }
  },

  async writer(url, doc, field) {
    const rt = client(url);
    const current = await rt.sync.get(SERVICE, doc);
    let seq = typeof current.data[field] === 'number' ? (current.data[field] as number) : 0;
    return {
      get seq() {
        return seq;
      },
      async write() {
        await rt.sync.merge(SERVICE, doc, { [field]: seq + 1 });
        seq += 1;
      },
      close: () => rt.close(),
    };
  },

  async watcher(url, doc) {
    const rt = client(url);
    const tally = new Tally();
    rt.subscribe({ topic: `sync.${SERVICE}.updated`, filter: { id: doc } }, (event) => tally.seeAll(event.payload.data));
    // Requests go out after the subscription on the same socket and the relay runs them only
    // once the subscription is live, so this answer means events flow.
    tally.seeAll((await rt.sync.get(SERVICE, doc)).data);
    return {
      get total() {
        return tally.total;
      },
      close: () => rt.close(),
    };
  },
};
