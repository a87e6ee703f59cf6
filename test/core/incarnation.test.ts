/**
 * Incarnations in the client cache, end to end: real relays (memory and Redis stores), real
 * WebSockets, real clients, each reading the document through its document cache. The relay
 * loses a document while clients hold it (with writes waiting), and someone creates it again,
 * or nobody does: every client ends on what the relay has, the writes made on the lost document
 * fail saying so (to their callers and to `onWriteError`), and none of them lands.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../server/index.js';
import { type RealtimeClient, type SyncDocument, SyncError, increment } from '../../src/index.js';
import type { ClientMessage } from '../../src/protocol/index.js';
import { connect, deleteKeys, eventually, freshPrefix, opened, redisUrl, startRelay } from '../helpers/relay.js';
import { type Reader, openReader, outcome } from '../helpers/reader.js';

const SERVICE = 'phoenix';
type Doc = { v: string; n?: number; from?: string; list?: number[] };

let counter = 0;
/** A document id no other test of the file uses. */
const uid = () => `d_${Date.now().toString(36)}_${++counter}`;

/** What a write made on the lost document fails with once the cache knows it was created again. */
const recreated = (id: string) => `${SERVICE}/${id} was created again after the relay lost it: this write, made on the document before, was not applied`;
/** ...and once the cache knows it is gone. */
const gone = (id: string) => `${SERVICE}/${id} is gone: the relay lost it, so this write was not applied`;
/** What the relay says to a write naming an incarnation it does not have. */
const relayRecreated = (id: string, theirs: string, mine: string) =>
  `conflict: ${SERVICE}/${id} was created again since this write was made (incarnation ${theirs}, not ${mine})`;

/** The document writes `client` sends, as sent (to see which incarnation they name). */
function recordWrites(client: RealtimeClient): Array<WithoutRidWrite> {
  const sent: WithoutRidWrite[] = [];
  const request = client.request.bind(client);
  client.request = (message, options) => {
    if (['replace', 'merge', 'mutate', 'delete'].includes(message.type)) sent.push(message as WithoutRidWrite);
    return request(message, options);
  };
  return sent;
}
type WithoutRidWrite = Extract<ClientMessage, { type: 'merge' | 'mutate' | 'replace' | 'delete' }>;

/** The error a settled write rejected with (failing the test when it resolved). */
async function rejection(p: Promise<unknown>): Promise<SyncError> {
  const settled = await outcome(p);
  if (settled.ok) throw new Error(`expected the write to fail, it resolved with ${JSON.stringify(settled.value)}`);
  expect(settled.error).toBeInstanceOf(SyncError);
  return settled.error as SyncError;
}

/** Both readers show `revision`/`data` (of C's document), nothing pending. */
async function converged(readers: Array<Reader<Doc>>, revision: number, data: Doc, what: string): Promise<void> {
  await eventually(
    () => readers.every((r) => { const s = r.snap(); return s.status === 'ready' && s.revision === revision && s.pending === 0 && JSON.stringify(s.data) === JSON.stringify(data); }),
    10_000,
    what,
  );
  for (const r of readers) expect(r.snap()).toMatchObject({ status: 'ready', revision, data, pending: 0, unconfirmed: false, error: undefined });
}

describe('a memory relay restarted empty while two clients hold the document with writes waiting', () => {
  /** A memory relay with a document at revision 2, read by A and B, each offline with two writes waiting. */
  async function lostWithWritesWaiting(create?: { a?: Doc }) {
    const relay = await startRelay('memory');
    const id = uid();
    const seed = await opened(connect(relay));
    const old = await seed.sync.create<Doc>(SERVICE, { v: 'old', n: 0 }, id);
    await seed.sync.merge(SERVICE, id, { n: 1 }); // revision 2: past what the new document starts at
    await seed.close();
    const a = await opened(connect(relay));
    const b = await opened(connect(relay));
    const ra = openReader<Doc>(a, SERVICE, id, { create: create?.a });
    const rb = openReader<Doc>(b, SERVICE, id);
    await eventually(() => ra.snap().revision === 2 && rb.snap().revision === 2, 5000, 'both readers at revision 2');
    const sent = { a: recordWrites(a), b: recordWrites(b) };
    a.disconnect();
    b.disconnect();
    const writes = {
      a: [ra.actions.mutate({ n: increment(10) }), ra.actions.update((d) => void (d.from = 'a'))],
      b: [rb.actions.merge({ from: 'b' }), rb.actions.mutate({ n: increment(100) })],
    };
    for (const w of [...writes.a, ...writes.b]) void outcome(w); // settled later; never unhandled
    expect(ra.snap()).toMatchObject({ status: 'ready', revision: 2, pending: 2, data: { v: 'old', n: 11, from: 'a' } });
    expect(rb.snap()).toMatchObject({ status: 'ready', revision: 2, pending: 2, data: { v: 'old', n: 101, from: 'b' } });
    // The loss: the relay restarts on the same port with nothing.
    const port = relay.port;
    await relay.close();
    const again = await startRelay('memory', { port });
    // Each sent its first write at once (it waits in the request queue), naming the incarnation it was made on.
    expect(sent.a.map((m) => [m.type, m.incarnation])).toEqual([['mutate', old.incarnation]]);
    expect(sent.b.map((m) => [m.type, m.incarnation])).toEqual([['merge', old.incarnation]]);
    return { id, old, a, b, ra, rb, writes, sent, relay: again };
  }

  it('C creates it again with other data: A and B converge on C\'s document, their writes fail as made on the one before, none lands', async () => {
    const { id, old, a, b, ra, rb, writes, sent, relay } = await lostWithWritesWaiting();
    const c = await opened(connect(relay));
    const fresh = await c.sync.create<Doc>(SERVICE, { v: 'new', list: [1] }, id);
    expect(fresh.incarnation).not.toBe(old.incarnation);

    a.connect();
    b.connect();
    await converged([ra, rb], 1, { v: 'new', list: [1] }, "A and B on C's document");

    // Every write made on the lost document failed with conflict, saying it was created again:
    // the one in flight in the relay's words (it named the old incarnation), the others in the cache's.
    for (const [name, r, ws] of [['a', ra, writes.a], ['b', rb, writes.b]] as const) {
      const errors = await Promise.all(ws.map(rejection));
      for (const e of errors) expect(e, name).toMatchObject({ code: 'conflict', status: 409 });
      for (const e of errors) expect([recreated(id), relayRecreated(id, fresh.incarnation, old.incarnation)], `${name}: ${e.message}`).toContain(e.message);
      // The listeners heard each of them, once, with the write method it was.
      expect(r.failures.map((f) => [f.write, f.error.code]).sort(), name).toEqual(
        (name === 'a' ? [['mutate', 'conflict'], ['update', 'conflict']] : [['merge', 'conflict'], ['mutate', 'conflict']]).sort(),
      );
      expect(r.failures.map((f) => f.error)).toEqual(expect.arrayContaining(errors));
      // The devtools log says what happened.
      expect(r.activity('dropped'), name).toHaveLength(1);
      expect(r.activity('rollback').length, name).toBe(2);
    }
    // Every write that went out named the old incarnation, so the relay could refuse it.
    expect(sent.a.length + sent.b.length).toBeGreaterThanOrEqual(2);
    for (const m of [...sent.a, ...sent.b]) expect(m.incarnation).toBe(old.incarnation);

    // The relay holds C's document only: revision 1, C's data (nothing of A's or B's landed).
    expect(await c.sync.get<Doc>(SERVICE, id)).toEqual({ ...fresh });
    // A resend coming late would show here: the document is still C's after more round trips.
    await Promise.all([a.request({ type: 'ping' }), b.request({ type: 'ping' })]);
    expect(await c.sync.get<Doc>(SERVICE, id)).toMatchObject({ revision: 1, data: { v: 'new', list: [1] }, incarnation: fresh.incarnation });

    // A and B now hold C's incarnation: their writes name it and land, and each sees the other's.
    sent.a.length = 0;
    const landed = (await ra.actions.mutate({ n: increment(1) })) as SyncDocument<Doc>;
    expect(landed).toMatchObject({ revision: 2, incarnation: fresh.incarnation, data: { v: 'new', list: [1], n: 1 } });
    expect(sent.a.map((m) => m.incarnation)).toEqual([fresh.incarnation]);
    await rb.actions.merge({ from: 'b' });
    await converged([ra, rb], 3, { v: 'new', list: [1], n: 1, from: 'b' }, 'A and B after writing on the new document');
    expect(await c.sync.get<Doc>(SERVICE, id)).toMatchObject({ revision: 3, data: { v: 'new', list: [1], n: 1, from: 'b' } });
  });

  it('nobody creates it again: A and B show not-found, their writes fail with not_found, nothing is written', async () => {
    const { id, a, b, ra, rb, writes, relay } = await lostWithWritesWaiting();
    a.connect();
    b.connect();
    await eventually(() => [ra, rb].every((r) => r.snap().status === 'not-found' && r.snap().pending === 0), 10_000, 'both not-found');
    for (const [name, r, ws] of [['a', ra, writes.a], ['b', rb, writes.b]] as const) {
      expect(r.snap(), name).toMatchObject({ status: 'not-found', data: undefined, revision: undefined, pending: 0, error: { code: 'not_found' } });
      const errors = await Promise.all(ws.map(rejection));
      for (const e of errors) expect(e, name).toMatchObject({ code: 'not_found', status: 404 });
      // The write in flight got the relay's not_found; the cache then failed the others as gone.
      expect(errors.some((e) => e.message === gone(id)), `${name}: ${errors.map((e) => e.message).join(' | ')}`).toBe(true);
      expect(r.failures.map((f) => f.error.code), name).toEqual(['not_found', 'not_found']);
      expect(r.activity('dropped'), name).toHaveLength(1);
    }
    const c = await opened(connect(relay));
    await expect(c.sync.get(SERVICE, id)).rejects.toMatchObject({ code: 'not_found' });
    // A write now fails at once (there is no document to write to), and is reported too.
    expect(await rejection(ra.actions.merge({ from: 'late' }))).toMatchObject({ code: 'not_found' });
    expect(ra.failures).toHaveLength(3);
    await expect(c.sync.get(SERVICE, id)).rejects.toMatchObject({ code: 'not_found' });
  });

  it("a reader with `create` creates it again, and the other reader, not-found meanwhile, converges on it", async () => {
    const { id, old, a, b, ra, rb, writes, relay } = await lostWithWritesWaiting({ a: { v: 'made by a' } });
    // B first: nobody has created it yet, so B finds it gone.
    b.connect();
    await eventually(() => rb.snap().status === 'not-found' && rb.snap().pending === 0, 10_000, 'B not-found');
    for (const e of await Promise.all(writes.b.map(rejection))) expect(e).toMatchObject({ code: 'not_found' });
    expect(rb.failures.map((f) => f.error.code)).toEqual(['not_found', 'not_found']);
    // A, which brought data to create it with, creates it again; B hears the create event.
    a.connect();
    await converged([ra, rb], 1, { v: 'made by a' }, "A and B on A's new document");
    for (const e of await Promise.all(writes.a.map(rejection))) expect(e).toMatchObject({ code: 'not_found' });
    expect(ra.failures.map((f) => f.error.code)).toEqual(['not_found', 'not_found']);
    expect(ra.activity('dropped')).toHaveLength(1);
    const c = await opened(connect(relay));
    const now = await c.sync.get<Doc>(SERVICE, id);
    expect(now).toMatchObject({ revision: 1, data: { v: 'made by a' } });
    expect(now.incarnation).not.toBe(old.incarnation);
    // Both write on it.
    await ra.actions.mutate({ n: increment(1) });
    await rb.actions.mutate({ n: increment(1) });
    await converged([ra, rb], 3, { v: 'made by a', n: 2 }, 'both writes on the new document');
    expect(await c.sync.get<Doc>(SERVICE, id)).toMatchObject({ revision: 3, data: { v: 'made by a', n: 2 }, incarnation: now.incarnation });
  });
});

describe('a Redis relay that loses the document keys while it stays up', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(redisUrl(), { lazyConnect: true });
  });
  afterAll(() => redis.quit());

  it('another client creates it again: open clients hear the new incarnation\'s create event and converge, without reconnecting', async () => {
    const keyPrefix = freshPrefix();
    const relay: Relay = await startRelay('redis', { keyPrefix });
    const id = uid();
    const a = await opened(connect(relay));
    const b = await opened(connect(relay));
    const old = await a.sync.create<Doc>(SERVICE, { v: 'old', n: 0 }, id);
    await a.sync.merge(SERVICE, id, { n: 1 });
    await a.sync.merge(SERVICE, id, { n: 2 });
    const ra = openReader<Doc>(a, SERVICE, id);
    const rb = openReader<Doc>(b, SERVICE, id);
    await eventually(() => ra.snap().revision === 3 && rb.snap().revision === 3, 5000, 'both at revision 3');
    const statuses: string[] = [];
    a.on('status', (s) => statuses.push(`a:${s}`));
    b.on('status', (s) => statuses.push(`b:${s}`));

    // Redis loses the document (only this test's keys).
    expect(await deleteKeys(redis, keyPrefix)).toBeGreaterThanOrEqual(3);
    // B writes meanwhile: the relay no longer has the document, so B finds it gone.
    expect(await rejection(rb.actions.merge({ from: 'b' }))).toMatchObject({ code: 'not_found' });
    await eventually(() => rb.snap().status === 'not-found', 5000, 'B not-found');
    expect(rb.failures.map((f) => [f.write, f.error.code])).toEqual([['merge', 'not_found']]);
    // A has heard nothing yet: it still shows the old document.
    expect(ra.snap()).toMatchObject({ status: 'ready', revision: 3, data: { v: 'old', n: 2 } });

    const c = await opened(connect(relay));
    const fresh = await c.sync.create<Doc>(SERVICE, { v: 'new' }, id);
    expect(fresh.incarnation).not.toBe(old.incarnation);
    await converged([ra, rb], 1, { v: 'new' }, "A and B on C's document");
    expect(ra.activity('dropped')).toHaveLength(1);
    expect(rb.activity('dropped')).toHaveLength(1);
    expect(statuses).toEqual([]);
    expect([a.status, b.status]).toEqual(['open', 'open']);

    // The new document goes on: A's write names its incarnation and lands; B sees it.
    const sentA = recordWrites(a);
    expect(await ra.actions.mutate({ n: increment(5) })).toMatchObject({ revision: 2, incarnation: fresh.incarnation, data: { v: 'new', n: 5 } });
    expect(sentA.map((m) => m.incarnation)).toEqual([fresh.incarnation]);
    await converged([ra, rb], 2, { v: 'new', n: 5 }, "B sees A's write");
    expect(await c.sync.get<Doc>(SERVICE, id)).toMatchObject({ revision: 2, data: { v: 'new', n: 5 }, incarnation: fresh.incarnation });
  });
});
