/**
 * What both stores answer from a document and its change log. The answer to a write sent again
 * with a mutation id the store remembers: Stores remember only
 * the revision the write made; the first answer (the document at that revision) is rebuilt by
 * undoing, on the current document, the logged changes made since. When the log no longer
 * reaches back that far, the current document is the answer.
 */
import { type CatchUpResult, type ChangeRecord, type JsonObject, type SyncDocument, applyDiff, invertDiff } from '../../src/protocol/index.js';

/** The document as it was at `revision`, from the current one and the change log (any order). */
export function documentAt(current: SyncDocument, changes: readonly ChangeRecord[], revision: number): SyncDocument {
  if (revision >= current.revision) return current;
  const newer = changes.filter((c) => c.revision > revision).sort((a, b) => b.revision - a.revision);
  if (newer.length !== current.revision - revision || newer[0]?.revision !== current.revision) return current;
  let data = current.data;
  // A delete changes no data (it only flags the document), so there is nothing of it to undo.
  for (const c of newer) if (c.operation !== 'delete') data = applyDiff(data, invertDiff(c.diff));
  const at = changes.find((c) => c.revision === revision);
  return { ...current, revision, data, updatedAt: at?.timestamp ?? current.updatedAt };
}

/**
 * The answer to "what came after revision `since`", from the document's head: the missed
 * changes (oldest first, read only when needed) when the log still reaches `since + 1`, else the
 * snapshot. Another incarnation's revisions, or a revision this one never reached (the asker
 * holds a document the store lost): no change applies to what the asker has, only the snapshot.
 */
export function catchUpFrom(
  head: { revision: number; deleted: boolean; incarnation: string },
  since: number,
  asked: string | undefined,
  missed: () => ChangeRecord[],
  snapshot: () => JsonObject,
): CatchUpResult {
  const { revision, deleted, incarnation } = head;
  if ((asked === undefined || asked === incarnation) && since <= revision) {
    if (since === revision) return { revision, deleted, incarnation, changes: [] };
    const changes = missed();
    if (changes[0]?.revision === since + 1) return { revision, deleted, incarnation, changes };
  }
  return { revision, deleted, incarnation, snapshot: snapshot() };
}
