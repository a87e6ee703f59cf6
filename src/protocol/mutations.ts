/**
 * Field-level mutations: the seed's record form `{ [path]: value | increment(n) | remove() |
 * append(...items) }` and the array form `[{ op, path, value? }]`, both normalized to
 * {@link MutationOp}s, which are what travels on the wire and what every store applies.
 */
import { invalid } from './errors.js';
import { type JsonObject, type JsonValue, assertJsonValue, describe, isPlainObject } from './json.js';
import { isPathAddressable, parsePath } from './paths.js';
import { TreeEditor } from './tree.js';

/** One normalized field operation. `path` is in path syntax (`settings.theme`, `items.0`). */
export type MutationOp =
  | { op: 'set'; path: string; value: JsonValue }
  | { op: 'remove'; path: string }
  | { op: 'increment'; path: string; value: number }
  | { op: 'append'; path: string; value: JsonValue };

/** The array form a caller may pass to `mutate`: one operation per element. */
export type MutationList = ReadonlyArray<
  | { op: 'set'; path: string; value: unknown }
  | { op: 'remove'; path: string; value?: undefined }
  | { op: 'increment'; path: string; value?: number }
  | { op: 'append'; path: string; value: unknown }
>;

const HELPER = Symbol.for('syncdoc.mutation');

/**
 * A value made by {@link increment}, {@link remove} or {@link append}, for the record form. `Op`
 * and `Item` (the type of an appended item) exist for the typed record form
 * ({@link MutationRecord}); `MutationHelper` alone is any of them.
 */
export interface MutationHelper<Op extends 'increment' | 'remove' | 'append' = 'increment' | 'remove' | 'append', Item = unknown> {
  readonly [HELPER]: true;
  readonly op: Op;
  readonly values: readonly Item[];
}

function helper<Op extends MutationHelper['op'], Item>(op: Op, values: Item[]): MutationHelper<Op, Item> {
  return Object.freeze({ [HELPER]: true as const, op, values: Object.freeze(values) });
}

/** Adds `n` (default 1) to a number field; a missing field becomes `n`. */
export function increment(n = 1): MutationHelper<'increment', number> {
  return helper('increment', [n]);
}

/** Removes the field (an array element is spliced out); removing a missing field does nothing. */
export function remove(): MutationHelper<'remove', never> {
  return helper('remove', []);
}

/**
 * Appends items to an array field; a missing field becomes an array of them. Written inside a
 * typed record, `Item` is the array's element type (taken from the record, never from the
 * items), so each item is checked against it.
 */
export function append<Item = unknown>(...items: NoInfer<Item>[]): MutationHelper<'append', Item> {
  return helper('append', items);
}

/**
 * The record form of `mutate`: each key is a path, each value the new value or a helper. For a
 * document type `T` with known fields, the keys are its fields and their dot paths (array
 * elements as `items.0`, a `.` in a key as `\.`), each value checked down to four levels: a
 * value of the field's type, `increment(n)` on a `number` field, `append(...)` on an array
 * field, `remove()` on an optional field or an array element. Deeper paths, and paths below an
 * index signature or an `unknown` field, are any string with any value; so is every key for
 * the default `Record<string, unknown>` (or any `T` with a string index signature). The relay
 * checks every value at runtime.
 */
export type MutationRecord<T = Record<string, unknown>> = string extends keyof T ? Record<string, unknown> : TypedMutationRecord<T>;

/** How deep paths are typed (`a.b.c.d`); deeper ones are unchecked, which keeps type checks fast. */
type PathDepth = 4;

/** The typed record of a document type with known fields: one optional key per path. */
type TypedMutationRecord<T> = { [E in PathEntry<T, '', PathDepth> as E[0]]?: E[1] };

/** One level less, for the depth limit. */
type Shallower = [never, 0, 1, 2, 3];

/**
 * The `[path, value]` pairs of object type `T` whose paths start with `Prefix`, checked `D`
 * levels deep (distributes over a union of object types).
 */
type PathEntry<T, Prefix extends string, D extends number> = T extends object
  ? string extends keyof T
    ? [`${Prefix}${string}`, unknown] // an index signature: any key below, unchecked
    : { [K in keyof T & string]: FieldEntry<T[K], `${Prefix}${PathKey<K>}`, D, false> }[keyof T & string]
  : never;

/** A field at `Path`: its own pair, then the pairs below it (an object's fields, an array's elements). */
type FieldEntry<V, Path extends string, D extends number, Element extends boolean> = unknown extends V
  ? [Path, unknown] | [`${Path}.${string}`, unknown]
  : [Path, FieldValue<V, Element>] | Below<Exclude<V, undefined | null>, Path, Shallower[D]>;

/**
 * The pairs below a field of type `V` (a union of types is taken member by member); past the
 * depth limit, any path below an object or array, unchecked.
 */
type Below<V, Path extends string, D extends number> = V extends object
  ? V extends (...args: never[]) => unknown
    ? never
    : D extends 0
      ? [`${Path}.${string}`, unknown]
      : V extends readonly (infer E)[]
        ? E extends readonly unknown[]
          ? [`${Path}.${number}`, FieldValue<E, true>] // nested arrays stop at the element: `m.0.1` also matches `m.${number}`
          : FieldEntry<E, `${Path}.${number}`, D, true>
        : PathEntry<V, `${Path}.`, D>
  : never;

/**
 * What a record may give a field of type `V`: a value of its type (not `undefined`, which is not
 * JSON), `increment(n)` when it holds any number, `append(...)` when it is an array (not a
 * tuple), `remove()` when it is optional, or when it is an array element (`Element`, spliced out).
 */
type FieldValue<V, Element extends boolean> =
  | Exclude<V, undefined>
  | (number extends V ? MutationHelper<'increment', number> : never)
  | AppendTo<Exclude<V, undefined | null>>
  | (Element extends true ? MutationHelper<'remove', never> : undefined extends V ? MutationHelper<'remove', never> : never);

type AppendTo<A> = A extends readonly (infer E)[] ? (number extends A['length'] ? MutationHelper<'append', E> : never) : never;

/**
 * A key as a path segment: `.` escaped as `\.`; keys a path cannot name (a backslash, both kinds
 * of quote, leading whitespace: see `isPathAddressable`) are left out (use `merge` or `replace`).
 */
type PathKey<K extends string> = K extends `${string}\\${string}` | `${' ' | '\t' | '\n' | '\r'}${string}`
  ? never
  : K extends `${string}'${string}`
    ? K extends `${string}"${string}`
      ? never
      : EscapeDots<K>
    : EscapeDots<K>;

type EscapeDots<K extends string> = K extends `${infer A}.${infer B}` ? `${A}\\.${EscapeDots<B>}` : K;

function isHelper(value: unknown): value is MutationHelper {
  return typeof value === 'object' && value !== null && (value as Partial<MutationHelper>)[HELPER] === true;
}

const OPS = new Set(['set', 'remove', 'increment', 'append']);

/** Checks one wire/array-form operation and returns it normalized. */
export function checkMutationOp(raw: unknown, maxDepth: number, where: string): MutationOp {
  if (!isPlainObject(raw as JsonValue)) throw invalid(`${where} must be an object { op, path, value? }, got ${describe(raw)}`);
  const { op, path, value } = raw as { op?: unknown; path?: unknown; value?: unknown };
  if (!OPS.has(op as string)) throw invalid(`${where}.op must be one of set, remove, increment, append`);
  if (typeof path !== 'string' || path === '') throw invalid(`${where}.path must be a non-empty string`);
  const segments = parsePath(path);
  if (segments.includes('__proto__')) throw invalid(`${where}.path ${JSON.stringify(path)} names "__proto__", which is refused`);
  const odd = segments.find((k) => !isPathAddressable(k));
  if (odd !== undefined) {
    throw invalid(`${where}.path names the key ${JSON.stringify(odd)}; paths cannot hold keys with a backslash, both kinds of quote or leading whitespace (use merge or replace)`);
  }
  if (segments.length > maxDepth) throw invalid(`${where}.path ${JSON.stringify(path)} nests deeper than ${maxDepth} levels`);
  switch (op) {
    case 'remove':
      return { op, path };
    case 'increment': {
      const n = value === undefined ? 1 : value;
      if (typeof n !== 'number' || !(Math.abs(n) <= Number.MAX_SAFE_INTEGER)) {
        throw invalid(`${where}.value of increment must be a number within +/-(2^53 - 1)`);
      }
      return { op, path, value: n };
    }
    default:
      if (value === undefined) throw invalid(`${where}.value is required for ${op}`);
      // A set value sits at the path's depth; an appended item one level deeper, in the array.
      assertJsonValue(value, maxDepth, `${where}.value`, segments.length + (op === 'append' ? 2 : 1));
      return { op: op as 'set' | 'append', path, value };
  }
}

/** Turns either public form into a checked list of operations. Throws `invalid` on bad input. */
export function normalizeMutations(mutations: unknown, maxDepth = 32): MutationOp[] {
  const list = Array.isArray(mutations);
  // Not an array: only a `{}` record will do (not null, a primitive, a class instance or a null-prototype object).
  if (!list && Object.getPrototypeOf(mutations ?? 0) !== Object.prototype) {
    throw invalid(`mutations must be a record { path: value } or an array of { op, path, value }, got ${describe(mutations)}`);
  }
  const paths = Object.keys(mutations as object);
  if ((list ? (mutations as unknown[]) : paths).length === 0) throw invalid('mutations must not be empty');
  if (list) return (mutations as unknown[]).map((m, i) => checkMutationOp(m, maxDepth, `mutations[${i}]`));
  return paths.flatMap((path) => {
    const value = (mutations as MutationRecord)[path];
    // A plain value sets; a helper is one operation, except append: one per item.
    const [op, values] = isHelper(value) ? [value.op, value.op === 'append' ? value.values : [value.values[0]]] : ['set', [value]];
    return values.map((v) => checkMutationOp({ op, path, value: v }, maxDepth, `mutations[${JSON.stringify(path)}]`));
  });
}

/** Applies operations in order and returns the new data; throws `invalid` (and changes nothing) if one cannot apply. */
export function applyMutations(data: JsonObject, ops: readonly MutationOp[]): JsonObject {
  const tree = new TreeEditor(data);
  for (const m of ops) applyOne(tree, m);
  return tree.root;
}

function applyOne(tree: TreeEditor, m: MutationOp): void {
  const segments = parsePath(m.path);
  switch (m.op) {
    case 'set':
      tree.set(segments, m.value);
      return;
    case 'remove':
      tree.remove(segments);
      return;
    case 'increment': {
      const current = tree.get(segments);
      if (current !== undefined && typeof current !== 'number') {
        throw invalid(`cannot increment ${m.path}: it is ${describe(current)}, not a number`);
      }
      const next = (current ?? 0) + m.value;
      // Both stores keep increments within the integers a double holds exactly (RedisJSON
      // would otherwise wrap at 2^63).
      if (!(Math.abs(next) <= Number.MAX_SAFE_INTEGER)) {
        throw invalid(`cannot increment ${m.path}: the result would leave +/-(2^53 - 1)`);
      }
      tree.set(segments, next);
      return;
    }
    case 'append': {
      const current = tree.get(segments);
      if (current === undefined) {
        tree.set(segments, [m.value]);
      } else if (!Array.isArray(current)) {
        throw invalid(`cannot append to ${m.path}: it is ${describe(current)}, not an array`);
      } else {
        (tree.writableAt(segments) as JsonValue[]).push(m.value);
      }
    }
  }
}
