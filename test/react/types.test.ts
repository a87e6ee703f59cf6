/**
 * Types flow from useSyncDocument<T> to data, the update recipe's draft and select. These
 * assertions are checked by `tsc` (npm test typechecks test/); the test body only makes sure
 * the file is part of the run.
 */
import { describe, expectTypeOf, it } from 'vitest';
import type { SyncDocument, SyncError } from '../../src/index.js';
import type { DocumentStatus, SyncDocumentState, useSyncDocument } from '../../src/react.js';

interface Session {
  status: 'active' | 'ended';
  participantCount: number;
  notes?: string;
}

type Hook = typeof useSyncDocument;
declare const useSyncDocumentTyped: Hook;

describe('types', () => {
  it('flow from T to data, the draft and select', () => {
    type Plain = ReturnType<typeof useSyncDocument<Session>>;
    expectTypeOf<Plain['data']>().toEqualTypeOf<Session | undefined>();
    expectTypeOf<Plain['status']>().toEqualTypeOf<DocumentStatus>();
    expectTypeOf<Plain['error']>().toEqualTypeOf<SyncError | undefined>();
    expectTypeOf<Plain['revision']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<Parameters<Plain['update']>[0]>().parameter(0).toHaveProperty('participantCount').toEqualTypeOf<number>();
    expectTypeOf<ReturnType<Plain['update']>>().toEqualTypeOf<Promise<SyncDocument<Session>>>();
    expectTypeOf<Parameters<Plain['replace']>[0]>().toEqualTypeOf<Session>();
    expectTypeOf<ReturnType<Plain['delete']>>().toEqualTypeOf<Promise<void>>();

    type Selected = SyncDocumentState<Session, number>;
    expectTypeOf<Selected['data']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<Parameters<Hook>[2]>().toMatchTypeOf<object | undefined>();
    // With an annotated select, both T and the selected type are inferred.
    const _infer = () => useSyncDocumentTyped('session', 'id', { select: (d: Session) => d.participantCount });
    expectTypeOf<ReturnType<typeof _infer>['data']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<Parameters<ReturnType<typeof _infer>['replace']>[0]>().toEqualTypeOf<Session>();
    // merge takes a typed merge patch: known fields, null to remove
    const merge = (null as unknown as Plain)?.merge;
    const _okMerge = () => merge({ participantCount: 2, notes: null });
    // @ts-expect-error: a field the document does not have
    const _badMerge = () => merge({ nope: 1 });
    // @ts-expect-error: the recipe's draft is typed, so unknown fields are refused
    const bad: Parameters<Plain['update']>[0] = (d) => void (d.nope = 1);
    void bad;
  });
});
