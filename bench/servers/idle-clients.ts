/** Idle WebSocket connections from another process. IPC: open N -> opened; close -> closed. */
import { closeSockets, openSockets } from '../support/load.js';
import { onAsk, tell } from '../support/processes.js';

let sockets: Awaited<ReturnType<typeof openSockets>> = [];
onAsk(async (m) => {
  if (m.type === 'open') {
    sockets = await openSockets(String(m.url), Number(m.n));
    tell({ type: 'opened', count: sockets.length });
  } else if (m.type === 'close') {
    await closeSockets(sockets);
    sockets = [];
    tell({ type: 'closed' });
  }
});
process.on('SIGTERM', () => process.exit(0));
tell({ type: 'ready' });
