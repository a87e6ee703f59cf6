/**
 * Latency load, in its own process: writes at a fixed rate (open loop) over WRITERS sockets,
 * one subscriber socket; latency = event received - write sent, on this process's clock.
 *
 * env: URL, KIND (relay | bare), SERVICE, DOCS (how many documents the writes rotate over)
 * IPC: { type: 'max', ms } -> { type: 'max', rate }       (closed loop, 32 sockets)
 *      { type: 'latency', rate, ms } -> { type: 'latency', p50, p99, samples }
 */
import { closedLoop, openSockets } from '../support/load.js';
import { onAsk, tell } from '../support/processes.js';

const url = process.env.URL!;
const kind = process.env.KIND as 'relay' | 'bare';
const service = process.env.SERVICE ?? 'bench';
const docs = Number(process.env.DOCS ?? 32);
const base = url.replace(/^http/, 'ws');
const WRITERS = 32;

const writers = await openSockets(kind === 'bare' ? `${base}/pub` : base, WRITERS);
const [subscriber] = await openSockets(kind === 'bare' ? `${base}/sub` : base, 1);
if (kind === 'relay') {
  await new Promise<void>((resolve) => {
    subscriber!.on('message', function first(data) {
      if (String(data).includes('"result"')) {
        subscriber!.off('message', first);
        resolve();
      }
    });
    subscriber!.send(JSON.stringify({ type: 'subscribe', rid: 1, sub: 's1', topic: `sync.${service}.updated` }));
  });
}
let serial = 0;
const frame = (i: number, seq: number) => {
  serial++;
  return JSON.stringify({ type: 'merge', rid: seq + 1, service, id: `d${(i + serial) % docs}`, data: { seq: serial }, mutationId: `l${process.pid}_${serial}` });
};
const sentAt = new Map<number, number>();
let samples: number[] | undefined;
subscriber!.on('message', (data) => {
  const at = performance.now();
  const m = /"seq":(\d+)/.exec(String(data));
  if (!m) return;
  const t = sentAt.get(Number(m[1]));
  if (t === undefined) return;
  sentAt.delete(Number(m[1]));
  samples?.push(at - t);
});
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

onAsk(async (m) => {
  if (m.type === 'max') {
    tell({ type: 'max', rate: await closedLoop(writers, frame, Number(m.ms)) });
    return;
  }
  if (m.type !== 'latency') return;
  const rate = Number(m.rate);
  const ms = Number(m.ms);
  const tick = 5; // ms between batches
  let next = 0;
  let carry = 0;
  let stop = false;
  for (const ws of writers) ws.on('message', () => {});
  const timer = setInterval(() => {
    if (stop) return;
    carry += (rate * tick) / 1000;
    while (carry >= 1) {
      carry -= 1;
      const ws = writers[next++ % WRITERS]!;
      const text = frame(next % WRITERS, next);
      sentAt.set(serial, performance.now());
      ws.send(text);
    }
  }, tick);
  await new Promise((r) => setTimeout(r, 300)); // warm-up
  samples = [];
  await new Promise((r) => setTimeout(r, ms));
  const got = samples;
  samples = undefined;
  stop = true;
  clearInterval(timer);
  await new Promise((r) => setTimeout(r, 200));
  sentAt.clear();
  for (const ws of writers) ws.removeAllListeners('message');
  tell({ type: 'latency', p50: quantile(got, 0.5), p99: quantile(got, 0.99), samples: got.length });
});
process.on('SIGTERM', () => process.exit(0));
tell({ type: 'ready' });
