/**
 * The connection's state machine on its own: every state against every event (what moves and
 * what is ignored), and the public status each state shows.
 */
import { describe, expect, it } from 'vitest';
import { type ConnectionEvent, type ConnectionState, publicStatus, transition } from '../../src/core/connection-machine.js';

const STATES: ConnectionState[] = ['idle', 'dialing', 'authenticating', 'open', 'backoff', 'refused', 'closed'];
const EVENTS: ConnectionEvent[] = ['dial', 'socket-open', 'welcome', 'drop', 'lost', 'stop', 'refuse', 'close'];

/** Every move the machine makes; any pair not listed leaves the state as it is. */
const EXPECTED: Record<ConnectionState, Partial<Record<ConnectionEvent, ConnectionState>>> = {
  idle: { dial: 'dialing', close: 'closed' },
  dialing: { 'socket-open': 'authenticating', drop: 'backoff', lost: 'backoff', stop: 'idle', refuse: 'refused', close: 'closed' },
  authenticating: { welcome: 'open', drop: 'backoff', lost: 'backoff', stop: 'idle', refuse: 'refused', close: 'closed' },
  open: { drop: 'backoff', lost: 'backoff', stop: 'idle', refuse: 'refused', close: 'closed' },
  backoff: { 'socket-open': 'authenticating', drop: 'backoff', lost: 'backoff', stop: 'idle', refuse: 'refused', close: 'closed' },
  refused: { dial: 'dialing', close: 'closed' },
  closed: {},
};

describe('connection machine', () => {
  for (const state of STATES) {
    it(`from ${state}: moves on ${Object.keys(EXPECTED[state]).join(', ') || 'nothing'}, ignores the rest`, () => {
      for (const event of EVENTS) expect([event, transition(state, event)]).toEqual([event, EXPECTED[state][event] ?? state]);
    });
  }

  it('a heartbeat loss on an open connection goes to backoff, and the next socket authenticates before it is open', () => {
    let s = transition('open', 'lost');
    expect(s).toBe('backoff');
    expect(transition(s, 'welcome')).toBe('backoff'); // no welcome without a socket
    s = transition(s, 'socket-open');
    expect(s).toBe('authenticating');
    expect(transition(s, 'welcome')).toBe('open');
  });

  it('a refused client stays put until dialled again, and nothing revives a closed one', () => {
    for (const e of EVENTS.filter((e) => e !== 'dial' && e !== 'close')) expect(transition('refused', e)).toBe('refused');
    for (const e of EVENTS) expect(transition('closed', e)).toBe('closed');
  });

  it('maps onto the public status: connecting until the first welcome, reconnecting after', () => {
    const shown = (everOpened: boolean) => Object.fromEntries(STATES.map((s) => [s, publicStatus(s, everOpened)]));
    expect(shown(false)).toEqual({ idle: 'closed', dialing: 'connecting', authenticating: 'connecting', open: 'open', backoff: 'reconnecting', refused: 'closed', closed: 'closed' });
    expect(shown(true)).toEqual({ idle: 'closed', dialing: 'reconnecting', authenticating: 'reconnecting', open: 'open', backoff: 'reconnecting', refused: 'closed', closed: 'closed' });
  });
});
