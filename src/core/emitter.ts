/** A minimal typed event emitter; listeners that throw do not stop the others. */

/** Removes the listener it was returned for. */
export type Unsubscribe = () => void;

/** Calls `listener`; if it throws, the error surfaces asynchronously, so the other listeners still run. */
export function callSafely<T>(listener: (payload: T) => void, payload: T): void {
  try {
    listener(payload);
  } catch (err) {
    queueMicrotask(() => {
      throw err;
    });
  }
}

/** Emits named events to listeners. */
export class Emitter<Events extends Record<string, unknown>> {
  readonly #listeners = new Map<keyof Events, Set<(payload: never) => void>>();

  on<K extends keyof Events>(name: K, listener: (payload: Events[K]) => void): Unsubscribe {
    let set = this.#listeners.get(name);
    if (!set) this.#listeners.set(name, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => {
      set.delete(listener as (payload: never) => void);
      // Calling off() twice must not remove a newer set registered under the same name.
      if (set.size === 0 && this.#listeners.get(name) === set) this.#listeners.delete(name);
    };
  }

  emit<K extends keyof Events>(name: K, payload: Events[K]): void {
    const set = this.#listeners.get(name);
    if (!set) return;
    for (const listener of [...set]) callSafely(listener as (payload: Events[K]) => void, payload);
  }
}
