/**
 * Change records as the write script stores and publishes them: the covering paths of the write
 * with their values before and after (each `[value]`, or `[]` where absent). The diff is derived
 * here, in the relay, so the script never has to compare JSON in Lua.
 */
import {
  type ChangeRecord,
  type JsonObject,
  type JsonValue,
  type SyncDiff,
  type SyncOperation,
  computeDiff,
  diffInto,
  emptyDiff,
  mergePatch,
  parsePath,
} from '../../src/protocol/index.js';

/** A change record as stored in the log. */
export interface RawChange {
  revision: number;
  operation: SyncOperation;
  timestamp: number;
  mutationId?: string;
  /** Covering paths; `null` is the whole document. */
  paths: Array<string | null>;
  before: JsonValue[][];
  /** Values after the write; `null` for a merge, whose values follow from `patch`. */
  after: JsonValue[][] | null;
  /** A merge's patch. */
  patch?: JsonObject;
}

/** The diff a stored change stands for. */
export function diffOfChange(c: Pick<RawChange, 'operation' | 'paths' | 'before' | 'after' | 'patch'>): SyncDiff {
  const after = c.after ?? mergedAfter(c);
  if (c.operation === 'create') return computeDiff({}, (after[0]?.[0] ?? {}) as JsonObject);
  if (c.operation === 'delete') return computeDiff((c.before[0]?.[0] ?? {}) as JsonObject, {});
  const out = emptyDiff();
  c.paths.forEach((path, i) => diffInto(c.before[i]?.[0], after[i]?.[0], path, out));
  return out;
}

/**
 * A merge's values after the write, from its values before and its patch (RFC 7386, what
 * JSON.MERGE does): the script does not read them back. Paths are the patch's top-level keys,
 * or the whole document.
 */
function mergedAfter(c: Pick<RawChange, 'paths' | 'before' | 'patch'>): JsonValue[][] {
  const patch = c.patch ?? {};
  return c.paths.map((path, i) => {
    const before = c.before[i]?.[0];
    if (path === null) return [mergePatch(before, patch)];
    const part = patch[parsePath(path)[0]!];
    return part === null || part === undefined ? [] : [mergePatch(before, part)];
  });
}

/** A stored change as catch-up returns it. */
export function toChangeRecord(c: RawChange): ChangeRecord {
  const record: ChangeRecord = { revision: c.revision, operation: c.operation, timestamp: c.timestamp, diff: diffOfChange(c) };
  if (c.mutationId) record.mutationId = c.mutationId;
  return record;
}
