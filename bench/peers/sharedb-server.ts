/**
 * The ShareDB side of comparison 11, in one process, set up as ShareDB's README and examples
 * show: `new ShareDB({ pubsub })` with its default in-memory database (ShareDB.MemoryDB), json0
 * (the default type), `sharedb-redis-pubsub` on the harness's Redis (its two node-redis
 * connections, commands and subscriber, made by the adapter), and a `ws` server whose every
 * connection goes to `backend.listen(new WebSocketJSONStream(ws))`. Env: REDIS_URL.
 */
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import ShareDB from 'sharedb';
import { type WebSocket, WebSocketServer } from 'ws';
import { serveChild } from './child.js';

// Neither package ships types (nor has @types): their documented signatures, by hand.
const require = createRequire(import.meta.url);
const WebSocketJSONStream = require('@teamwork/websocket-json-stream') as new (ws: WebSocket) => Duplex;
const redisPubSub = require('sharedb-redis-pubsub') as (options: { url: string; prefix?: string }) => ShareDB.PubSub;

serveChild(async () => {
  // Without a client of ours, the adapter creates both of its node-redis connections from these
  // options (its own dependency, redis 5); `prefix` names its channels.
  const backend = new ShareDB({ pubsub: redisPubSub({ url: process.env.REDIS_URL!, prefix: 'bench-sharedb' }) });
  // For the log: a submit whose commit lost a race with another submit to the same document
  // goes round again (SubmitRequest.retry, unlimited by default).
  let submitRetries = 0;
  backend.on('timing', (type: string) => {
    if (type === 'submit.retry') submitRetries++;
  });
  const http = createServer();
  const wss = new WebSocketServer({ server: http });
  wss.on('connection', (ws) => backend.listen(new WebSocketJSONStream(ws)));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    info: { url: `ws://127.0.0.1:${port}` },
    handle: () => ({ submitRetries }),
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => backend.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
});
