/**
 * The client's checks of frames from the relay require what protocol 3 added: an `incarnation`
 * on documents, on event metadata and on catch-up answers, so a frame without one (a relay of
 * protocol 2, or a broken one) is caught before it reaches a document cache.
 */
import { describe, expect, it } from 'vitest';
import { isResultOf, isServerMessage } from '../../src/protocol/check-server-message.js';
import { PROTOCOL_VERSION } from '../../src/protocol/index.js';

const INC = 'k3v9q0a1b2c4';
const diff = { added: {}, removed: {}, changed: {} };
const event = (metadata: Record<string, unknown>) => ({ type: 'event', event: { topic: 'sync.s.updated', source: 'sync', metadata, payload: { data: { n: 1 } } } });
const metadata = { operation: 'merge', service: 's', id: 'd', revision: 2, timestamp: 1, incarnation: INC };
const doc = { service: 's', id: 'd', revision: 2, createdAt: 1, updatedAt: 2, incarnation: INC, data: {} };

describe('checks of frames from the relay: incarnations (protocol 3)', () => {
  it('the protocol version is 3', () => {
    expect(PROTOCOL_VERSION).toBe(3);
  });

  it('accept documents, events and catch-up answers that carry an incarnation', () => {
    expect(isServerMessage(event(metadata))).toBe(true);
    for (const type of ['create', 'get', 'replace', 'merge', 'mutate']) expect(isResultOf(type, doc), type).toBe(true);
    expect(isResultOf('catchup', { revision: 2, deleted: false, incarnation: INC, changes: [{ revision: 2, operation: 'merge', timestamp: 1, diff }] })).toBe(true);
    expect(isResultOf('catchup', { revision: 2, deleted: false, incarnation: INC, changes: [] })).toBe(true);
    expect(isResultOf('catchup', { revision: 2, deleted: true, incarnation: INC, snapshot: {} })).toBe(true);
  });

  it('refuse them without one, or with one that is not a string', () => {
    for (const incarnation of [undefined, null, 7, {}]) {
      const what = String(incarnation);
      expect(isServerMessage(event({ ...metadata, incarnation })), `event, ${what}`).toBe(false);
      for (const type of ['create', 'get', 'replace', 'merge', 'mutate']) expect(isResultOf(type, { ...doc, incarnation }), `${type}, ${what}`).toBe(false);
      expect(isResultOf('catchup', { revision: 2, deleted: false, incarnation, changes: [] }), `changes, ${what}`).toBe(false);
      expect(isResultOf('catchup', { revision: 2, deleted: false, incarnation, snapshot: {} }), `snapshot, ${what}`).toBe(false);
    }
  });
});
