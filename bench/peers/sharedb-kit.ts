/**
 * ShareDB's clients for comparison 11: one `sharedb/lib/client` Connection over a `ws` WebSocket
 * per writer or watcher. A write is `doc.submitOp([{ p: [field], od, oi }])` (json0), acknowledged
 * by the submit callback; writers only `fetch` the document (ShareDB still sends them the ops
 * they missed before each ack, as OT needs), watchers `subscribe` and count on `op`.
 */
import { Connection } from 'sharedb/lib/client';
import type { Doc, Socket } from 'sharedb/lib/sharedb';
import WebSocket from 'ws';
import { type Kit, Tally } from './kit.js';

const COLLECTION = 'bench';

const connect = (url: string) => new Connection(new WebSocket(url) as unknown as Socket);
const call = (fn: (cb: (err?: unknown) => void) => void) =>
  new Promise<void>((resolve, reject) => fn((err) => (err ? reject(err instanceof Error ? err : new Error(JSON.stringify(err))) : resolve())));

export const sharedbKit: Kit = {
  name: 'ShareDB',

  async seed(url, docs, fields) {
    const conn = connect(url);
    try {
      await Promise.all(docs.map((id) => call((cb) => conn.get(COLLECTION, id).create(Object.fromEntries(fields.map((f) => [f, 0])), cb))));
    } finally {
      conn.close();
    }
  },

  async writer(url, id, field) {
    const conn = connect(url);
    const doc: Doc = conn.get(COLLECTION, id);
    await call((cb) => doc.fetch(cb));
    let seq = typeof doc.data?.[field] === 'number' ? (doc.data[field] as number) : 0;
    return {
      get seq() {
        return seq;
      },
      async write() {
        await call((cb) => doc.submitOp([{ p: [field], od: seq, oi: seq + 1 }], undefined, cb));
        seq += 1;
      },
      close: async () => conn.close(),
    };
  },

  async watcher(url, id) {
    const conn = connect(url);
    const doc: Doc = conn.get(COLLECTION, id);
    const tally = new Tally();
    doc.on('op', (op: unknown) => {
      for (const c of Array.isArray(op) ? (op as { p: unknown[] }[]) : []) {
        const key = c.p[0];
        if (typeof key === 'string') tally.see(key, (doc.data as Record<string, unknown>)[key]);
      }
    });
    await call((cb) => doc.subscribe(cb));
    tally.seeAll(doc.data as Record<string, unknown>);
    return {
      get total() {
        return tally.total;
      },
      close: async () => conn.close(),
    };
  },
};
