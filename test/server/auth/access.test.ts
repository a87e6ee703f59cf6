/**
 * The rights rule: grants compiled into permissions, requests authorized against them, and the
 * subscription rule checked as a property: a subscription that is allowed never matches an
 * event of a document its principal may not read.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ClientMessage, type EventFilter, filterMatches, topicFor, topicMatches } from '../../../src/protocol/index.js';
import { authorize, authorizeSubscription, subscriptionScope } from '../../../server/auth/access.js';
import { parseGrants } from '../../../server/auth/mint.js';
import { type Grants, type Right, Permissions, checkGrants, checkPrincipal } from '../../../server/auth/principal.js';

const SERVICES = ['session', 'order', 'cart'];
const IDS = ['a', 'b', 'c'];

const right = fc.constantFrom<Right>('read', 'write', 'presence');
const scope = fc.oneof(
  fc.constant('*'),
  fc.constantFrom(...SERVICES),
  fc.tuple(fc.constantFrom(...SERVICES), fc.constantFrom(...IDS)).map(([s, i]) => `${s}/${i}`),
);
const grants: fc.Arbitrary<Grants> = fc.dictionary(scope, fc.uniqueArray(right, { maxLength: 3 }), { maxKeys: 4, noNullPrototype: true });
const segment = (names: string[]) => fc.constantFrom('*', ...names);
const topic = fc.oneof(
  fc.tuple(fc.constantFrom('sync', '*'), segment(SERVICES), fc.constantFrom('created', 'updated', 'deleted', '*')).map((t) => t.join('.')),
  fc.constantFrom('sync', 'sync.session', 'other.session.updated', 'sync.session.updated.x', '*.*', '*.*.*'),
);
const filter: fc.Arbitrary<EventFilter | undefined> = fc.option(
  fc.record({ id: fc.constantFrom(...IDS, 7), service: fc.constantFrom(...SERVICES, true), status: fc.constantFrom('open', 'closed') }, { requiredKeys: [] }),
  { nil: undefined },
);
const operation = fc.constantFrom('create', 'replace', 'merge', 'mutate', 'delete') as fc.Arbitrary<'create' | 'replace' | 'merge' | 'mutate' | 'delete'>;

describe('permissions', () => {
  it('are the union of the rights of *, the service and the document', () => {
    const p = Permissions.of({ '*': ['presence'], session: ['read'], 'order/o1': ['write'] });
    expect(p.allows('read', 'session', 'x')).toBe(true);
    expect(p.allows('read', 'session')).toBe(true);
    expect(p.allows('write', 'session', 'x')).toBe(false);
    expect(p.allows('write', 'order', 'o1')).toBe(true);
    expect(p.allows('write', 'order', 'o2')).toBe(false);
    expect(p.allows('write', 'order')).toBe(false);
    expect(p.allows('presence', 'cart', 'z')).toBe(true);
    expect(p.allows('read')).toBe(false);
    expect(Permissions.EVERYTHING.allows('write')).toBe(true);
  });

  it('refuse malformed grants with unauthorized, naming the fault', () => {
    for (const [bad, why] of [
      [[], /object of scope/],
      ['session:read', /object of scope/],
      [{ 'a.b': ['read'] }, /scope "a.b"/],
      [{ 'session/x/y': ['read'] }, /scope "session\/x\/y"/],
      [{ session: 'read' }, /rights of "session"/],
      [{ session: ['admin'] }, /rights of "session"/],
    ] as const) {
      expect(() => checkGrants(bad)).toThrowError(expect.objectContaining({ code: 'unauthorized', message: expect.stringMatching(why) }));
    }
    expect(checkGrants(undefined)).toEqual({});
    expect(checkGrants({ session: ['read', 'read'] })).toEqual({ session: ['read'] });
    // A service may be called __proto__: its grant is kept as a grant, not swallowed.
    const proto = checkGrants(JSON.parse('{"__proto__": ["read"]}'));
    expect(Object.keys(proto)).toEqual(['__proto__']);
    expect(Permissions.of(proto).allows('read', '__proto__', 'x')).toBe(true);
    expect(Permissions.of(proto).allows('read', 'session', 'x')).toBe(false);
    expect(Object.keys(parseGrants(['__proto__:read', '__proto__:write']))).toEqual(['__proto__']);
    expect(() => checkPrincipal({ user: '', grants: {} })).toThrowError(/user/);
    expect(() => checkPrincipal({ user: 'u', grants: {}, expiresAt: 'soon' })).toThrowError(/expiresAt/);
    expect(checkPrincipal({ user: 'u', grants: { '*': ['read'] }, extra: 1 })).toEqual({ user: 'u', grants: { '*': ['read'] } });
  });
});

describe('authorize', () => {
  const p = Permissions.of({ session: ['read'], 'order/o1': ['read', 'write'] });
  const cases: Array<[ClientMessage, string | null]> = [
    [{ type: 'get', rid: 1, service: 'session', id: 'x' }, null],
    [{ type: 'catchup', rid: 1, service: 'session', id: 'x', since: 0 }, null],
    [{ type: 'merge', rid: 1, service: 'session', id: 'x', data: {} }, 'forbidden: this token has no "write" right on session/x'],
    [{ type: 'create', rid: 1, service: 'order', id: 'o1', data: {} }, null],
    [{ type: 'create', rid: 1, service: 'order', id: 'o2', data: {} }, '"write" right on order/o2'],
    [{ type: 'delete', rid: 1, service: 'order', id: 'o1' }, null],
    [{ type: 'get', rid: 1, service: 'order', id: 'o2' }, '"read" right on order/o2'],
    [{ type: 'subscribe', rid: 1, sub: 's', topic: 'sync.order.*' }, 'every document of service "order"'],
    [{ type: 'subscribe', rid: 1, sub: 's', topic: 'sync.order.*', filter: { id: 'o1' } }, null],
    [{ type: 'subscribe', rid: 1, sub: 's', topic: 'sync.*.updated', filter: { id: 'o1' } }, 'document "o1" of every service'],
    [{ type: 'subscribe', rid: 1, sub: 's', topic: 'sync.*.updated', filter: { id: 'o1', service: 'order' } }, null],
    [{ type: 'subscribe', rid: 1, sub: 's', topic: 'sync.session.*' }, null],
    [{ type: 'unsubscribe', rid: 1, sub: 's' }, null],
    [{ type: 'ping', rid: 1 }, null],
  ];
  it.each(cases)('%j', (m, refusal) => {
    if (refusal === null) expect(() => authorize(p, m)).not.toThrow();
    else expect(() => authorize(p, m)).toThrowError(expect.objectContaining({ code: 'forbidden', status: 403, message: expect.stringContaining(refusal) }));
  });

  it('checks a create without an id against the id it is about to get', () => {
    const m: ClientMessage = { type: 'create', rid: 1, service: 'order', data: {} };
    expect(() => authorize(p, m, 'o1')).not.toThrow();
    expect(() => authorize(p, m, 'o9')).toThrowError(/order\/o9/);
  });

  it('never allows a subscription that can match an event of a document without read', () => {
    fc.assert(
      fc.property(grants, topic, filter, fc.constantFrom(...SERVICES), fc.constantFrom(...IDS), operation, fc.constantFrom('open', 'closed'), (g, t, f, service, id, op, status) => {
        const permissions = Permissions.of(g);
        let allowed = true;
        try {
          authorizeSubscription(permissions, t, f);
        } catch {
          allowed = false;
        }
        const matches = topicMatches(t, topicFor(service, op)) && filterMatches(f, { service, id }, { status });
        if (allowed && matches) expect(permissions.allows('read', service, id)).toBe(true);
        // And the rule is not stricter than it must be: read on everything allows everything.
        if (g['*']?.includes('read')) expect(allowed).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('scopes topics that cannot match a document event to nothing', () => {
    for (const t of ['sync', 'sync.session', 'other.session.updated', 'sync.session.renamed', 'sync.a.b.c']) expect(subscriptionScope(t, undefined)).toBe('nothing');
    expect(subscriptionScope('sync.session.*', { id: 7 })).toBe('nothing');
    expect(subscriptionScope('sync.session.*', { service: 'order' })).toBe('nothing');
    expect(subscriptionScope('*.*.*', { service: 'order', id: 'x' })).toEqual({ service: 'order', id: 'x' });
  });
});
