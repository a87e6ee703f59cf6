/**
 * Idle WebSocket connections from another process. IPC: open N [secret] -> opened; close -> closed.
 * With `secret`, socket i authenticates as user `idle-<i>` (a token of its own, minted before the
 * sockets open) and counts as opened once the relay has welcomed it.
 */
import { closeSockets, openSockets } from '../support/load.js';
import { onAsk, tell } from '../support/processes.js';
import { benchTokens } from '../support/relay-config.js';

let sockets: Awaited<ReturnType<typeof openSockets>> = [];
onAsk(async (m) => {
  if (m.type === 'open') {
    const n = Number(m.n);
    const tokens = typeof m.secret === 'string' ? await benchTokens(m.secret, 'idle', n) : undefined;
    sockets = await openSockets(String(m.url), n, tokens ? { token: (i) => tokens[i]! } : {});
    tell({ type: 'opened', count: sockets.length });
  } else if (m.type === 'close') {
    await closeSockets(sockets);
    sockets = [];
    tell({ type: 'closed' });
  }
});
process.on('SIGTERM', () => process.exit(0));
tell({ type: 'ready' });
