import { describe, expect, it } from 'vitest';
import { SyncError, assertDocId, assertIncarnation, assertMutationId, generateDocId, generateIncarnation, generateMutationId } from '../../src/protocol/index.js';

/** Counts of each character at each position of `ids` (all of one length). */
function spread(ids: string[], from: number): Array<Map<string, number>> {
  const columns = Array.from({ length: ids[0]!.length - from }, () => new Map<string, number>());
  for (const id of ids) for (let i = from; i < id.length; i++) columns[i - from]!.set(id[i]!, (columns[i - from]!.get(id[i]!) ?? 0) + 1);
  return columns;
}

describe('generated ids', () => {
  // More ids than one pool of random bytes serves, so refills are crossed many times.
  const N = 20_000;

  it('mutation ids: m_ and 14 characters of 0-9a-v, all distinct, each valid', () => {
    const ids = Array.from({ length: N }, generateMutationId);
    for (const id of ids) expect(id).toMatch(/^m_[0-9a-v]{14}$/);
    expect(new Set(ids).size).toBe(N);
    expect(() => assertMutationId(ids[0])).not.toThrow();
  });

  it('document ids: doc_ and 20 characters of 0-9a-v, all distinct, each valid', () => {
    const ids = Array.from({ length: N }, generateDocId);
    for (const id of ids) expect(id).toMatch(/^doc_[0-9a-v]{20}$/);
    expect(new Set(ids).size).toBe(N);
    expect(() => assertDocId(ids[0])).not.toThrow();
  });

  it('incarnations: 12 characters of 0-9a-v, all distinct, each valid, never one of a document older than them', () => {
    const ids = Array.from({ length: N }, generateIncarnation);
    for (const id of ids) expect(id).toMatch(/^[0-9a-v]{12}$/);
    expect(new Set(ids).size).toBe(N);
    for (const id of [ids[0], 'c1733300000000', 'A-z_9', 'x'.repeat(64)]) expect(() => assertIncarnation(id)).not.toThrow();
    for (const bad of ['', 'a.b', 'a/b', ' a', 'x'.repeat(65), 1, null, undefined, {}, ['a']]) {
      expect(() => assertIncarnation(bad), JSON.stringify(bad)).toThrow(SyncError);
    }
  });

  it('every position uses all 32 characters about equally (no byte reused, no bias)', () => {
    const ids = Array.from({ length: N }, generateMutationId);
    for (const column of spread(ids, 2)) {
      expect(column.size).toBe(32);
      // N / 32 = 625 per character; a fair draw stays well within ±30% of it.
      for (const count of column.values()) expect(Math.abs(count - N / 32)).toBeLessThan((N / 32) * 0.3);
    }
  });
});
