/** The connection's public types, and the relay URL rule. The connection itself is {@link RealtimeClient}'s. */

/** The connection as users see it. */
export type ConnectionStatus = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** The WebSocket class to use (browsers: the global one; Node 20: `ws`). */
export type WebSocketClass = new (url: string, protocols?: string | string[]) => WebSocket;

/** How one request waits. */
export interface RequestOptions {
  /** Time the answer from when the frame goes out (not from the call), so offline writes wait. */
  queueWhileOffline?: boolean;
  /**
   * Send again after a reconnect (default true). Subscribe and unsubscribe say false: after a
   * reconnect the client rebuilds subscriptions from its own list, so an old frame must not
   * come back (it could revive a subscription dropped meanwhile).
   */
  resend?: boolean;
}

/** Distributes `Omit` over a union, so each message kind keeps its own fields. */
export type WithoutRid<M> = M extends unknown ? Omit<M, 'rid'> : never;

/** Turns the relay's http(s) URL into the ws(s) URL to dial; a TypeError for anything else (or nothing). */
export function socketUrl(url: unknown): string {
  let u: URL | undefined;
  try {
    u = new URL(url as string);
  } catch {
    // told below
  }
  if (!/^(http|ws)s?:$/.test(u?.protocol ?? '')) {
    throw new TypeError(`RealtimeClient needs the relay url, http(s) or ws(s), e.g. { url: "http://localhost:8787" }, got ${String(url)}`);
  }
  u!.protocol = u!.protocol.replace('http', 'ws'); // http: -> ws:, https: -> wss:
  return u!.toString();
}
