/** A minimal typed event emitter; listeners that throw do not stop the others. */

/** Removes the listener it was returned for. */
export type Unsubscribe = () => void;

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
    for (const listener of [...set]) {
      try {
        (listener as (payload: Events[K]) => void)(payload);
      } catch (err) {
        // A broken listener must not break delivery to the others; surface it asynchronously.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  has(name: keyof Events): boolean {
    return this.#listeners.has(name);
  }
}
