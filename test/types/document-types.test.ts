/**
 * Issue 12, point 9: a document type may be any object type, an `interface` as well as a type
 * alias, everywhere one goes (the sync client's methods, the hook, documents, events). Checked
 * by `tsc` (npm test typechecks test/); `@ts-expect-error` lines must fail to compile.
 */
import { describe, expectTypeOf, it } from 'vitest';
import type { DocumentData, MergePatch, RealtimeClient, SyncClient, SyncDocument, SyncEvent } from '../../src/index.js';
import type { DocumentActions, SyncDocumentState, useSyncDocument, useSyncEvents } from '../../src/react.js';

/** An interface: no index signature, which `Record<string, unknown>` would need. */
interface Session {
  status: 'active' | 'ended';
  participantCount: number;
  notes?: string;
  settings?: { theme: 'light' | 'dark' };
}

declare const sync: SyncClient;
declare const session: Session;
declare const useDoc: typeof useSyncDocument;
declare const useEvents: typeof useSyncEvents;

describe('document types', () => {
  it('accept an interface in every method of the sync client', () => {
    expectTypeOf<typeof sync.get<Session>>().returns.resolves.toEqualTypeOf<SyncDocument<Session>>();
    expectTypeOf<typeof sync.create<Session>>().parameter(1).toEqualTypeOf<Session>();
    expectTypeOf<typeof sync.create<Session>>().returns.resolves.toEqualTypeOf<SyncDocument<Session>>();
    expectTypeOf<typeof sync.replace<Session>>().parameter(2).toEqualTypeOf<Session>();
    expectTypeOf<typeof sync.replace<Session>>().returns.resolves.toEqualTypeOf<SyncDocument<Session>>();
    expectTypeOf<typeof sync.merge<Session>>().returns.resolves.toEqualTypeOf<SyncDocument<Session>>();
    expectTypeOf<typeof sync.mutate<Session>>().returns.resolves.toEqualTypeOf<SyncDocument<Session>>();
    expectTypeOf<RealtimeClient['sync']>().toEqualTypeOf<SyncClient>(); // realtime.sync: the same methods
    // Inferred from the data, as before.
    const _created = () => sync.create('session', session);
    expectTypeOf(_created).returns.resolves.toEqualTypeOf<SyncDocument<Session>>();
    const _literal = () => sync.create('session', { title: 'x', tags: ['a'] });
    expectTypeOf(_literal).returns.resolves.toHaveProperty('data').toEqualTypeOf<{ title: string; tags: string[] }>();
  });

  it('accept an interface in the hook, its state, its actions, documents and events', () => {
    const _doc = () => useDoc<Session>('session', 'id');
    expectTypeOf(_doc).returns.toEqualTypeOf<SyncDocumentState<Session>>();
    expectTypeOf<SyncDocumentState<Session>['replace']>().parameter(0).toEqualTypeOf<Session>();
    expectTypeOf<DocumentActions<Session>['merge']>().parameter(0).toEqualTypeOf<MergePatch<Session>>();
    expectTypeOf<SyncDocument<Session>['data']>().toEqualTypeOf<Session>();
    expectTypeOf<SyncEvent<Session>['payload']['data']>().toEqualTypeOf<Session | undefined>();
    const _events = () => useEvents<Session>('sync.session.*', (e) => expectTypeOf(e).toEqualTypeOf<SyncEvent<Session>>());
    void _events;
  });

  it('default to any JSON object when no type is given', () => {
    const _got = () => sync.get('session', 'id');
    expectTypeOf(_got).returns.resolves.toEqualTypeOf<SyncDocument<DocumentData>>();
    expectTypeOf<DocumentData>().toEqualTypeOf<Record<string, unknown>>();
    const _doc = () => useDoc('session', 'id');
    expectTypeOf(_doc).returns.toEqualTypeOf<SyncDocumentState<DocumentData>>();
    // merge and mutate never infer the document type from a patch or a record: it is the whole document's.
    const _merged = () => sync.merge('session', 'id', { notes: 'x' });
    expectTypeOf(_merged).returns.resolves.toEqualTypeOf<SyncDocument<DocumentData>>();
    const _mutated = () => sync.mutate('session', 'id', { notes: 'x' });
    expectTypeOf(_mutated).returns.resolves.toEqualTypeOf<SyncDocument<DocumentData>>();
  });

  it('refuse what cannot be a document', () => {
    // @ts-expect-error: a document is an object, not a string
    const _get = () => sync.get<string>('session', 'id');
    // @ts-expect-error: nor a number
    const _create = () => sync.create('session', 42);
    // @ts-expect-error: the hook's type too
    const _hook = () => useDoc<number>('session', 'id');
    // @ts-expect-error: create data of the wrong type
    const _bad = () => sync.create<Session>('session', { status: 'paused', participantCount: 0 });
    // @ts-expect-error: replace data missing a required field
    const _partial = () => sync.replace<Session>('session', 'id', { status: 'ended' });
    void [_get, _create, _hook, _bad, _partial];
  });
});
