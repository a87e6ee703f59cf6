/**
 * The memory driver and the Redis (RedisJSON + Lua) driver must be indistinguishable: same
 * success or failure (same code, same revision on conflict), same data, same revision, the same
 * event (with the same diff) per committed write, and the same catch-up answers.
 *
 * Both stores get the same writes on the same (service, id). Events from Redis arrive through
 * pub/sub, so they are awaited before being compared.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Store, type StoreEvent, createMemoryStore, createRedisStore } from '../../server/index.js';
import {
  type CatchUpResult,
  type JsonObject,
  type JsonValue,
  type MutationOp,
  SyncError,
  formatPath,
  isPathAddressable,
  isPlainObject,
  normalizeMutations,
} from '../../src/protocol/index.js';

const SERVICE = 'parity';
/** A short change log, so catch-up answers with changes and with snapshots both get compared. */
const SETTINGS = { changeLogSize: 4, maxDocumentBytes: 250 };

/** JSON round trip: what a client would receive (drops -0, undefined; key order is irrelevant to toEqual). */
const wire = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));

interface SeenEvent {
  operation: string;
  service: string;
  id: string;
  revision: number;
  mutationId?: string;
  data: JsonObject;
  diff: unknown;
}

/** One store plus the events it emitted, by document id. */
class Observed {
  readonly events = new Map<string, SeenEvent[]>();
  /** The incarnation of each document, as first seen (in an answer or an event). */
  private readonly incarnations = new Map<string, string>();
  private waiters: Array<() => void> = [];

  constructor(readonly store: Store) {
    store.onEvent((e) => this.record(e));
  }

  /**
   * Asserts that `incarnation` is the one of `id` everywhere on this store. Each store makes its
   * own (random) incarnations, so they are not compared across stores; ids are never created
   * twice here (a deleted id stays taken), so every answer and event of one id has one.
   */
  sameIncarnation(id: string, incarnation: unknown, what: string): void {
    expect(incarnation, `${what}: incarnation`).toMatch(/^[0-9a-v]{12}$/);
    const known = this.incarnations.get(id);
    if (known === undefined) this.incarnations.set(id, incarnation as string);
    else expect(incarnation, `${what}: the same incarnation as before`).toBe(known);
  }

  private record(e: StoreEvent): void {
    const m = e.metadata;
    this.sameIncarnation(m.id, m.incarnation, `event ${m.operation} r${m.revision}`);
    expect((JSON.parse(e.metadataJson()) as { incarnation: unknown }).incarnation).toBe(m.incarnation);
    // Compared through their JSON texts too: what the relay splices into frames.
    const seen: SeenEvent = { operation: m.operation, service: m.service, id: m.id, revision: m.revision, data: JSON.parse(e.dataJson()), diff: JSON.parse(e.diffJson()) };
    expect(wire(e.data())).toEqual(seen.data);
    if (m.mutationId !== undefined) seen.mutationId = m.mutationId;
    const list = this.events.get(m.id) ?? [];
    list.push(seen);
    this.events.set(m.id, list);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  eventsOf(id: string): SeenEvent[] {
    return this.events.get(id) ?? [];
  }

  /** Resolves once `count` events for `id` arrived, or after `ms` (the comparison then shows what is missing). */
  async waitFor(id: string, count: number, ms = 2000): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.eventsOf(id).length < count && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

type Outcome =
  | { ok: true; value: unknown }
  | { ok: false; code: string; status?: number; revision?: number };

/**
 * A write's or a read's result, without the clock-dependent fields (createdAt, updatedAt,
 * timestamp) and the incarnation, which each store makes at random: checked with `on` instead.
 */
async function outcome(run: () => Promise<unknown>, on?: Observed): Promise<Outcome> {
  try {
    const v = await run();
    if (v !== null && typeof v === 'object' && 'data' in v && 'revision' in v) {
      const d = v as { service: string; id: string; revision: number; data: JsonObject; incarnation: string };
      on?.sameIncarnation(d.id, d.incarnation, `answer r${d.revision}`);
      return { ok: true, value: { service: d.service, id: d.id, revision: d.revision, data: wire(d.data) } };
    }
    // null and undefined are told apart by the explicit test "a write that replays a delete's
    // mutationId resolves the same on both stores"; here they count as one "no document".
    return { ok: true, value: v ?? undefined };
  } catch (err) {
    if (!(err instanceof SyncError)) return { ok: false, code: `not a SyncError: ${String(err)}` };
    const out: Outcome = { ok: false, code: err.code, status: err.status };
    if (err.revision !== undefined) out.revision = err.revision;
    return out;
  }
}

function catchUpView(r: CatchUpResult): unknown {
  if ('snapshot' in r) return { revision: r.revision, deleted: r.deleted, snapshot: wire(r.snapshot) };
  return {
    revision: r.revision,
    deleted: r.deleted,
    changes: r.changes.map((c) => ({ revision: c.revision, operation: c.operation, mutationId: c.mutationId, diff: wire(c.diff) })),
  };
}

let memory: Observed;
let redis: Observed;
let docCounter = 0;
const freshId = () => `d${++docCounter}_${randomBytes(3).toString('hex')}`;

beforeAll(async () => {
  memory = new Observed(createMemoryStore(SETTINGS));
  const keyPrefix = `test:parity:${randomBytes(5).toString('hex')}:`;
  redis = new Observed(await createRedisStore({ redis: inject('redisUrl'), keyPrefix, ...SETTINGS }));
  await Promise.all([memory.store.listen(true), redis.store.listen(true)]);
});

afterAll(async () => {
  await Promise.allSettled([memory?.store.close(), redis?.store.close()]);
});

/**
 * Runs one step on both stores and asserts the same outcome, the same document afterwards and
 * the same events so far. Returns the (shared) outcome.
 */
async function step(id: string, what: string, run: (s: Store) => Promise<unknown>): Promise<Outcome> {
  const m = await outcome(() => run(memory.store), memory);
  const r = await outcome(() => run(redis.store), redis);
  expect(r, `${what}: outcome`).toEqual(m);
  const mGet = await outcome(() => memory.store.get(SERVICE, id), memory);
  const rGet = await outcome(() => redis.store.get(SERVICE, id), redis);
  expect(rGet, `${what}: get afterwards`).toEqual(mGet);
  const expected = memory.eventsOf(id);
  await redis.waitFor(id, expected.length);
  expect(redis.eventsOf(id), `${what}: events`).toEqual(expected);
  return m;
}

/** Both stores answer the same catch-up for every `since` from 0 to past the revision. */
async function sameCatchUp(id: string): Promise<void> {
  const head = await outcome(() => memory.store.changesSince(SERVICE, id, 0));
  const revision = head.ok ? (head.value as { revision: number }).revision : 0;
  for (let since = 0; since <= revision + 1; since++) {
    const view = (s: Observed) =>
      outcome(async () => {
        const answer = await s.store.changesSince(SERVICE, id, since);
        s.sameIncarnation(id, answer.incarnation, `changesSince(${since})`);
        return catchUpView(answer);
      });
    const m = await view(memory);
    const r = await view(redis);
    expect(r, `changesSince(${since})`).toEqual(m);
  }
}

// ---------------------------------------------------------------------------------------------
// Generators

/**
 * Keys a mutate path can name (isPathAddressable): dots, one kind of quote, `constructor`,
 * digits (look like array indices but are object keys), the empty key, non-ASCII, JSONPath
 * syntax characters (keys starting with whitespace are not addressable: see the explicit test).
 */
const key: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('a', 'b', 'c', 'new') },
  {
    weight: 3,
    arbitrary: fc.constantFrom('x.y', 'a.b.c', "it's", 'say "hi"', 'constructor', 'prototype', 'toString', '0', '1', '10', '01', '', 'é', '日本', '$', '[0]', '*', '@', ']', "'"),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 3 }).filter((k) => isPathAddressable(k) && k !== '__proto__') },
);

/**
 * Numbers are integers. Fractions are left out on purpose: RedisJSON 2.8 does not parse every
 * double exactly (0.09999999999999999 is stored as 0.1, -9.559999999999999 as -9.56: about one
 * in ten sums of two-decimal numbers, a quarter of random doubles), so data holding such values
 * differs between the drivers as soon as Redis parses them, and the Lua rollback of a failed
 * mutate re-parses what it restores (explicit test below). It also prints exponents as `1e21`
 * where JSON.stringify prints `1e+21`, so the drivers measure size differently (explicit test
 * below). Huge integers are left out because NUMINCRBY wraps around on 64-bit overflow
 * (explicit test below).
 */
const num: fc.Arbitrary<number> = fc.integer({ min: -1000, max: 1000 });

const scalar: fc.Arbitrary<JsonValue> = fc.oneof(
  num,
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('', 'x', 'é', '"q"', '\\', '日本', 'line\nbreak', '😀'),
  fc.string({ maxLength: 4 }),
);

function value(maxDepth: number): fc.Arbitrary<JsonValue> {
  return fc.letrec<{ v: JsonValue }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small', maxDepth },
      scalar,
      fc.array(tie('v'), { maxLength: 4 }),
      fc.dictionary(key, tie('v'), { maxKeys: 3, noNullPrototype: true }),
    ),
  })).v;
}

const document: fc.Arbitrary<JsonObject> = fc.dictionary(key, value(3), { maxKeys: 5, noNullPrototype: true });

/** A merge patch: values may be null (remove) at any depth. */
const patch: fc.Arbitrary<JsonObject> = fc.dictionary(key, fc.oneof(value(3), fc.constant(null)), { maxKeys: 4, noNullPrototype: true });

interface OpSpec {
  op: MutationOp['op'];
  /** Picks one of the candidate paths of the document as it is when the write runs. */
  pick: number;
  value: JsonValue;
  n: number;
}

interface Options {
  expected: 'none' | 'current' | 'stale';
  mutationId?: string;
}

type WriteSpec =
  | { kind: 'merge'; patch: JsonObject; opts: Options }
  | { kind: 'replace'; data: JsonObject; opts: Options }
  | { kind: 'mutate'; ops: OpSpec[]; opts: Options }
  | { kind: 'delete'; opts: Options }
  | { kind: 'create'; data: JsonObject; opts: Options };

const options: fc.Arbitrary<Options> = fc.record(
  {
    expected: fc.oneof({ weight: 6, arbitrary: fc.constant('none' as const) }, fc.constantFrom('current' as const, 'stale' as const)),
    mutationId: fc.constantFrom('m1', 'm2'),
  },
  { requiredKeys: ['expected'] },
);

const opSpec: fc.Arbitrary<OpSpec> = fc.record({
  op: fc.constantFrom('set', 'remove', 'increment', 'append'),
  pick: fc.nat(),
  value: value(2),
  n: fc.integer({ min: -5, max: 5 }),
});

const write: fc.Arbitrary<WriteSpec> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('merge' as const), patch, opts: options }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('replace' as const), data: document, opts: options }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('mutate' as const), ops: fc.array(opSpec, { minLength: 1, maxLength: 4 }), opts: options }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), opts: options }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('create' as const), data: document, opts: options }) },
);

/**
 * Paths worth mutating in `data`: every existing field and element, and around them missing
 * keys, index == length, index > length, non-index keys on arrays, non-canonical indices, and
 * paths that go through scalars.
 */
function candidatePaths(data: JsonObject): string[][] {
  const out: string[][] = [];
  const walk = (v: JsonValue, segs: string[]) => {
    if (segs.length > 0) out.push(segs);
    if (segs.length >= 4) return;
    if (Array.isArray(v)) {
      v.forEach((item, i) => walk(item, [...segs, String(i)]));
      out.push([...segs, String(v.length)], [...segs, String(v.length + 1)], [...segs, 'x'], [...segs, String(v.length), 'k']);
      if (v.length > 1) out.push([...segs, '01']);
      if (v.length > 0) out.push([...segs, 'x', 'y'], [...segs, '0', 'new']);
    } else if (isPlainObject(v)) {
      for (const k of Object.keys(v)) walk(v[k]!, [...segs, k]);
      out.push([...segs, 'new'], [...segs, 'new', 'deeper']);
    } else {
      out.push([...segs, 'k'], [...segs, 'k', 'j']);
    }
  };
  walk(data, []);
  return out.filter((segs) => segs.every(isPathAddressable) && formatPath(segs) !== '');
}

function concreteOps(data: JsonObject, specs: OpSpec[]): MutationOp[] {
  const paths = candidatePaths(data);
  const raw = specs.map((s) => {
    const path = formatPath(paths[s.pick % paths.length]!);
    if (s.op === 'remove') return { op: s.op, path };
    if (s.op === 'increment') return { op: s.op, path, value: s.n };
    return { op: s.op, path, value: s.value };
  });
  // What the relay would pass on: checked and normalized like a client's mutate.
  return normalizeMutations(raw);
}

// ---------------------------------------------------------------------------------------------

describe('memory and Redis stores behave identically', () => {
  it('property: random documents and random write sequences', async () => {
    await fc.assert(
      fc.asyncProperty(document, fc.array(write, { minLength: 1, maxLength: 8 }), async (initial, writes) => {
        const id = freshId();
        await step(id, 'create', (s) => s.create(SERVICE, id, initial));
        let data: JsonObject = initial;
        let revision = 1;
        for (const [i, w] of writes.entries()) {
          const opts: { expectedRevision?: number; mutationId?: string } = {};
          if (w.opts.expected === 'current') opts.expectedRevision = revision;
          if (w.opts.expected === 'stale') opts.expectedRevision = revision - 1;
          if (w.opts.mutationId) opts.mutationId = w.opts.mutationId;
          let run: (s: Store) => Promise<unknown>;
          let what: string;
          switch (w.kind) {
            case 'merge':
              run = (s) => s.merge(SERVICE, id, w.patch, opts);
              what = `merge ${JSON.stringify(w.patch)}`;
              break;
            case 'replace':
              run = (s) => s.replace(SERVICE, id, w.data, opts);
              what = `replace ${JSON.stringify(w.data)}`;
              break;
            case 'create':
              // The relay never passes expectedRevision to create; see the explicit test
              // "create with expectedRevision" for what the stores do with one.
              delete opts.expectedRevision;
              run = (s) => s.create(SERVICE, id, w.data, opts);
              what = 'create again';
              break;
            case 'delete':
              run = (s) => s.delete(SERVICE, id, opts);
              what = 'delete';
              break;
            case 'mutate': {
              const ops = concreteOps(data, w.ops);
              run = (s) => s.mutate(SERVICE, id, ops, opts);
              what = `mutate ${JSON.stringify(ops)}`;
              break;
            }
          }
          await step(id, `write #${i + 1} ${what} ${JSON.stringify(opts)} on ${JSON.stringify(data)}`, run);
          const now = await outcome(() => memory.store.get(SERVICE, id));
          if (now.ok) {
            const doc = now.value as { revision: number; data: JsonObject };
            data = doc.data;
            revision = doc.revision;
          } else {
            data = {};
          }
        }
        await sameCatchUp(id);
      }),
      { numRuns: 200 },
    );
  });
});

/** Creates `initial` on both stores under a fresh id and returns the id. */
async function created(initial: JsonObject): Promise<string> {
  const id = freshId();
  const o = await step(id, 'create', (s) => s.create(SERVICE, id, initial));
  expect(o.ok).toBe(true);
  return id;
}

async function dataOf(s: Observed, id: string): Promise<JsonObject> {
  return wire((await s.store.get(SERVICE, id)).data) as JsonObject;
}

describe('memory and Redis stores: explicit cases', () => {
  it('keys that mutate paths cannot name (backslash, both quotes) go through merge and replace alike', async () => {
    const odd = { 'a\\b': 1, [`it's "q"`]: { 'x\\': [1, 2] }, plain: { 'c\\d': true } };
    const id = await created(odd);
    await step(id, 'merge top-level odd keys', (s) => s.merge(SERVICE, id, { 'a\\b': null, [`it's "q"`]: { 'x\\': [3], y: 1 }, 'new\\': 'v' }));
    await step(id, 'merge nested odd keys', (s) => s.merge(SERVICE, id, { plain: { 'c\\d': null, 'e\\f': { g: 1 } } }));
    await step(id, 'replace with odd keys', (s) => s.replace(SERVICE, id, { '\\': { [`'"`]: 0 }, ok: 1 }));
    await step(id, 'mutate a plain key next to odd ones', (s) => s.mutate(SERVICE, id, [{ op: 'increment', path: 'ok', value: 2 }]));
    expect(await dataOf(redis, id)).toEqual({ '\\': { [`'"`]: 0 }, ok: 3 });
    await sameCatchUp(id);
  });

  it('conflicts, delete, and writes after delete', async () => {
    const id = await created({ n: 1 });
    const stale = await step(id, 'stale merge', (s) => s.merge(SERVICE, id, { n: 2 }, { expectedRevision: 5 }));
    expect(stale).toMatchObject({ ok: false, code: 'conflict', status: 409, revision: 1 });
    await step(id, 'fresh mutate', (s) => s.mutate(SERVICE, id, [{ op: 'increment', path: 'n', value: 1 }], { expectedRevision: 1 }));
    expect(await step(id, 'stale delete', (s) => s.delete(SERVICE, id, { expectedRevision: 1 }))).toMatchObject({ code: 'conflict', revision: 2 });
    expect(await step(id, 'delete', (s) => s.delete(SERVICE, id))).toEqual({ ok: true, value: undefined });
    expect(await step(id, 'merge after delete', (s) => s.merge(SERVICE, id, { n: 5 }))).toMatchObject({ ok: false, code: 'not_found', status: 404 });
    expect(await step(id, 'delete again', (s) => s.delete(SERVICE, id))).toMatchObject({ ok: false, code: 'not_found' });
    expect(await step(id, 'create over deleted', (s) => s.create(SERVICE, id, {}))).toMatchObject({ ok: false, code: 'conflict', revision: 3 });
    expect(memory.eventsOf(id).map((e) => e.operation)).toEqual(['create', 'mutate', 'delete']);
    expect(memory.eventsOf(id)[2]!.diff).toEqual({ added: {}, removed: { n: 2 }, changed: {} });
    const catchUp = await redis.store.changesSince(SERVICE, id, 1);
    expect(catchUp.deleted).toBe(true);
    await sameCatchUp(id);
    const missing = freshId();
    expect(await step(missing, 'get of a never-created id', (s) => s.get(SERVICE, missing))).toMatchObject({ ok: false, code: 'not_found' });
    expect(await step(missing, 'catch-up of a never-created id', (s) => s.changesSince(SERVICE, missing, 0))).toMatchObject({ ok: false, code: 'not_found' });
  });

  it('a replayed mutationId answers the first result and publishes nothing', async () => {
    const id = await created({ n: 0 });
    const first = await step(id, 'mutate m1', (s) => s.mutate(SERVICE, id, [{ op: 'increment', path: 'n', value: 1 }], { mutationId: 'm1' }));
    const again = await step(id, 'mutate m1 again', (s) => s.mutate(SERVICE, id, [{ op: 'increment', path: 'n', value: 1 }], { mutationId: 'm1' }));
    expect(again).toEqual(first);
    expect(await dataOf(redis, id)).toEqual({ n: 1 });
    expect(memory.eventsOf(id).map((e) => e.mutationId)).toEqual([undefined, 'm1']);
  });

  it('a write replayed after the document moved on answers the document as that write left it', async () => {
    const id = await created({ n: 0, tags: ['a'] });
    const first = await step(id, 'merge m2', (s) => s.merge(SERVICE, id, { n: 1, tags: ['a', 'b'], extra: { k: 1 } }, { mutationId: 'm2' }));
    await step(id, 'later merge', (s) => s.merge(SERVICE, id, { n: 2, extra: null, more: true }));
    await step(id, 'later mutate', (s) => s.mutate(SERVICE, id, [{ op: 'append', path: 'tags', value: 'c' }]));
    const again = await step(id, 'merge m2 again', (s) => s.merge(SERVICE, id, { n: 1 }, { mutationId: 'm2' }));
    expect(again).toEqual(first);
    expect(again).toMatchObject({ ok: true, value: { revision: 2, data: { n: 1, tags: ['a', 'b'], extra: { k: 1 } } } });
    expect(await dataOf(redis, id)).toEqual({ n: 2, tags: ['a', 'b', 'c'], more: true });
  });

  it('a mutation id full of JSON syntax stays data (the store API validates nothing)', async () => {
    const id = await created({ n: 0 });
    await step(id, 'merge with a hostile mutation id', (s) => s.merge(SERVICE, id, { n: 1 }, { mutationId: 'x","id":"victim' }));
    expect(memory.eventsOf(id).at(-1)).toMatchObject({ id, mutationId: 'x","id":"victim' });
  });

  it('fractions that RedisJSON parses exactly behave the same, increments included', async () => {
    const id = await created({ price: 12.34, ratio: 0.5, small: 1e-7 });
    for (let i = 0; i < 3; i++) await step(id, `increment #${i}`, (s) => s.mutate(SERVICE, id, [{ op: 'increment', path: 'x', value: 0.1 }]));
    await step(id, 'int + fraction', (s) => s.mutate(SERVICE, id, [{ op: 'increment', path: 'price', value: 1 }, { op: 'increment', path: 'ratio', value: 1.5 }]));
    expect(await dataOf(redis, id)).toEqual({ price: 13.34, ratio: 2, small: 1e-7, x: 0.30000000000000004 });
  });

  // ---- Divergences: each of these fails until the driver named in it is fixed. ----

  it('increment at index == length of an array', async () => {
    // memory: appends n ({ items: [1, 5] }); Redis: 400 invalid ("not an index within the array").
    const id = await created({ items: [1] });
    await step(id, 'increment items.1', (s) => s.mutate(SERVICE, id, [{ op: 'increment', path: 'items.1', value: 5 }]));
  });

  it('append at index == length of an array', async () => {
    // memory: appends a new array ({ items: [1, ['x']] }); Redis: 400 invalid.
    const id = await created({ items: [1] });
    await step(id, 'append items.1', (s) => s.mutate(SERVICE, id, [{ op: 'append', path: 'items.1', value: 'x' }]));
  });

  it('remove through an array by a non-index key is a no-op, like any remove of a missing path', async () => {
    // memory: no-op; Redis: 400 invalid ("x is not an index of the array at items").
    const id = await created({ items: [{ a: 1 }] });
    const o = await step(id, 'remove items.x.a', (s) => s.mutate(SERVICE, id, [{ op: 'remove', path: 'items.x.a' }]));
    expect(o.ok).toBe(true);
    expect(await dataOf(redis, id)).toEqual({ items: [{ a: 1 }] });
  });

  it('a key with a leading space cannot be named in a path (RedisJSON would write the trimmed key); merge writes it', async () => {
    // RedisJSON 2.8 drops leading spaces inside ['...'] in JSONPath, so such keys are refused in
    // mutate paths for both stores (isPathAddressable) and written through merge instead.
    const id = await created({ a: 1, ' a': 2 });
    expect(() => normalizeMutations([{ op: 'set', path: ' a', value: 3 }])).toThrow(/leading whitespace/);
    await step(id, 'merge " a"', (s) => s.merge(SERVICE, id, { ' a': 3 }));
    expect(await dataOf(redis, id)).toEqual({ a: 1, ' a': 3 });
  });

  it('a merge of a key with a leading space reports its diff', async () => {
    // Data agrees (JSON.MERGE), but the Redis driver reads the covering path $[' b'] as
    // $['b'], so its event says nothing changed.
    const id = await created({ b: 1 });
    await step(id, 'merge " b"', (s) => s.merge(SERVICE, id, { ' b': 2 }));
    expect(redis.eventsOf(id)[1]?.diff).toEqual({ added: { ' b': 2 }, removed: {}, changed: {} });
  });

  it('a mutate under the empty top-level key gets the path ".k" in its diff', async () => {
    // memory: computeDiff gives "k" (childPath treats the key "" like the root), so the diff
    // names the top-level field k; Redis: ".k" (right).
    const id = await created({ '': {} });
    await step(id, 'set ".k"', (s) => s.mutate(SERVICE, id, [{ op: 'set', path: '.k', value: 1 }]));
    expect(memory.eventsOf(id)[1]?.diff).toEqual({ added: { '.k': 1 }, removed: {}, changed: {} });
  });

  it('increment past 2^63 does not wrap around to a negative number', async () => {
    // memory: 9223372036854775808 (a double); Redis: NUMINCRBY on two i64 wraps to -9223372036854775808.
    const id = await created({ n: 2 ** 62 });
    await step(id, 'increment by 2^62', (s) => s.mutate(SERVICE, id, [{ op: 'increment', path: 'n', value: 2 ** 62 }]));
    expect((await dataOf(redis, id)).n).toBeGreaterThan(0);
  });

  it('a failed mutate leaves numbers exactly as they were', async () => {
    // -2 + -7.56 = -9.559999999999999 (both drivers compute it the same). The Redis script rolls
    // a failed mutate back by re-setting the JSON text it read, and RedisJSON parses
    // "-9.559999999999999" as -9.56: a failed write changes data, without a revision or event.
    const id = await created({});
    await step(id, 'increments', (s) => s.mutate(SERVICE, id, [{ op: 'increment', path: 'a', value: -2 }, { op: 'increment', path: 'a', value: -7.56 }]));
    expect(await dataOf(memory, id)).toEqual({ a: -9.559999999999999 });
    const failed = await step(id, 'failing mutate over a', (s) => s.mutate(SERVICE, id, [{ op: 'set', path: 'a.k', value: 1 }]));
    expect(failed).toMatchObject({ ok: false, code: 'invalid' });
    expect(await dataOf(redis, id)).toEqual({ a: -9.559999999999999 });
  });

  it('both drivers measure document size the same way at the limit (strings, integers, nesting)', async () => {
    // Both count the bytes of the serialized document. They serialize alike except for numbers
    // in exponent form ('1e+21' vs RedisJSON's '1e21'), a byte the README mentions.
    const doc = { s: 'héllo', n: [1, -2, 30], o: { k: true, z: null } };
    const settings = { maxDocumentBytes: Buffer.byteLength(JSON.stringify(doc)) };
    const m = createMemoryStore(settings);
    const r = await createRedisStore({ redis: inject('redisUrl'), keyPrefix: `test:parity:${randomBytes(5).toString('hex')}:`, ...settings });
    try {
      const id = freshId();
      const mo = await outcome(() => m.create(SERVICE, id, doc));
      const ro = await outcome(() => r.create(SERVICE, id, doc));
      expect(ro).toEqual(mo);
      expect(mo).toMatchObject({ ok: true });
      const bigger = { ...doc, s: 'héllo!' };
      const id2 = freshId();
      const mo2 = await outcome(() => m.create(SERVICE, id2, bigger));
      const ro2 = await outcome(() => r.create(SERVICE, id2, bigger));
      expect(ro2).toEqual(mo2);
      expect(mo2).toMatchObject({ ok: false, code: 'too_large' });
    } finally {
      await Promise.allSettled([m.close(), r.close()]);
    }
  });

  it("a write that reuses a delete's mutationId is refused the same way on both stores", async () => {
    // A client reuses a mutation id only by mistake: it is not a resend of the delete.
    const id = await created({ a: 1 });
    await memory.store.delete(SERVICE, id, { mutationId: 'del' });
    await redis.store.delete(SERVICE, id, { mutationId: 'del' });
    const outcome = (s: Store) => s.merge(SERVICE, id, { a: 2 }, { mutationId: 'del' }).then(() => 'resolved', (e: SyncError) => `${e.code}: ${e.message}`);
    const m = await outcome(memory.store);
    expect(m).toBe(`invalid: mutationId del was already used by a delete of ${SERVICE}/${id}`);
    expect(await outcome(redis.store)).toBe(m);
  });

  it('a mutation id is forgotten after mutationIdTtlSeconds, alike', async () => {
    const keyPrefix = `test:parity-ttl:${randomBytes(5).toString('hex')}:`;
    const settings = { ...SETTINGS, mutationIdTtlSeconds: 1 };
    const stores = [createMemoryStore(settings), await createRedisStore({ redis: inject('redisUrl'), keyPrefix, ...settings })];
    try {
      const answers = await Promise.all(
        stores.map(async (s) => {
          await s.create(SERVICE, 'ttl', { n: 0 });
          const inc = () => s.mutate(SERVICE, 'ttl', [{ op: 'increment', path: 'n', value: 1 }], { mutationId: 'once' });
          const first = await inc();
          const resent = await inc();
          await new Promise((resolve) => setTimeout(resolve, 1100));
          const late = await inc();
          return [first, resent, late].map((d) => [d.revision, d.data.n]);
        }),
      );
      expect(answers[0]).toEqual([[2, 1], [2, 1], [3, 2]]);
      expect(answers[1]).toEqual(answers[0]);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});
