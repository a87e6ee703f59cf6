/**
 * Baseline for measure 3: WebSocket in -> Redis PUBLISH -> (subscriber connection) ->
 * WebSocket out to every socket on /sub, the message passed through as it came.
 */
import { Redis } from 'ioredis';
import { WebSocketServer, type WebSocket } from 'ws';
import { tell } from '../support/processes.js';

const channel = `bare-latency:${process.pid}`;
const pub = new Redis(process.env.REDIS_URL!, { enableAutoPipelining: true });
const sub = new Redis(process.env.REDIS_URL!);
const subs = new Set<WebSocket>();
await sub.subscribe(channel);
sub.on('messageBuffer', (_channel: Buffer, message: Buffer) => {
  for (const s of subs) s.send(message, { binary: false });
});
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
wss.on('connection', (ws, req) => {
  if (req.url === '/sub') {
    subs.add(ws);
    ws.on('close', () => subs.delete(ws));
    return;
  }
  ws.on('message', (raw) => {
    void pub.publish(channel, raw as Buffer).then(() => ws.send('{"type":"result"}'));
  });
});
await new Promise((r) => wss.once('listening', r));
process.on('SIGTERM', () => process.exit(0));
tell({ type: 'ready', url: `http://127.0.0.1:${(wss.address() as { port: number }).port}` });
