/** Load generators over raw `ws` sockets (the same bytes for syncdoc and for each baseline). */
import WebSocket from 'ws';

/** Options of {@link openSockets}. */
export interface OpenOptions {
  /**
   * A token (or one per socket): each socket then sends `{"type":"auth","rid":1,"token":…}` as
   * its first frame and is resolved only once the relay's welcome names a user (after
   * verification), so the load that follows never waits on auth.
   */
  token?: string | ((socket: number) => string);
}

/**
 * Opens `n` sockets to `url` and resolves when all are open; with `token`, when all are also
 * authenticated. (Without a token a syncdoc relay's welcome arrives after this resolves; the
 * load generators skip it.)
 */
export async function openSockets(url: string, n: number, options: OpenOptions = {}): Promise<WebSocket[]> {
  const wsUrl = url.replace(/^http/, 'ws');
  const { token } = options;
  return Promise.all(
    Array.from({ length: n }, (_, i) => {
      const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
      const opened = new Promise<WebSocket>((resolve, reject) => {
        ws.once('open', () => resolve(ws));
        ws.once('error', reject);
      });
      if (token === undefined) return opened;
      return opened.then(() => authenticate(ws, typeof token === 'function' ? token(i) : token));
    }),
  );
}

/**
 * Sends the auth frame on an open socket and resolves once the relay has accepted it: a welcome
 * with a user (a relay with auth), or, on a relay without auth (which welcomes at once with
 * user null), the auth frame's own result. Rejects with the relay's error or close reason.
 */
function authenticate(ws: WebSocket, token: string): Promise<WebSocket> {
  return new Promise<WebSocket>((resolve, reject) => {
    const done = (err?: Error) => {
      ws.off('message', onMessage);
      ws.off('close', onClose);
      if (err) reject(err);
      else resolve(ws);
    };
    const onMessage = (data: WebSocket.RawData) => {
      const m = JSON.parse(String(data)) as { type: string; rid?: number; user?: string | null; error?: { code: string; message: string } };
      if (m.type === 'welcome' && m.user !== null) done();
      else if (m.type === 'result' && m.rid === 1) done();
      else if (m.type === 'error') done(new Error(`auth refused: ${m.error?.code}: ${m.error?.message}`));
    };
    const onClose = (code: number, reason: Buffer) => done(new Error(`closed while authenticating: ${code} ${String(reason)}`));
    ws.on('message', onMessage);
    ws.on('close', onClose);
    ws.send(JSON.stringify({ type: 'auth', rid: 1, token }));
  });
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
