/**
 * What each system's client side must offer the peer comparisons: writers that set one field of
 * one document and wait for the server's acknowledgement, and watchers that count the writes
 * they have seen. Every write sets the writer's own field to its next sequence number, so a
 * watcher counts writes as the rise of each field's value: exact even where a server merges
 * several writes into one message (Hocuspocus does, within an event-loop turn).
 */

/** One client connection that writes one field of one document. */
export interface Writer {
  /** The last value written and acknowledged (fields start at 0). */
  readonly seq: number;
  /** Sets the field to `seq + 1`; resolves when the server has acknowledged it. */
  write(): Promise<void>;
  close(): Promise<void>;
}

/** One client connection watching one document. */
export interface Watcher {
  /** Writes seen so far: the sum of the latest value of every field. */
  readonly total: number;
  close(): Promise<void>;
}

/** A system's clients. `url` is what its server child reported. */
export interface Kit {
  readonly name: string;
  /** Makes the documents exist with every field at 0 (where the system needs them to). */
  seed(url: string, docs: readonly string[], fields: readonly string[]): Promise<void>;
  /** A connected writer of `field` in `doc`, at the field's current value. */
  writer(url: string, doc: string, field: string): Promise<Writer>;
  /** A connected watcher of `doc` (it may not yet see events: prime it with a write). */
  watcher(url: string, doc: string): Promise<Watcher>;
}

/** The latest value of each field, and their sum. */
export class Tally {
  private readonly last = new Map<string, number>();
  total = 0;

  /** Takes a field's value; only numbers that went up count. */
  see(field: string, value: unknown): void {
    if (typeof value !== 'number') return;
    const prev = this.last.get(field) ?? 0;
    if (value > prev) {
      this.total += value - prev;
      this.last.set(field, value);
    }
  }

  /** Takes every numeric field of an object. */
  seeAll(data: Record<string, unknown> | undefined): void {
    if (data) for (const k in data) this.see(k, data[k]);
  }
}

/** Resolves when `ready()` is true, polling; rejects after `ms`. */
export async function until(ready: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
