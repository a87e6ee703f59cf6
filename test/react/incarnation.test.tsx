// @vitest-environment jsdom
/**
 * What users see when the relay loses a document: `useSyncDocument` under two providers (two
 * real clients), a memory relay restarted empty on the same port while both are offline with
 * writes waiting, and a third client creating the document again. Both pages end on the new
 * document; the writes made on the old one roll back with the error saying so, reach `onError`,
 * and the devtools panel shows a `dropped` line; none of them lands.
 */
import { act, cleanup, configure, render, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { type RealtimeClient, SyncError, increment } from '../../src/index.js';
import { RealtimeProvider, type WriteFailure } from '../../src/react.js';
import { SyncDevtools } from '../../src/devtools.js';
import { documentCache } from '../../src/core/document-cache.js';
import { connect, opened, startRelay } from '../helpers/relay.js';
import { outcome } from '../helpers/reader.js';
import { DocView, type Handle, handle, uid, view } from './render-helpers.js';

configure({ asyncUtilTimeout: 10_000 });
afterEach(cleanup);

const SERVICE = 'board';
type Board = { title: string; votes?: number; by?: string; tags?: string[] };

/** One page: a provider for `client` with the document and its devtools panel. */
function Page({ client, id, name, h, failures }: { client: RealtimeClient; id: string; name: string; h: Handle<Board>; failures: WriteFailure[] }) {
  return (
    <RealtimeProvider client={client}>
      <DocView<Board> service={SERVICE} id={id} testId={name} handle={h} options={{ onError: (f) => failures.push(f) }} />
      <div data-testid={`${name}-devtools`}>
        <SyncDevtools service={SERVICE} id={id} lines={20} />
      </div>
    </RealtimeProvider>
  );
}

const recreated = (id: string) => `${SERVICE}/${id} was created again after the relay lost it: this write, made on the document before, was not applied`;

describe('useSyncDocument when the relay lost the document and someone created it again', () => {
  it("both pages converge on the new document; their offline writes roll back, reach onError, and none lands", async () => {
    const relay = await startRelay('memory');
    const id = uid();
    const seed = await opened(connect(relay));
    const old = await seed.sync.create<Board>(SERVICE, { title: 'old', votes: 0 }, id);
    await seed.sync.mutate(SERVICE, id, { votes: increment(1) });
    await seed.sync.mutate(SERVICE, id, { votes: increment(1) }); // revision 3
    await seed.close();

    const a = await opened(connect(relay));
    const b = await opened(connect(relay));
    const [ha, hb] = [handle<Board>(), handle<Board>()];
    const failures = { a: [] as WriteFailure[], b: [] as WriteFailure[] };
    render(
      <>
        <Page client={a} id={id} name="a" h={ha} failures={failures.a} />
        <Page client={b} id={id} name="b" h={hb} failures={failures.b} />
      </>,
    );
    await waitFor(() => expect([view('a'), view('b')]).toMatchObject([{ status: 'ready', revision: 3 }, { status: 'ready', revision: 3 }]));

    // Both go offline and write: the writes wait, shown at once.
    act(() => {
      a.disconnect();
      b.disconnect();
    });
    const writes: Record<'a' | 'b', Array<Promise<unknown>>> = { a: [], b: [] };
    act(() => {
      writes.a.push(ha.current!.mutate({ votes: increment(10) }), ha.current!.merge({ by: 'a' }));
      writes.b.push(hb.current!.update((d) => void (d.votes = (d.votes ?? 0) + 100)), hb.current!.replace({ title: 'b took over' }));
    });
    expect(view('a')).toMatchObject({ status: 'ready', revision: 3, pending: 2, data: { title: 'old', votes: 12, by: 'a' } });
    expect(view('b')).toMatchObject({ status: 'ready', revision: 3, pending: 2, data: { title: 'b took over' } });

    // The relay restarts with nothing; C creates the document again, with other data.
    const port = relay.port;
    await relay.close();
    const again = await startRelay('memory', { port });
    const c = await opened(connect(again));
    const fresh = await c.sync.create<Board>(SERVICE, { title: 'new', tags: ['c'] }, id);
    expect(fresh.incarnation).not.toBe(old.incarnation);

    act(() => {
      a.connect();
      b.connect();
    });
    await waitFor(() =>
      expect([view('a'), view('b')]).toEqual([
        { status: 'ready', revision: 1, pending: 0, data: { title: 'new', tags: ['c'] }, error: null },
        { status: 'ready', revision: 1, pending: 0, data: { title: 'new', tags: ['c'] }, error: null },
      ]),
    );

    // Every write made on the old document rolled back with conflict, saying why, and onError heard each once.
    for (const name of ['a', 'b'] as const) {
      const settled = await Promise.all(writes[name].map(outcome));
      for (const s of settled) {
        expect(s.ok, name).toBe(false);
        const error = (s as { error: unknown }).error;
        expect(error).toBeInstanceOf(SyncError);
        expect(error, name).toMatchObject({ code: 'conflict', status: 409, message: expect.stringContaining('was created again') });
      }
      expect(failures[name].map((f) => f.error.code), name).toEqual(['conflict', 'conflict']);
      expect(failures[name].map((f) => f.write).sort(), name).toEqual(name === 'a' ? ['merge', 'mutate'] : ['replace', 'update']);
      expect(failures[name].some((f) => f.error.message === recreated(id)), name).toBe(true);
      // The devtools panel says the document was dropped.
      const lines = [...document.querySelectorAll(`[data-testid="${name}-devtools"] [data-testid="devtools-activity"] li`)].map((li) => li.textContent);
      expect(lines.filter((l) => l?.startsWith('dropped:')), name).toHaveLength(1);
      const { entry } = documentCache(name === 'a' ? a : b).document(SERVICE, id);
      expect(entry.activity.getSnapshot().filter((l) => l.kind === 'dropped'), name).toHaveLength(1);
    }

    // The relay holds C's document, untouched by the writes made on the old one.
    expect(await c.sync.get(SERVICE, id)).toEqual(fresh);
    await Promise.all([a.request({ type: 'ping' }), b.request({ type: 'ping' })]);
    expect(await c.sync.get(SERVICE, id)).toEqual(fresh);

    // The pages write on the new document now, and see each other's writes.
    let landed: unknown;
    await act(async () => {
      landed = await ha.current!.mutate({ votes: increment(1) });
    });
    expect(landed).toMatchObject({ revision: 2, incarnation: fresh.incarnation, data: { title: 'new', tags: ['c'], votes: 1 } });
    await waitFor(() => expect(view('b')).toMatchObject({ status: 'ready', revision: 2, data: { title: 'new', tags: ['c'], votes: 1 }, pending: 0 }));
    expect(await c.sync.get(SERVICE, id)).toMatchObject({ revision: 2, data: { title: 'new', tags: ['c'], votes: 1 }, incarnation: fresh.incarnation });
    expect([...failures.a, ...failures.b]).toHaveLength(4);
  });
});
