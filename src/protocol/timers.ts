/** Timers both ends need: setTimeout fires at once when asked to wait past its limit. */

/** setTimeout's longest delay (2^31 - 1 ms, about 24.8 days); a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `fire` at `at` (ms since the epoch), however far off: a far one waits in steps of at
 * most {@link MAX_TIMER_MS}. `set` receives each step's timer, so the owner can clear the
 * current one.
 */
export function timerAt(at: number, fire: () => void, set: (timer: ReturnType<typeof setTimeout>) => void): void {
  const left = at - Date.now();
  set(left > MAX_TIMER_MS ? setTimeout(() => timerAt(at, fire, set), MAX_TIMER_MS) : setTimeout(fire, Math.max(0, left)));
}
