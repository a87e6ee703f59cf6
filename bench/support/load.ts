/** Load generators over raw `ws` sockets (the same bytes for syncdoc and for each baseline). */
import WebSocket from 'ws';

/** Opens `n` sockets to `url` and resolves when all are open (and past a syncdoc welcome). */
export async function openSockets(url: string, n: number): Promise<WebSocket[]> {
  const wsUrl = url.replace(/^http/, 'ws');
  return Promise.all(
    Array.from({ length: n }, () => {
      const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
      return new Promise<WebSocket>((resolve, reject) => {
        ws.once('open', () => resolve(ws));
        ws.once('error', reject);
      });
    }),
  );
}

/** Closes sockets and waits for them to be closed. */
export async function closeSockets(sockets: WebSocket[]): Promise<void> {
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          ws.once('close', () => resolve());
          ws.close();
        }),
    ),
  );
}

const isWelcome = (data: WebSocket.RawData) => {
  const b = data as Buffer;
  return b.length < 300 && b.toString('utf8', 0, 20).includes('"welcome"');
};

/**
 * Closed-loop requests: each socket keeps `inFlight` requests outstanding, sending the next
 * when an answer arrives, for `ms` after a warm-up. Resolves with answers per second.
 */
export async function closedLoop(
  sockets: WebSocket[],
  frame: (socket: number, seq: number) => string,
  ms: number,
  inFlight = 1,
): Promise<number> {
  let counting = false;
  let answered = 0;
  let stop = false;
  const done: Array<Promise<void>> = [];
  sockets.forEach((ws, i) => {
    let seq = 0;
    let outstanding = 0;
    let finish: () => void;
    done.push(new Promise<void>((r) => (finish = r)));
    const send = () => {
      outstanding++;
      ws.send(frame(i, seq++));
    };
    ws.on('message', (data) => {
      if (isWelcome(data)) return;
      outstanding--;
      if (counting) answered++;
      if (!stop) send();
      else if (outstanding === 0) finish();
    });
    for (let k = 0; k < inFlight; k++) send();
  });
  await new Promise((r) => setTimeout(r, Math.min(500, ms / 4))); // warm-up
  counting = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  counting = false;
  const elapsed = performance.now() - t0;
  stop = true;
  await Promise.race([Promise.all(done), new Promise((r) => setTimeout(r, 2000))]);
  for (const ws of sockets) ws.removeAllListeners('message');
  return (answered / elapsed) * 1000;
}
