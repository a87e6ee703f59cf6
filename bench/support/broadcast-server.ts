/**
 * The shape both bare baselines share: a `ws` server on 127.0.0.1 where sockets on /sub are
 * subscribers and every other socket publishes; `onPublish` gets each published message, the
 * publisher's socket, and the subscribers.
 */
import { WebSocketServer, type RawData, type WebSocket } from 'ws';

/** Starts the server; resolves with its http:// URL and its subscribers once it listens. */
export async function broadcastServer(
  onPublish: (message: RawData, publisher: WebSocket, subscribers: Set<WebSocket>) => void,
): Promise<{ url: string; subscribers: Set<WebSocket> }> {
  const subscribers = new Set<WebSocket>();
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  wss.on('connection', (ws, req) => {
    if (req.url === '/sub') {
      subscribers.add(ws);
      ws.on('close', () => subscribers.delete(ws));
      return;
    }
    ws.on('message', (raw) => onPublish(raw, ws, subscribers));
  });
  await new Promise((r) => wss.once('listening', r));
  return { url: `http://127.0.0.1:${(wss.address() as { port: number }).port}`, subscribers };
}
