/**
 * Web Locks for the storage tests. Node 20 has no `navigator` (Node 21 added it, and
 * `navigator.locks` came later still), so where the real one is missing the tests use
 * {@link TestLocks}: an in-process LockManager with what `indexedDbStorage` relies on,
 * exclusive `request(name, [options], callback)` held until the callback's promise settles, and
 * `query()`. Every storage instance given the same manager stands for a tab of one origin.
 */

/** Exclusive locks, granted in request order, released when the callback's result settles. */
export class TestLocks implements LockManager {
  private readonly held = new Map<string, LockInfo>();
  private readonly waiting = new Map<string, Array<() => void>>();

  request<T>(name: string, callback: LockGrantedCallback<T>): Promise<T>;
  request<T>(name: string, options: LockOptions, callback: LockGrantedCallback<T>): Promise<T>;
  async request<T>(name: string, a: LockOptions | LockGrantedCallback<T>, b?: LockGrantedCallback<T>): Promise<T> {
    const options = typeof a === 'function' ? {} : a;
    const callback = typeof a === 'function' ? a : b;
    if (!callback) throw new TypeError('TestLocks.request: no callback');
    if ((options.mode ?? 'exclusive') !== 'exclusive' || options.ifAvailable || options.steal || options.signal) {
      throw new Error('TestLocks.request: only exclusive locks without options are implemented');
    }
    const info: LockInfo = { name, mode: 'exclusive', clientId: 'test' };
    if (this.held.has(name)) {
      // Granted by the holder's release, which hands the lock over (it stays in `held`), so a
      // request made meanwhile cannot slip in between.
      await new Promise<void>((granted) => {
        const queue = this.waiting.get(name) ?? [];
        queue.push(granted);
        this.waiting.set(name, queue);
      });
    } else {
      this.held.set(name, info);
    }
    try {
      return await callback({ name, mode: 'exclusive' } as Lock);
    } finally {
      const queue = this.waiting.get(name);
      const next = queue?.shift();
      if (queue?.length === 0) this.waiting.delete(name);
      if (next) next();
      else this.held.delete(name);
    }
  }

  query(): Promise<LockManagerSnapshot> {
    const pending = [...this.waiting].flatMap(([name, queue]) => queue.map((): LockInfo => ({ name, mode: 'exclusive', clientId: 'test' })));
    return Promise.resolve({ held: [...this.held.values()].map((l) => ({ ...l })), pending });
  }
}

/** The real `navigator.locks` when this Node has one, else a new {@link TestLocks}. */
export function webLocks(): LockManager {
  const real = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
  return real ?? new TestLocks();
}

/** Whether {@link webLocks} gives the real Web Locks. */
export const realWebLocks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks !== undefined;
