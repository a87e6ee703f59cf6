/**
 * Types flow from useSyncDocument<T> to data, the update recipe's draft and select, and the
 * state is a union on `status`: `data` and `revision` are defined once `status === 'ready'`.
 * These assertions are checked by `tsc` (npm test typechecks test/); the test body only makes
 * sure the file is part of the run, and `@ts-expect-error` lines must fail to compile.
 */
import { describe, expectTypeOf, it } from 'vitest';
import type { SyncDocument, SyncError } from '../../src/index.js';
import type { DocumentActions, DocumentSnapshot, DocumentStatus, SyncDocumentState, useSyncDocument } from '../../src/react.js';

interface Session {
  status: 'active' | 'ended';
  participantCount: number;
  notes?: string;
}

type Hook = typeof useSyncDocument;
declare const useSyncDocumentTyped: Hook;

type Plain = SyncDocumentState<Session>;
type InStatus<State, S extends DocumentStatus> = Extract<State, { status: S }>;

describe('types', () => {
  it('flow from T to data, the draft and select', () => {
    expectTypeOf<ReturnType<typeof useSyncDocument<Session>>>().toEqualTypeOf<Plain>();
    expectTypeOf<Plain['data']>().toEqualTypeOf<Session | undefined>();
    expectTypeOf<Plain['status']>().toEqualTypeOf<DocumentStatus>();
    expectTypeOf<Plain['error']>().toEqualTypeOf<SyncError | undefined>();
    expectTypeOf<Plain['revision']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<Plain['unconfirmed']>().toEqualTypeOf<boolean>();
    expectTypeOf<Parameters<Plain['update']>[0]>().parameter(0).toHaveProperty('participantCount').toEqualTypeOf<number>();
    expectTypeOf<ReturnType<Plain['update']>>().toEqualTypeOf<Promise<SyncDocument<Session>>>();
    expectTypeOf<Parameters<Plain['replace']>[0]>().toEqualTypeOf<Session>();
    expectTypeOf<ReturnType<Plain['delete']>>().toEqualTypeOf<Promise<void>>();

    type Selected = SyncDocumentState<Session, number>;
    expectTypeOf<Selected['data']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<Parameters<Hook>[2]>().toExtend<object | undefined>();
    // With an annotated select, both T and the selected type are inferred.
    const _infer = () => useSyncDocumentTyped('session', 'id', { select: (d: Session) => d.participantCount });
    expectTypeOf<ReturnType<typeof _infer>['data']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<Parameters<ReturnType<typeof _infer>['replace']>[0]>().toEqualTypeOf<Session>();
    // merge takes a typed merge patch: known fields, null to remove an optional one
    const merge = (null as unknown as Plain)?.merge;
    const _okMerge = () => merge({ participantCount: 2, notes: null });
    // @ts-expect-error: a field the document does not have
    const _badMerge = () => merge({ nope: 1 });
    // @ts-expect-error: the recipe's draft is typed, so unknown fields are refused
    const bad: Parameters<Plain['update']>[0] = (d) => void (d.nope = 1);
    void bad;
  });

  it('are a union on status: data and revision are defined when ready', () => {
    expectTypeOf<InStatus<Plain, 'ready'>['data']>().toEqualTypeOf<Session>();
    expectTypeOf<InStatus<Plain, 'ready'>['revision']>().toEqualTypeOf<number>();
    expectTypeOf<InStatus<Plain, 'loading'>['data']>().toEqualTypeOf<undefined>();
    expectTypeOf<InStatus<Plain, 'loading'>['revision']>().toEqualTypeOf<undefined>();
    expectTypeOf<InStatus<Plain, 'not-found'>['data']>().toEqualTypeOf<undefined>();
    expectTypeOf<InStatus<Plain, 'not-found'>['error']>().toEqualTypeOf<SyncError | undefined>();
    // A document deleted after it loaded keeps its last revision; one deleted while loading has none.
    expectTypeOf<InStatus<Plain, 'deleted'>['data']>().toEqualTypeOf<undefined>();
    expectTypeOf<InStatus<Plain, 'deleted'>['revision']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<InStatus<Plain, 'error'>['data']>().toEqualTypeOf<undefined>();
    expectTypeOf<InStatus<Plain, 'error'>['error']>().toEqualTypeOf<SyncError>();
    // With select, the ready data is the selected value.
    expectTypeOf<InStatus<SyncDocumentState<Session, number>, 'ready'>['data']>().toEqualTypeOf<number>();
    expectTypeOf<InStatus<SyncDocumentState<Session, number>, 'loading'>['data']>().toEqualTypeOf<undefined>();
    // The engine's snapshot is the same union, without the write methods.
    expectTypeOf<InStatus<DocumentSnapshot<Session>, 'ready'>['data']>().toEqualTypeOf<Session>();
    expectTypeOf<DocumentSnapshot<Session>['status']>().toEqualTypeOf<DocumentStatus>();
  });

  it('keep the write methods on every status', () => {
    expectTypeOf<InStatus<Plain, 'loading'>>().toExtend<DocumentActions<Session>>();
    expectTypeOf<InStatus<Plain, 'ready'>>().toExtend<DocumentActions<Session>>();
    expectTypeOf<InStatus<Plain, 'not-found'>>().toExtend<DocumentActions<Session>>();
    expectTypeOf<InStatus<Plain, 'deleted'>>().toExtend<DocumentActions<Session>>();
    expectTypeOf<InStatus<Plain, 'error'>>().toExtend<DocumentActions<Session>>();
    expectTypeOf<Plain>().toHaveProperty('pending').toEqualTypeOf<number>();
  });

  it('narrow as a component reads them, without `!`', () => {
    const _component = () => {
      const doc = useSyncDocumentTyped<Session>('session', 'id');
      // @ts-expect-error: before checking the status, data may be undefined
      void doc.data.participantCount;
      if (doc.status !== 'ready') return doc.status;
      expectTypeOf(doc.data).toEqualTypeOf<Session>();
      expectTypeOf(doc.revision).toEqualTypeOf<number>();
      // In a callback made after the check too (an onClick), as the README shows.
      return () => doc.replace({ ...doc.data, status: 'ended' }, doc.revision);
    };
    const _destructured = () => {
      const { status, data, revision } = useSyncDocumentTyped<Session, number>('session', 'id', { select: (d) => d.participantCount });
      if (status === 'ready') {
        expectTypeOf(data).toEqualTypeOf<number>();
        expectTypeOf(revision).toEqualTypeOf<number>();
      } else {
        expectTypeOf(data).toEqualTypeOf<undefined>();
      }
    };
    const _error = () => {
      const doc = useSyncDocumentTyped<Session>('session', 'id');
      if (doc.status === 'error') expectTypeOf(doc.error).toEqualTypeOf<SyncError>();
      // @ts-expect-error: outside 'error', there may be no error
      if (doc.status === 'not-found') void doc.error.code;
    };
    void [_component, _destructured, _error];
  });
});
