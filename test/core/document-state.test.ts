/**
 * A cached document's reducer on its own: every action from the states it can meet, including
 * a change of incarnation, storage's unconfirmed state and a drop.
 */
import { describe, expect, it } from 'vitest';
import { type EntryState, INITIAL, reduce } from '../../src/core/document-state.js';
import { SyncError } from '../../src/protocol/index.js';

const notFound = new SyncError('not_found', 'document s/a not found');
const ready = (revision: number, data: Record<string, unknown>, incarnation = 'i1'): EntryState =>
  reduce(INITIAL, { type: 'snapshot', snapshot: { revision, data, deleted: false, incarnation } });

describe('document state', () => {
  it('starts loading, with nothing confirmed', () => {
    expect(INITIAL).toEqual({ status: 'loading' });
  });

  it('load: back to loading when nothing is confirmed; a confirmed state stays', () => {
    const failed = reduce(INITIAL, { type: 'fail', status: 'not-found', error: notFound });
    expect(reduce(failed, { type: 'load' })).toEqual({ status: 'loading' });
    const r = ready(1, { a: 1 });
    expect(reduce(r, { type: 'load' })).toBe(r);
  });

  it('fail: not-found or error with its error, unless something is confirmed already', () => {
    expect(reduce(INITIAL, { type: 'fail', status: 'not-found', error: notFound })).toEqual({ status: 'not-found', error: notFound });
    const r = ready(1, { a: 1 });
    expect(reduce(r, { type: 'fail', status: 'error', error: notFound })).toBe(r);
  });

  it('snapshot: applied when newer; an older or equal revision of the same incarnation changes nothing', () => {
    const r = ready(3, { a: 1 });
    expect(r.confirmed).toEqual({ revision: 3, data: { a: 1 }, deleted: false, incarnation: 'i1' });
    expect(reduce(r, { type: 'snapshot', snapshot: { revision: 2, data: { a: 0 }, deleted: false, incarnation: 'i1' } })).toBe(r);
    expect(reduce(r, { type: 'snapshot', snapshot: { revision: 3, data: { a: 9 }, deleted: false, incarnation: 'i1' } })).toBe(r);
    const next = reduce(r, { type: 'snapshot', snapshot: { revision: 4, data: { a: 1, b: { c: 2 } }, deleted: false, incarnation: 'i1' } });
    expect(next.confirmed).toMatchObject({ revision: 4, data: { a: 1, b: { c: 2 } } });
  });

  it('snapshot: keeps unchanged subtrees of the same incarnation (structural sharing)', () => {
    const r = ready(1, { keep: { deep: [1, 2] }, x: 1 });
    const next = reduce(r, { type: 'snapshot', snapshot: { revision: 2, data: { keep: { deep: [1, 2] }, x: 2 }, deleted: false, incarnation: 'i1' } });
    expect(next.confirmed!.data.keep).toBe(r.confirmed!.data.keep);
  });

  it('snapshot of another incarnation replaces the state, even at a lower revision', () => {
    const r = ready(7, { old: true });
    const next = reduce(r, { type: 'snapshot', snapshot: { revision: 1, data: { fresh: true }, deleted: false, incarnation: 'i2' } });
    expect(next.confirmed).toEqual({ revision: 1, data: { fresh: true }, deleted: false, incarnation: 'i2' });
  });

  it("storage's state shows until the relay answers, which replaces it even at the same revision; storage never replaces the relay's", () => {
    const stored = reduce(INITIAL, { type: 'snapshot', snapshot: { revision: 5, data: { saved: 1 }, deleted: false, incarnation: 'i1', unconfirmed: true } });
    expect(stored).toMatchObject({ unconfirmed: true, confirmed: { revision: 5, data: { saved: 1 } } });
    const confirmed = reduce(stored, { type: 'snapshot', snapshot: { revision: 5, data: { saved: 1 }, deleted: false, incarnation: 'i1' } });
    expect(confirmed.unconfirmed).toBeUndefined();
    expect(confirmed.confirmed).toMatchObject({ revision: 5 });
    expect(reduce(confirmed, { type: 'snapshot', snapshot: { revision: 9, data: {}, deleted: false, incarnation: 'i1', unconfirmed: true } })).toBe(confirmed);
  });

  it("storage's state stands in only for the start: never after the relay said anything (another incarnation, none, a drop)", () => {
    const saved = { revision: 3, data: { old: true }, deleted: false, incarnation: 'i0', unconfirmed: true };
    const fresh = ready(1, { fresh: true }, 'i1');
    expect(reduce(fresh, { type: 'snapshot', snapshot: saved })).toBe(fresh);
    const missing = reduce(INITIAL, { type: 'fail', status: 'not-found', error: notFound });
    expect(reduce(missing, { type: 'snapshot', snapshot: saved })).toBe(missing);
    const dropped = reduce(fresh, { type: 'drop', status: 'loading' });
    expect(reduce(dropped, { type: 'snapshot', snapshot: saved })).toBe(dropped);
  });

  it("a relay behind what is shown (its data went back) replaces it when it says so; an older answer that does not stays ignored", () => {
    const r = ready(5, { n: 5 });
    expect(reduce(r, { type: 'snapshot', snapshot: { revision: 2, data: { n: 2 }, deleted: false, incarnation: 'i1' } })).toBe(r);
    const back = reduce(r, { type: 'snapshot', snapshot: { revision: 2, data: { n: 2 }, deleted: false, incarnation: 'i1', behind: true } });
    expect(back.confirmed).toEqual({ revision: 2, data: { n: 2 }, deleted: false, incarnation: 'i1' });
  });

  it('change: applies the next revision only (diff or whole data), and a delete', () => {
    const r = ready(1, { a: 1, b: { c: 1 } });
    expect(reduce(r, { type: 'change', change: { revision: 3, operation: 'merge' }, body: { diff: { added: {}, removed: {}, changed: { a: { from: 1, to: 2 } } } } })).toBe(r);
    const two = reduce(r, { type: 'change', change: { revision: 2, operation: 'merge' }, body: { diff: { added: {}, removed: {}, changed: { a: { from: 1, to: 2 } } } } });
    expect(two.confirmed).toMatchObject({ revision: 2, data: { a: 2, b: { c: 1 } }, incarnation: 'i1' });
    expect(two.confirmed!.data.b).toBe(r.confirmed!.data.b);
    expect(Object.isFrozen(two.confirmed!.data)).toBe(true);
    const three = reduce(two, { type: 'change', change: { revision: 3, operation: 'replace' }, body: { data: { z: 1 } } });
    expect(three.confirmed!.data).toEqual({ z: 1 });
    const gone = reduce(three, { type: 'change', change: { revision: 4, operation: 'delete' }, body: {} });
    expect(gone.confirmed).toMatchObject({ revision: 4, deleted: true });
  });

  it('change: nothing to apply it to without a confirmed state', () => {
    expect(reduce(INITIAL, { type: 'change', change: { revision: 1, operation: 'create' }, body: { data: {} } })).toBe(INITIAL);
  });

  it('change: a diff that does not fit throws, so the entry fetches the truth', () => {
    const r = ready(1, { a: 1 });
    expect(() => reduce(r, { type: 'change', change: { revision: 2, operation: 'merge' }, body: { diff: { added: {}, removed: {}, changed: { 'a.b.c': { from: 1, to: 2 } } } } })).toThrow();
  });

  it('drop: forgets the confirmed state, to not-found, error or loading', () => {
    const r = ready(4, { a: 1 });
    expect(reduce(r, { type: 'drop', status: 'not-found', error: notFound })).toEqual({ status: 'not-found', error: notFound });
    expect(reduce(r, { type: 'drop', status: 'loading' })).toEqual({ status: 'loading', error: undefined });
  });
});
