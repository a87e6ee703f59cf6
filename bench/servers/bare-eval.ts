/**
 * Baseline for measure 1: the least a server can do for a syncdoc write — WebSocket in, parse
 * the frame, EVALSHA of the relay's own merge script (same keys and arguments), send the
 * script's answer back in a result frame by string concatenation. No validation, no sessions.
 */
import { Redis } from 'ioredis';
import { WebSocketServer } from 'ws';
import { MERGE_SCRIPT, WRITE_SCRIPT_KEYS, writeScriptArgs } from '../../server/store/redis.js';
import { DEFAULT_STORE_SETTINGS } from '../../server/store/types.js';
import { tell } from '../support/processes.js';

const redis = new Redis(process.env.REDIS_URL!, { enableAutoPipelining: false });
const sha = (await redis.script('LOAD', MERGE_SCRIPT)) as string;
const setup = { prefix: process.env.KEY_PREFIX ?? 'bare:', instance: 'bare', settings: DEFAULT_STORE_SETTINGS };
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
wss.on('connection', (ws) => {
  ws.on('message', (raw) => {
    const m = JSON.parse(String(raw)) as { rid: number; service: string; id: string; data: Record<string, unknown>; mutationId: string };
    const keys = Object.keys(m.data);
    const argv = writeScriptArgs(setup, m.service, m.id, { mutationId: m.mutationId }, ['merge', JSON.stringify(m.data), String(keys.length), ...keys]);
    void (redis.evalsha(sha, WRITE_SCRIPT_KEYS, ...argv) as Promise<[number, string]>).then((reply) =>
      ws.send(`{"type":"result","rid":${m.rid},"result":${reply[1]}}`),
    );
  });
});
await new Promise((r) => wss.once('listening', r));
process.on('SIGTERM', () => {
  wss.close();
  redis.disconnect();
  process.exit(0);
});
tell({ type: 'ready', url: `http://127.0.0.1:${(wss.address() as { port: number }).port}` });
