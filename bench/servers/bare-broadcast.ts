/**
 * Baseline for measure 2: a bare `ws` server that, for each message on /pub, writes one
 * pre-serialized buffer (an event frame the size of the relay's, carrying the sequence number)
 * to every socket on /sub, then answers the publisher.
 */
import { WebSocketServer, type WebSocket } from 'ws';
import { tell } from '../support/processes.js';

const subs = new Set<WebSocket>();
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
const template = (seq: string) =>
  `{"type":"event","event":{"topic":"sync.bench.updated","source":"sync","metadata":{"operation":"merge","service":"bench","id":"fan","revision":${seq},"timestamp":1764460000000,"mutationId":"f123456_${seq}"},"payload":{"data":{"seq":${seq},"label":"small document"}}}}`;
wss.on('connection', (ws, req) => {
  if (req.url === '/sub') {
    subs.add(ws);
    ws.on('close', () => subs.delete(ws));
    return;
  }
  ws.on('message', (raw) => {
    const buf = Buffer.from(template(String(raw))); // serialized once, sent to every subscriber
    for (const s of subs) s.send(buf, { binary: false });
    ws.send('{"type":"result"}');
  });
});
await new Promise((r) => wss.once('listening', r));
process.on('SIGTERM', () => process.exit(0));
tell({ type: 'ready', url: `http://127.0.0.1:${(wss.address() as { port: number }).port}` });
