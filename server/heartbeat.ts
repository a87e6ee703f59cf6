/**
 * Liveness of the relay's sockets: a peer that vanished without a close (a laptop lid shut, a
 * dead network, a frozen process) would otherwise hold its connection, its user's place and its
 * subscriptions until TCP gives up, which can take hours. Each round, every socket that sent
 * nothing since the last round is pinged (WebSocket ping frames, which browsers and `ws` answer
 * by themselves); one that has answered neither the ping nor with a frame by the next round is
 * cut. So a silent peer is gone within two rounds, and a talking one is never pinged.
 */
import type { WebSocket, WebSocketServer } from 'ws';

/** The rounds of one relay: {@link Liveness.track} each new socket; {@link Liveness.stop} on close. */
export interface Liveness {
  track(ws: WebSocket): void;
  stop(): void;
}

/** Starts the rounds every `intervalMs` over the sockets of `wss`. */
export function watchLiveness(wss: WebSocketServer, intervalMs: number): Liveness {
  const heard = new WeakSet<WebSocket>();
  const pinged = new WeakSet<WebSocket>();
  const hear = (ws: WebSocket) => {
    heard.add(ws);
    pinged.delete(ws);
  };
  const timer = setInterval(() => {
    for (const ws of wss.clients) {
      if (heard.has(ws)) heard.delete(ws);
      else if (pinged.has(ws)) ws.terminate();
      else {
        pinged.add(ws);
        ws.ping();
      }
    }
  }, intervalMs);
  timer.unref();
  return {
    track(ws) {
      heard.add(ws);
      ws.on('message', () => hear(ws));
      ws.on('pong', () => hear(ws));
    },
    stop: () => clearInterval(timer),
  };
}
