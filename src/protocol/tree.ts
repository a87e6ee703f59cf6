/**
 * Copy-on-write edits of a JSON tree: only the containers on an edited path are copied, so
 * untouched subtrees keep their identity (cheap for React's reference checks) and the input is
 * never mutated, which makes multi-step edits all-or-nothing for free.
 */
import { invalid } from './errors.js';
import { type JsonObject, type JsonValue, getOwn, isPlainObject, setOwn, describe } from './json.js';
import { arrayIndex, formatPath } from './paths.js';

type Container = JsonObject | JsonValue[];

function isContainer(v: JsonValue | undefined): v is Container {
  return Array.isArray(v) || isPlainObject(v);
}

function readChild(container: Container, key: string): JsonValue | undefined {
  if (Array.isArray(container)) {
    const i = arrayIndex(key);
    return i === undefined ? undefined : container[i];
  }
  return getOwn(container, key);
}

/** A tree under edit; `root` is the current (possibly new) root. */
export class TreeEditor {
  readonly #fresh = new WeakSet<object>();
  /** The containers this edit created, and the values it put in, for {@link TreeEditor.freeze}. */
  readonly #created: object[] = [];
  readonly #inserted: JsonValue[] = [];
  root: JsonObject;

  constructor(root: JsonObject) {
    this.root = root;
  }

  #own<T extends Container>(c: T): T {
    if (this.#fresh.has(c)) return c;
    // Spread defines own properties (no `__proto__` setter), unlike Object.assign.
    // Spread, not slice(): slice() of a frozen array is slow on V8 (about 100x for 500 items).
    const copy = (Array.isArray(c) ? [...c] : { ...c }) as T;
    this.#fresh.add(copy);
    this.#created.push(copy);
    return copy;
  }

  /**
   * The writable container that holds the last key of `segments`. With `create`, missing objects
   * along the way are created; without it, a missing step answers `undefined`.
   */
  #parentOf(segments: readonly string[], create: boolean): Container | undefined {
    this.root = this.#own(this.root);
    let current: Container = this.root;
    for (let i = 0; i < segments.length - 1; i++) {
      const key = segments[i]!;
      let child = readChild(current, key);
      if (isContainer(child)) child = this.#own(child);
      else if (!create) return undefined;
      else if (child !== undefined) throw invalid(`cannot reach ${formatPath(segments)}: ${formatPath(segments.slice(0, i + 1))} is ${describe(child)}`);
      else if (Array.isArray(current)) throw invalid(`${formatPath(segments.slice(0, i + 1))} is not an element of the array`);
      else child = this.#own({});
      // `key` is in the container (or it is an object): writeChild cannot refuse it here.
      writeChild(current, key, child, segments);
      current = child;
    }
    return current;
  }

  /**
   * Freezes what this edit made: the copied containers and the values put in. Untouched
   * subtrees are shared with the input, so an input frozen all the way down gives a result
   * frozen all the way down, for the price of the changed paths only.
   */
  freeze(): void {
    for (const c of this.#created) Object.freeze(c);
    for (const v of this.#inserted) freezeDeep(v);
  }

  /** The value at `segments`, or `undefined`. */
  get(segments: readonly string[]): JsonValue | undefined {
    let current: JsonValue | undefined = this.root;
    for (const key of segments) {
      if (!isContainer(current)) return undefined;
      current = readChild(current, key);
    }
    return current;
  }

  /** Sets the value at `segments`, creating missing parent objects; index `length` appends to an array. */
  set(segments: readonly string[], value: JsonValue): void {
    this.#inserted.push(value);
    const parent = this.#parentOf(segments, true)!;
    writeChild(parent, segments[segments.length - 1]!, value, segments);
  }

  /** Removes the value at `segments` (an array element is spliced out); a missing path is a no-op. */
  remove(segments: readonly string[]): void {
    const parent = this.#parentOf(segments, false);
    if (parent === undefined) return;
    const key = segments[segments.length - 1]!;
    if (Array.isArray(parent)) {
      const i = arrayIndex(key);
      if (i !== undefined && i < parent.length) parent.splice(i, 1);
    } else {
      delete parent[key];
    }
  }

  /** A writable copy of the container at `segments` (which must exist). */
  writableAt(segments: readonly string[]): Container {
    const parent = this.#parentOf(segments, true)!;
    const key = segments[segments.length - 1]!;
    const copy = this.#own(readChild(parent, key) as Container);
    writeChild(parent, key, copy, segments);
    return copy;
  }
}

function writeChild(container: Container, key: string, value: JsonValue, segments: readonly string[]): void {
  if (!Array.isArray(container)) {
    setOwn(container, key, value);
    return;
  }
  const i = arrayIndex(key);
  if (i === undefined || i > container.length) {
    throw invalid(`${formatPath(segments)}: "${key}" is not an index within the array (length ${container.length})`);
  }
  container[i] = value;
}

/** Freezes a value and everything in it, stopping at what is already frozen. */
export function freezeDeep<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const child of Object.values(value)) freezeDeep(child);
  return value;
}
