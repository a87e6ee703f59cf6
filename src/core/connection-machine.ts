/**
 * The connection's states and the events that move between them, as one table. Every change of
 * the connection goes through {@link transition}: an event a state does not list changes nothing,
 * so a late socket event (a close after `disconnect()`, a welcome after a refusal) cannot revive
 * a connection that was let go.
 */

/** The connection as users see it. */
export type ConnectionStatus = 'connecting' | 'open' | 'reconnecting' | 'closed';

/**
 * - `idle`: no socket (not dialled yet, after `disconnect()`, or dropped without reconnection)
 * - `dialing`: a socket is being opened
 * - `authenticating`: the socket is open and carries the token; the welcome has not come
 * - `open`: welcomed; requests flow and the heartbeat listens
 * - `backoff`: the socket dropped (or went silent); it is dialled again after a delay
 * - `refused`: the relay refused the token or speaks another protocol; nothing is tried until `connect()`
 * - `closed`: `close()` was called; final
 */
export type ConnectionState = 'idle' | 'dialing' | 'authenticating' | 'open' | 'backoff' | 'refused' | 'closed';

/**
 * - `dial`: `connect()`, or the first call that needs the relay
 * - `socket-open`: a socket opened (the auth frame goes out)
 * - `welcome`: the relay accepted the token
 * - `drop`: the socket closed and will be dialled again
 * - `lost`: the heartbeat heard nothing for two beats
 * - `stop`: the socket closed for good (`disconnect()`, or a drop without reconnection)
 * - `refuse`: the relay refused us
 * - `close`: `close()`
 */
export type ConnectionEvent = 'dial' | 'socket-open' | 'welcome' | 'drop' | 'lost' | 'stop' | 'refuse' | 'close';

// Each state's own moves; the moves every live state shares are added below.
const MOVES: Record<ConnectionState, Partial<Record<ConnectionEvent, ConnectionState>>> = {
  idle: { dial: 'dialing' },
  dialing: { 'socket-open': 'authenticating' },
  authenticating: { welcome: 'open' },
  open: {},
  backoff: { 'socket-open': 'authenticating' },
  refused: { dial: 'dialing' },
  closed: {},
};
for (const state of ['dialing', 'authenticating', 'open', 'backoff'] as const) {
  Object.assign(MOVES[state], { drop: 'backoff', lost: 'backoff', stop: 'idle', refuse: 'refused' });
}
for (const state of ['idle', 'dialing', 'authenticating', 'open', 'backoff', 'refused'] as const) MOVES[state].close = 'closed';

/** The state `event` leads to from `state` (the same state when it does not apply). */
export function transition(state: ConnectionState, event: ConnectionEvent): ConnectionState {
  return MOVES[state][event] ?? state;
}

/**
 * The small public status of a state: `connecting` until the first welcome, `reconnecting` while
 * a connection that was open is being restored, `open`, or `closed` (not trying).
 */
export function publicStatus(state: ConnectionState, everOpened: boolean): ConnectionStatus {
  return state === 'open'
    ? 'open'
    : state === 'idle' || state === 'refused' || state === 'closed'
      ? 'closed'
      : everOpened || state === 'backoff'
        ? 'reconnecting'
        : 'connecting';
}
