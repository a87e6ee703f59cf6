import { describe, expect, it } from 'vitest';
import { STORES, connect, startRelay } from '../helpers/relay.js';

describe.each(STORES)('smoke (%s)', (kind) => {
  it('creates and reads a document through a real relay', async () => {
    const relay = await startRelay(kind);
    const client = connect(relay);
    const doc = await client.sync.create('session', { status: 'active', participantCount: 0 });
    expect(doc.revision).toBe(1);
    expect(doc.id).toMatch(/^doc_[A-Za-z0-9_-]{8,}$/);
    const got = await client.sync.get('session', doc.id);
    expect(got.data).toEqual({ status: 'active', participantCount: 0 });
  });
});
