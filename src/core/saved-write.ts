/** A pending write as storage keeps it: the request it amounts to, so a later page can send it as it is. */
import type { JsonObject } from '../protocol/index.js';
import type { PendingMutation } from './pending-mutation.js';
import type { StoredWrite } from './storage.js';

/** The last `seq` given: writes keep their order even when made in the same millisecond. */
let lastSeq = 0;

/**
 * The saved form of `p`, built on `data` (the visible state) at `revision` of `incarnation`;
 * none when it changes nothing or cannot apply (the relay would refuse it).
 */
export function savedWrite(
  doc: { service: string; id: string },
  p: PendingMutation,
  data: JsonObject | undefined,
  revision: number,
  incarnation: string | undefined,
): StoredWrite | undefined {
  let request;
  try {
    request = data && p.build(data, revision, incarnation);
  } catch {
    return;
  }
  if (!request) return;
  const r = request as Partial<StoredWrite> & { type: StoredWrite['kind'] };
  const write: StoredWrite = { mutationId: p.mutationId, service: doc.service, id: doc.id, kind: r.type, data: r.data, ops: r.ops, incarnation, baseRevision: revision, seq: (lastSeq = Math.max(Date.now(), lastSeq + 1)) };
  // An update is saved as what it does; its recipe cannot be, so it is not re-run on a newer revision.
  if (p.kind !== 'update') write.expectedRevision = r.expectedRevision;
  return write;
}
