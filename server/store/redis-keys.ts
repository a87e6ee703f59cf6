/**
 * Key layout under one prefix. Each document's keys share the hash tag `{service/id}`, so they
 * live in one Redis Cluster slot and one Lua script may touch them all.
 */

/** The keys of one document. */
export interface DocumentKeys {
  /** The document's data: a RedisJSON value, the data object at its root. */
  data: string;
  /**
   * The head: a hash of `rev`, `deleted`, `createdAt`, `updatedAt` and `inc` (the incarnation,
   * set by the create; a head written before incarnations has none and reads as `c` + createdAt).
   */
  head: string;
  /** The change log, a list of change records, newest first. */
  log: string;
  /** The memo of one mutation id (pass `''` for "no mutation id"). */
  mutation(mutationId: string): string;
}

/** The keys of document `service/id` under `prefix`. */
export function documentKeys(prefix: string, service: string, id: string): DocumentKeys {
  // The key names carry the layout's version (`d2`: data at the root of its own key), so a
  // relay of another layout sharing this Redis sees none of these documents instead of
  // misreading them; the memo and channel names carry their own format versions.
  const base = `${prefix}d2{${service}/${id}}`;
  return { data: `${base}:data`, head: `${base}:head`, log: `${base}:log`, mutation: (mid) => `${base}:mid1:${mid}` };
}

/** The pub/sub channel every relay on this prefix publishes and listens to. */
export function eventChannel(prefix: string): string {
  return `${prefix}events:1`;
}
