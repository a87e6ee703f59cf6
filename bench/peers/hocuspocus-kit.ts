/**
 * Hocuspocus's clients for comparison 12: one `HocuspocusProvider` with its own
 * `HocuspocusProviderWebsocket` (WebSocket from `ws`) and a fresh Y.Doc per writer or watcher,
 * provider defaults otherwise (awareness on, no client-side batching). A write is one
 * `Y.Map#set` of the writer's field, acknowledged when the server's SyncStatus reply brings the
 * provider's `unsyncedChanges` back to 0; a watcher counts on `Y.Map#observe`. Every provider
 * of a document receives every update (Yjs has no write-only connection).
 */
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { type Kit, Tally, until } from './kit.js';

const MAP = 'fields';

async function open(url: string, name: string): Promise<{ provider: HocuspocusProvider; close: () => Promise<void> }> {
  const socket = new HocuspocusProviderWebsocket({ url, WebSocketPolyfill: WebSocket });
  const provider = new HocuspocusProvider({ websocketProvider: socket, name, document: new Y.Doc() });
  provider.attach();
  await until(() => provider.isSynced && provider.unsyncedChanges === 0, `Hocuspocus sync of ${name}`);
  return {
    provider,
    close: async () => {
      provider.destroy();
      socket.destroy();
    },
  };
}

export const hocuspocusKit: Kit = {
  name: 'Hocuspocus',

  // Documents come to be when first opened; a missing field counts as 0.
  async seed() {},

  async writer(url, name, field) {
    const { provider, close } = await open(url, name);
    const map = provider.document.getMap<number>(MAP);
    let seq = map.get(field) ?? 0;
    let acked: (() => void) | undefined;
    provider.on('unsyncedChanges', ({ number }: { number: number }) => {
      if (number === 0 && acked) {
        const done = acked;
        acked = undefined;
        done();
      }
    });
    return {
      get seq() {
        return seq;
      },
      async write() {
        await new Promise<void>((resolve) => {
          acked = resolve;
          map.set(field, seq + 1);
        });
        seq += 1;
      },
      close,
    };
  },

  async watcher(url, name) {
    const { provider, close } = await open(url, name);
    const map = provider.document.getMap<number>(MAP);
    const tally = new Tally();
    map.observe((event) => {
      for (const key of event.keysChanged) tally.see(key, map.get(key));
    });
    tally.seeAll(map.toJSON());
    return {
      get total() {
        return tally.total;
      },
      close,
    };
  },
};
