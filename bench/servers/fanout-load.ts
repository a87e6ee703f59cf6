/**
 * Fan-out load, in its own process: N subscriber sockets and one writer socket. The writer
 * keeps WINDOW events outstanding and sends the next write only when every subscriber has
 * received an earlier one, so neither server is asked for more than it can deliver (no
 * unbounded buffering) and the rate measured is what the server really delivers.
 *
 * env: URL, N, KIND (relay | bare), SERVICE, DOC, WINDOW, WRITER_URL (default: URL)
 * IPC: { type: 'measure', ms } -> { type: 'measured', deliveries, elapsed }
 */
import type WebSocket from 'ws';
import { openSockets } from '../support/load.js';
import { onAsk, tell } from '../support/processes.js';

const url = process.env.URL!;
const n = Number(process.env.N);
const kind = process.env.KIND as 'relay' | 'bare';
const service = process.env.SERVICE ?? 'bench';
const doc = process.env.DOC ?? 'fan';
const window = Number(process.env.WINDOW ?? 16);
const base = url.replace(/^http/, 'ws');

const subs = await openSockets(kind === 'bare' ? `${base}/sub` : base, n);
let delivered = 0;
const perEvent = new Map<number, number>();
let completed = 0;
let onComplete: () => void = () => {};

const seqOf = (data: WebSocket.RawData): number | undefined => {
  const text = (data as Buffer).toString('utf8');
  if (!text.includes('"event"')) return undefined;
  const m = /"seq":(\d+)/.exec(text);
  return m ? Number(m[1]) : undefined;
};

if (kind === 'relay') {
  await Promise.all(
    subs.map(
      (ws) =>
        new Promise<void>((resolve) => {
          ws.on('message', function onMessage(data) {
            if ((data as Buffer).toString('utf8').includes('"result"')) {
              ws.off('message', onMessage);
              resolve();
            }
          });
          ws.send(JSON.stringify({ type: 'subscribe', rid: 1, sub: 's1', topic: `sync.${service}.updated`, filter: { id: doc } }));
        }),
    ),
  );
}
for (const ws of subs) {
  ws.on('message', (data) => {
    const seq = seqOf(data);
    if (seq === undefined) return;
    delivered++;
    const c = (perEvent.get(seq) ?? 0) + 1;
    if (c === n) {
      perEvent.delete(seq);
      completed++;
      onComplete();
    } else {
      perEvent.set(seq, c);
    }
  });
}

const writerBase = (process.env.WRITER_URL ?? url).replace(/^http/, 'ws');
const [writer] = await openSockets(kind === 'bare' ? `${writerBase}/pub` : writerBase, 1);
let seq = 0;
let rid = 0;
let running = false;
const sendOne = () => {
  seq++;
  rid++;
  if (kind === 'relay') {
    writer!.send(JSON.stringify({ type: 'merge', rid, service, id: doc, data: { seq }, mutationId: `f${process.pid}_${seq}` }));
  } else {
    writer!.send(String(seq));
  }
};
writer!.on('message', () => {}); // answers are not what is measured
onComplete = () => {
  if (running) sendOne();
};

onAsk(async (m) => {
  if (m.type !== 'measure') return;
  const ms = Number(m.ms);
  perEvent.clear();
  running = true;
  for (let i = 0; i < window; i++) sendOne();
  await new Promise((r) => setTimeout(r, Math.min(400, ms / 4))); // warm-up
  const d0 = delivered;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const deliveries = delivered - d0;
  const elapsed = performance.now() - t0;
  running = false;
  await new Promise((r) => setTimeout(r, 300)); // drain what is in flight
  tell({ type: 'measured', deliveries, elapsed, completed });
});
process.on('SIGTERM', () => {
  for (const ws of [...subs, writer!]) ws.terminate();
  process.exit(0);
});
tell({ type: 'ready' });
