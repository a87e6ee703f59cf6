/**
 * Rights over real sockets, on both stores: every operation refused with `forbidden` without
 * its right (per service and per document), the refusal naming the right and the document and
 * writing nothing; subscriptions that would reach past the grants refused; a filtered
 * subscription on a granted document delivering only that document; and a refresh with fewer
 * grants ending the subscriptions it no longer allows.
 */
import { describe, expect, it } from 'vitest';
import type { SyncError, SyncEvent } from '../../../src/index.js';
import type { Grants, Relay } from '../../../server/index.js';
import { ALL, SECRET, rawExchange, tokenFor } from '../../helpers/auth.js';
import { STORES, connect, eventually, opened, startRelay } from '../../helpers/relay.js';

type Client = ReturnType<typeof connect>;

/** A relay with auth and two seeded documents per service (`session/s1`, `session/s2`, `order/o1`, `order/o2`). */
async function seeded(kind: (typeof STORES)[number]): Promise<Relay> {
  const relay = await startRelay(kind, { auth: { secret: SECRET } });
  for (const [service, id] of [['session', 's1'], ['session', 's2'], ['order', 'o1'], ['order', 'o2']] as const) {
    await relay.store.create(service, id, { v: 0 });
  }
  return relay;
}

async function clientWith(relay: Relay, grants: Grants, user = 'ann'): Promise<Client> {
  return opened(connect(relay, { token: await tokenFor(user, grants) }));
}

/** Every operation on `service/id`, with the right it needs. */
function operations(c: Client, service: string, id: string): Array<[string, 'read' | 'write', () => Promise<unknown>]> {
  return [
    ['get', 'read', () => c.sync.get(service, id)],
    ['catchup', 'read', () => c.catchUp(service, id, 0)],
    ['create', 'write', () => c.sync.create(service, { v: 'created' }, `${id}-new`)],
    ['replace', 'write', () => c.sync.replace(service, id, { v: 'replaced' })],
    ['merge', 'write', () => c.sync.merge(service, id, { v: 'merged' })],
    ['mutate', 'write', () => c.sync.mutate(service, id, { v: 'mutated' })],
    ['delete', 'write', () => c.sync.delete(service, id)],
  ];
}

/** Runs `call`, expecting `forbidden` naming `right` on `where`; then checks nothing changed. */
async function expectForbidden(relay: Relay, call: () => Promise<unknown>, right: string, where: string | RegExp): Promise<void> {
  const said = `forbidden: this token has no "${right}" right on `;
  const before = await snapshot(relay);
  const err = (await call().then(
    () => undefined,
    (e: unknown) => e,
  )) as SyncError | undefined;
  expect(err, `expected forbidden for "${right}" on ${where}`).toMatchObject({
    code: 'forbidden',
    status: 403,
    message: typeof where === 'string' ? said + where : expect.stringMatching(new RegExp(`^${said}${where.source}$`)),
  });
  expect(await snapshot(relay)).toEqual(before);
}

/** Every seeded document's revision and data, and whether the `-new` ones exist. */
async function snapshot(relay: Relay): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const [service, id] of [['session', 's1'], ['session', 's2'], ['order', 'o1'], ['order', 'o2'], ['session', 's1-new'], ['order', 'o2-new']]) {
    out.push(await relay.store.get(service!, id!).then((d) => [d.revision, d.data], (e: SyncError) => e.code));
  }
  return out;
}

describe.each(STORES)('rights (%s store)', (kind) => {
  it('refuses every operation on a service the token has no grant on, writing nothing', async () => {
    const relay = await seeded(kind);
    const c = await clientWith(relay, { order: ['read', 'write'] });
    for (const [name, right, call] of operations(c, 'session', 's1')) {
      const where = name === 'create' ? 'session/s1-new' : 'session/s1';
      await expectForbidden(relay, call, right, where);
    }
    expect(relay.refusals.forbidden).toBe(7);
    // The granted service still works on the same connection.
    expect(await c.sync.merge('order', 'o1', { v: 1 })).toMatchObject({ revision: 2 });
  });

  it('refuses writes with read only, and reads with write only', async () => {
    const relay = await seeded(kind);
    const reader = await clientWith(relay, { session: ['read'] }, 'reader');
    for (const [name, right, call] of operations(reader, 'session', 's1')) {
      if (right === 'read') await expect(call()).resolves.toBeDefined();
      else await expectForbidden(relay, call, 'write', name === 'create' ? 'session/s1-new' : 'session/s1');
    }
    const writer = await clientWith(relay, { session: ['write'] }, 'writer');
    const done: string[] = [];
    for (const [name, right, call] of operations(writer, 'session', 's2')) {
      if (right === 'read') await expectForbidden(relay, call, 'read', 'session/s2');
      else {
        await call(); // rejects, and fails the test, if refused
        done.push(name);
      }
    }
    expect(done).toEqual(['create', 'replace', 'merge', 'mutate', 'delete']);
    await expect(relay.store.get('session', 's2')).rejects.toMatchObject({ code: 'not_found' }); // deleted, at revision 4
    expect(await relay.store.get('session', 's2-new')).toMatchObject({ revision: 1, data: { v: 'created' } });
  });

  it('confines a per-document grant to its document', async () => {
    const relay = await seeded(kind);
    const c = await clientWith(relay, { 'order/o1': ['read', 'write'] });
    for (const [name, right, call] of operations(c, 'order', 'o2')) {
      await expectForbidden(relay, call, right, name === 'create' ? 'order/o2-new' : 'order/o2');
    }
    // A create without an id is checked against the id the relay would give it.
    await expectForbidden(relay, () => c.sync.create('order', { v: 'anywhere' }), 'write', /order\/[\w-]+/);
    expect(await c.sync.get('order', 'o1')).toMatchObject({ revision: 1 });
    expect(await c.sync.replace('order', 'o1', { v: 'mine' })).toMatchObject({ revision: 2, data: { v: 'mine' } });
  });

  it('refuses subscriptions that reach past the grants', async () => {
    const relay = await seeded(kind);
    const token = await tokenFor('ann', { session: ['read'], 'order/o1': ['read'] });
    const sub = (rid: number, topic: string, filter?: Record<string, unknown>) => ({ type: 'subscribe', rid, sub: `s${rid}`, topic, filter, returnMode: 'full' });
    const raw = await rawExchange(
      relay.url,
      [
        { type: 'auth', rid: 100, token },
        sub(1, 'sync.*.updated'), // wildcard service: needs '*'
        sub(2, 'sync.order.*'), // unfiltered, with a grant on one order only
        sub(3, 'sync.invoice.*'), // another service
        sub(4, '*.*.*'),
        sub(5, 'sync.*.*', { id: 'o1' }), // an id in any service
        sub(6, 'sync.order.*', { id: 'o2' }),
        sub(7, 'sync.order.*', { id: 'o1' }), // allowed
        sub(8, 'sync.session.*'), // allowed
      ],
      500,
    );
    const answer = (rid: number) => raw.messages.find((m) => 'rid' in m && m.rid === rid);
    for (const [rid, where] of [
      [1, 'every document'],
      [2, 'every document of service "order"'],
      [3, 'every document of service "invoice"'],
      [4, 'every document'],
      [5, 'document "o1" of every service'],
      [6, 'order/o2'],
    ] as const) {
      expect(answer(rid), `subscription ${rid}`).toMatchObject({
        type: 'error',
        error: { code: 'forbidden', message: expect.stringContaining(`no "read" right on ${where}`) },
      });
    }
    expect(answer(7)).toMatchObject({ type: 'result' });
    expect(answer(8)).toMatchObject({ type: 'result' });
    expect(raw.close).toBeUndefined(); // a refused subscription is not a reason to drop the socket
  });

  it('delivers only the granted document on a filtered subscription', async () => {
    const relay = await seeded(kind);
    const c = await clientWith(relay, { 'order/o1': ['read'] });
    const events: SyncEvent[] = [];
    const errors: SyncError[] = [];
    c.subscribe({ topic: 'sync.order.*', filter: { id: 'o1' } }, (e) => events.push(e), (e) => errors.push(e));
    const refused: SyncError[] = [];
    c.subscribe({ topic: 'sync.order.*' }, () => {}, (e) => refused.push(e));
    await eventually(() => refused.length === 1, 2000, 'the unfiltered subscription refused');
    await new Promise((r) => setTimeout(r, 100)); // the filtered one is on the relay by now
    const admin = await clientWith(relay, ALL, 'admin');
    for (let i = 1; i <= 3; i++) {
      await admin.sync.merge('order', 'o2', { v: i });
      await admin.sync.merge('order', 'o1', { v: i });
    }
    await eventually(() => events.length === 3, 2000, 'three events of order/o1');
    await admin.sync.merge('order', 'o2', { v: 'last' });
    await admin.sync.merge('order', 'o1', { v: 'last' });
    await eventually(() => events.length === 4, 2000, 'the fourth event');
    expect(events.map((e) => e.metadata.id)).toEqual(['o1', 'o1', 'o1', 'o1']);
    expect(errors).toEqual([]);
    expect(refused[0]).toMatchObject({ code: 'forbidden' });
  });

  it('ends the subscriptions a refreshed token no longer allows', async () => {
    const relay = await seeded(kind);
    const full = await tokenFor('ann', { session: ['read'], order: ['read'] });
    const fewer = await tokenFor('ann', { session: ['read'] });
    const raw = await rawExchange(
      relay.url,
      [
        { type: 'auth', rid: 100, token: full },
        { type: 'subscribe', rid: 1, sub: 'orders', topic: 'sync.order.*', returnMode: 'full' },
        { type: 'subscribe', rid: 2, sub: 'sessions', topic: 'sync.session.*', returnMode: 'full' },
        { type: 'auth', rid: 3, token: fewer },
        { type: 'get', rid: 4, service: 'order', id: 'o1' },
      ],
      500,
      // Once the refresh is answered, writes to both services: only the session one may arrive.
      async () => {
        const admin = await clientWith(relay, ALL, 'admin');
        await admin.sync.merge('order', 'o1', { v: 'hidden' });
        await admin.sync.merge('session', 's1', { v: 'seen' });
      },
    );
    const events = raw.messages.flatMap((m) => (m.type === 'event' ? [m.event.metadata] : []));
    expect(events).toEqual([expect.objectContaining({ service: 'session', id: 's1' })]);
    expect(raw.messages.find((m) => m.type === 'error' && m.rid === null)).toMatchObject({
      sub: 'orders',
      error: { code: 'forbidden', message: expect.stringContaining('every document of service "order"') },
    });
    expect(raw.messages.filter((m) => m.type === 'error' && m.rid === null)).toHaveLength(1); // sessions kept
    expect(raw.messages.find((m) => 'rid' in m && m.rid === 3)).toMatchObject({ type: 'result' });
    expect(raw.messages.find((m) => 'rid' in m && m.rid === 4)).toMatchObject({ type: 'error', error: { code: 'forbidden' } });

    // Through the client: the token function is asked again before expiry, and the event
    // stream of the order subscription stops with a forbidden error while sessions go on.
    let calls = 0;
    const c = await opened(
      connect(relay, {
        token: () => {
          calls += 1;
          return tokenFor('bob', calls === 1 ? { session: ['read'], order: ['read'] } : { session: ['read'] }, { ttlSeconds: 2 });
        },
      }),
    );
    const ended: SyncError[] = [];
    const sessionEvents: SyncEvent[] = [];
    c.subscribe({ topic: 'sync.order.*' }, () => {}, (e) => ended.push(e));
    c.subscribe({ topic: 'sync.session.*' }, (e) => sessionEvents.push(e));
    await eventually(() => ended.length === 1, 4000, 'the order subscription ended by the refresh');
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(ended[0]).toMatchObject({ code: 'forbidden' });
    expect(c.status).toBe('open');
    const admin = await clientWith(relay, ALL, 'admin');
    await admin.sync.merge('session', 's1', { v: 'after' });
    await eventually(() => sessionEvents.length === 1, 2000, 'session events still flowing');
  });
});
