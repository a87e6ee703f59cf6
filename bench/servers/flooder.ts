/**
 * A flooding client, in its own process: opens a socket to URL and sends pings as fast as the
 * socket drains, until the relay closes it; then opens another (as an attacker would), for as
 * long as asked.
 *
 * IPC: { type: 'flood', ms } -> { type: 'flood', connections, frames, closes: { code: count } }
 */
import WebSocket from 'ws';
import { onAsk, tell } from '../support/processes.js';

const url = process.env.URL!.replace(/^http/, 'ws');
const BATCH = 200;
const HIGH_WATER = 1 << 20;

/** Floods one socket until the relay closes it (or `until`); resolves with its close code and frames sent. */
function floodOnce(until: number): Promise<{ code: number; frames: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let frames = 0;
    let open = false;
    ws.on('message', () => {});
    ws.on('error', () => {});
    ws.on('close', (code) => {
      open = false;
      resolve({ code, frames });
    });
    const pump = () => {
      if (!open) return;
      if (Date.now() >= until) return ws.terminate();
      if (ws.bufferedAmount < HIGH_WATER) {
        for (let i = 0; i < BATCH; i++) ws.send(`{"type":"ping","rid":${++frames}}`);
        setImmediate(pump);
      } else {
        // The relay stopped reading: wait rather than spin, since this process shares the
        // machine's cores with the relay (an attacker's would be elsewhere).
        setTimeout(pump, 5);
      }
    };
    ws.on('open', () => {
      open = true;
      pump();
    });
  });
}

onAsk(async (m) => {
  if (m.type !== 'flood') return;
  const until = Date.now() + Number(m.ms);
  let connections = 0;
  let frames = 0;
  const closes: Record<string, number> = {};
  while (Date.now() < until) {
    const r = await floodOnce(until);
    connections += 1;
    frames += r.frames;
    closes[r.code] = (closes[r.code] ?? 0) + 1;
  }
  tell({ type: 'flood', connections, frames, closes });
});
process.on('SIGTERM', () => process.exit(0));
tell({ type: 'ready' });
