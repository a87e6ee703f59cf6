/**
 * 8 — bytes on the wire per event, diff mode ÷ full mode, for a one-field change of a 10 kB
 * document.
 *
 * A real relay (createRelay, memory store, port 0); two raw `ws` subscribers of the document's
 * topic, one with `returnMode: 'diff'`, one with `'full'`; a third raw socket sends one-field
 * merges (`{ counters: { views: n } }`). The bytes counted are those of the event frames each
 * subscriber receives: the payload plus the WebSocket frame header (server frames are unmasked:
 * 2 bytes, +2 from 126 bytes, +8 from 64 KiB). Deterministic, but run in rounds like the others.
 */
import { once } from 'node:events';
import WebSocket from 'ws';
import { createRelay } from '../../server/index.js';
import { compare, type Measure } from '../harness.js';
import { BENCH_LIMITS } from '../support/relay-config.js';
import { makeDocument } from './client-diff.js';

const SERVICE = 'bench';
const ID = 'doc_wire_bytes';

/** Size of a server-to-client WebSocket frame carrying `payload` bytes. */
function frameBytes(payload: number): number {
  return payload + 2 + (payload >= 65536 ? 8 : payload >= 126 ? 2 : 0);
}

/** A raw socket that answers requests by rid and counts the event frames it receives. */
class RawSocket {
  events = 0;
  bytes = 0;
  private rid = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly eventWaiters: Array<{ count: number; resolve: () => void }> = [];

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString('utf8')) as { type: string; rid?: number; result?: unknown; error?: { message: string } };
      if (m.type === 'event') {
        this.events += 1;
        this.bytes += frameBytes(data.length);
        for (const w of [...this.eventWaiters]) {
          if (this.events >= w.count) {
            this.eventWaiters.splice(this.eventWaiters.indexOf(w), 1);
            w.resolve();
          }
        }
      } else if (m.type === 'result' || m.type === 'error') {
        const w = this.waiting.get(m.rid!);
        this.waiting.delete(m.rid!);
        if (m.type === 'result') w?.resolve(m.result);
        else w?.reject(new Error(m.error?.message ?? 'error'));
      }
    });
  }

  static async open(url: string): Promise<RawSocket> {
    const ws = new WebSocket(url.replace(/^http/, 'ws'));
    const socket = new RawSocket(ws);
    await once(ws, 'open');
    return socket;
  }

  request(message: Record<string, unknown>): Promise<unknown> {
    const rid = ++this.rid;
    return new Promise((resolve, reject) => {
      this.waiting.set(rid, { resolve, reject });
      this.ws.send(JSON.stringify({ ...message, rid }));
    });
  }

  /** Resolves once `count` events in all have arrived. */
  eventsReached(count: number): Promise<void> {
    if (this.events >= count) return Promise.resolve();
    return new Promise((resolve) => this.eventWaiters.push({ count, resolve }));
  }

  close(): void {
    this.ws.close();
  }
}

export const wireBytes: Measure = {
  key: 'wire-bytes',
  id: 8,
  async run(ctx) {
    const writes = Math.max(20, Math.round(200 * ctx.scale));
    const data = makeDocument(10 * 1024, 2);
    const docBytes = Buffer.byteLength(JSON.stringify(data));
    // Limits out of the way, as on every bench relay (support/relay-config.ts).
    const relay = await createRelay({ port: 0, log: () => {}, limits: BENCH_LIMITS });
    const sockets: RawSocket[] = [];
    try {
      const writer = await RawSocket.open(relay.url);
      const diff = await RawSocket.open(relay.url);
      const full = await RawSocket.open(relay.url);
      sockets.push(writer, diff, full);
      const topic = `sync.${SERVICE}.*`;
      await diff.request({ type: 'subscribe', sub: 'sub_1', topic, filter: { id: ID }, returnMode: 'diff' });
      await full.request({ type: 'subscribe', sub: 'sub_1', topic, filter: { id: ID }, returnMode: 'full' });
      await writer.request({ type: 'create', service: SERVICE, id: ID, data });
      await Promise.all([diff.eventsReached(1), full.eventsReached(1)]);
      let views = 0;

      /** Bytes per event frame `socket` received during `writes` one-field merges (both subscribers get them all). */
      const series = async (socket: RawSocket): Promise<number> => {
        const [events, bytes, diffEvents, fullEvents] = [socket.events, socket.bytes, diff.events, full.events];
        const acks: Array<Promise<unknown>> = [];
        for (let i = 0; i < writes; i++) {
          acks.push(writer.request({ type: 'merge', service: SERVICE, id: ID, data: { counters: { views: ++views } } }));
        }
        await Promise.all(acks);
        // Both subscribers receive every event before the next series starts.
        await Promise.all([diff.eventsReached(diffEvents + writes), full.eventsReached(fullEvents + writes)]);
        return (socket.bytes - bytes) / (socket.events - events);
      };

      return [
        await compare(
          ctx,
          {
            id: 8,
            name: 'wire bytes per event, diff ÷ full, one-field change of a 10 kB document',
            unit: 'bytes/event',
            target: '<= 0.1',
            note: `A and B: WebSocket frame bytes (payload + header) per event received by a raw ws subscriber in returnMode diff (A) and full (B) of a real relay (memory store, no permessage-deflate), during ${writes} one-field merges ({ counters: { views: n } }) of a ${(docBytes / 1024).toFixed(1)} kB document sent by a third raw socket.`,
          },
          () => series(diff),
          () => series(full),
        ),
      ];
    } finally {
      for (const s of sockets) s.close();
      await relay.close();
    }
  },
};
