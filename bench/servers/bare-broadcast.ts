/**
 * Baseline for measure 2: a bare `ws` server that, for each message on /pub, writes one
 * pre-serialized buffer (an event frame the size of the relay's, carrying the sequence number)
 * to every socket on /sub, then answers the publisher.
 */
import { broadcastServer } from '../support/broadcast-server.js';
import { tell } from '../support/processes.js';

const template = (seq: string) =>
  `{"type":"event","event":{"topic":"sync.bench.updated","source":"sync","metadata":{"operation":"merge","service":"bench","id":"fan","revision":${seq},"timestamp":1764460000000,"mutationId":"f123456_${seq}"},"payload":{"data":{"seq":${seq},"label":"small document"}}}}`;
const { url } = await broadcastServer((raw, publisher, subscribers) => {
  const buf = Buffer.from(template(String(raw))); // serialized once, sent to every subscriber
  for (const s of subscribers) s.send(buf, { binary: false });
  publisher.send('{"type":"result"}');
});
process.on('SIGTERM', () => process.exit(0));
tell({ type: 'ready', url });
