/**
 * Issue 12, point 9: typed `mutate` records. For a document type with known fields, the keys
 * are its fields and dot paths and the values are checked; the default document type keeps the
 * untyped record. Checked by `tsc`; `@ts-expect-error` lines must fail to compile.
 */
import { describe, expectTypeOf, it } from 'vitest';
import { append, increment, remove } from '../../src/index.js';
import type { DocumentData, MutationHelper, MutationList, MutationRecord, SyncClient } from '../../src/index.js';
import type { DocumentActions } from '../../src/react.js';

interface Todo {
  id: string;
  text: string;
  done: boolean;
  tags?: string[];
}

interface Board {
  title: string;
  count: number;
  level: 1 | 2;
  notes?: string;
  archivedAt: number | null;
  owner: { name: string; email?: string; address: { city: string; geo: { lat: number; deep: { x: number } } } };
  todos: Todo[];
  log?: Array<{ at: number; by?: string }>;
  /** A map of ids: paths below it are any key, unchecked. */
  cards: Record<string, { title: string }>;
  meta: unknown;
  matrix: number[][];
  pair: [number, number];
  'a.b': number;
}

declare const sync: SyncClient;
declare const doc: DocumentActions<Board>;
type R = MutationRecord<Board>;

describe('typed mutate records', () => {
  it('accept the fields and dot paths of T, with values of their types', () => {
    const ok: R = {
      title: 'x',
      count: increment(2),
      level: 2,
      notes: remove(),
      archivedAt: null,
      'owner.name': 'n',
      'owner.email': remove(),
      'owner.address.geo.lat': 1.5,
      todos: [{ id: '1', text: 'a', done: false }],
      'todos.0.done': true,
      'todos.1': remove(), // an array element is spliced out
      'todos.2': { id: '2', text: 'b', done: true },
      'todos.0.tags': append('a', 'b'),
      log: append({ at: 1 }, { at: 2, by: 'me' }),
      'cards.c1.title': 'z', // below an index signature: unchecked
      'meta.any.path': [1],
      'matrix.0': [1, 2],
      pair: [1, 2],
      'a\\.b': 3, // a `.` in a key is escaped, as in every path
    };
    void ok;
    // Deeper than four levels: accepted, unchecked.
    const deep: R = { 'owner.address.geo.deep.x': 1 };
    void deep;
    const _mutate = () => doc.mutate({ count: increment(), 'todos.0.text': 'y' });
    const _client = () => sync.mutate<Board>('board', 'b1', { title: 'x', 'owner.address.city': 'Lyon' }, 3);
    // The array form stays available (untyped) for typed documents.
    const _list = () => doc.mutate([{ op: 'set', path: 'anything', value: 1 }]);
    void [_mutate, _client, _list];
  });

  it('refuse unknown paths and values of the wrong type', () => {
    // @ts-expect-error: a field Board does not have
    const _a: R = { nope: 1 };
    // @ts-expect-error: a path Board does not have
    const _b: R = { 'owner.nope': 1 };
    // @ts-expect-error: a string for a number field
    const _c: R = { count: 'x' };
    // @ts-expect-error: a number for a nested string field
    const _d: R = { 'owner.address.city': 1 };
    // @ts-expect-error: an element of the wrong type
    const _e: R = { 'todos.0': { id: 1 } };
    // @ts-expect-error: a field of an array element, of the wrong type
    const _f: R = { 'todos.0.done': 'yes' };
    void [_a, _b, _c, _d, _e, _f];
    // @ts-expect-error: through the document's actions too
    const _h = () => doc.mutate({ title: 1 });
    // @ts-expect-error: and through the client with a type
    const _i = () => sync.mutate<Board>('board', 'b1', { titel: 'x' });
    void [_h, _i];
  });

  it('allow each helper only where it applies', () => {
    // @ts-expect-error: increment() on a string field
    const _a: R = { title: increment() };
    // @ts-expect-error: increment() on a field of some numbers only (it could leave them)
    const _b: R = { level: increment() };
    // @ts-expect-error: append() on a number field
    const _c: R = { count: append(1) };
    // @ts-expect-error: append() to a tuple
    const _d: R = { pair: append(3) };
    // @ts-expect-error: items of the wrong type
    const _e: R = { log: append({ at: 'noon' }) };
    // @ts-expect-error: items with a field the element type does not have
    const _f: R = { log: append({ at: 1, extra: true }) };
    // @ts-expect-error: items of a nested array, of the wrong type
    const _g: R = { 'todos.0.tags': append(1) };
    // @ts-expect-error: remove() on a required field
    const _h: R = { title: remove() };
    // @ts-expect-error: remove() on a required nested field
    const _i: R = { 'owner.name': remove() };
    // @ts-expect-error: remove() on a nullable, required field (set it to null instead)
    const _j: R = { archivedAt: remove() };
    void [_a, _b, _c, _d, _e, _f, _g, _h, _i, _j];
  });

  it('keep the untyped record for the default document type', () => {
    expectTypeOf<MutationRecord>().toEqualTypeOf<Record<string, unknown>>();
    expectTypeOf<MutationRecord<DocumentData>>().toEqualTypeOf<Record<string, unknown>>();
    expectTypeOf<MutationRecord<{ [key: string]: number }>>().toEqualTypeOf<Record<string, unknown>>();
    const _untyped = () => sync.mutate('session', 's1', { 'any.path': increment(-1), draft: remove(), log: append({ at: 1 }, 'x'), n: 1 }, 5);
    const _actions = (d: DocumentActions<DocumentData>) => d.mutate({ whatever: append(1, 'two') });
    expectTypeOf<Parameters<DocumentActions<Board>['mutate']>[0]>().toEqualTypeOf<R | MutationList>();
    void [_untyped, _actions];
  });

  it('type the helpers by what they do', () => {
    expectTypeOf(increment(2)).toEqualTypeOf<MutationHelper<'increment', number>>();
    expectTypeOf(remove()).toEqualTypeOf<MutationHelper<'remove', never>>();
    // Alone, append's items are not typed; inside a typed record they get the array's element type.
    expectTypeOf(append(1, 'a')).toEqualTypeOf<MutationHelper<'append', unknown>>();
    expectTypeOf(append<string>('a')).toEqualTypeOf<MutationHelper<'append', string>>();
    expectTypeOf(increment()).toExtend<MutationHelper>();
    expectTypeOf(append(1)).toExtend<MutationHelper>();
  });
});
