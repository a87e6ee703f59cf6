/**
 * Baseline for measure 3: WebSocket in -> Redis PUBLISH -> (subscriber connection) ->
 * WebSocket out to every socket on /sub, the message passed through as it came.
 */
import { Redis } from 'ioredis';
import { broadcastServer } from '../support/broadcast-server.js';
import { tell } from '../support/processes.js';

const channel = `bare-latency:${process.pid}`;
const pub = new Redis(process.env.REDIS_URL!, { enableAutoPipelining: false });
const sub = new Redis(process.env.REDIS_URL!);
const { url, subscribers } = await broadcastServer((raw, publisher) => {
  void pub.publish(channel, raw as Buffer).then(() => publisher.send('{"type":"result"}'));
});
await sub.subscribe(channel);
sub.on('messageBuffer', (_channel: Buffer, message: Buffer) => {
  for (const s of subscribers) s.send(message, { binary: false });
});
process.on('SIGTERM', () => process.exit(0));
tell({ type: 'ready', url });
