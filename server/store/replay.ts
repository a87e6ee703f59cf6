/**
 * The answer to a write sent again with a mutation id the store remembers. Stores remember only
 * the revision the write made; the first answer (the document at that revision) is rebuilt by
 * undoing, on the current document, the logged changes made since. When the log no longer
 * reaches back that far, the current document is the answer.
 */
import { type ChangeRecord, type SyncDocument, applyDiff, invertDiff } from '../../src/protocol/index.js';

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
