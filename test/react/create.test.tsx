// @vitest-environment jsdom
/**
 * The `create` option belongs to the document, not to its first reader: against a real relay
 * (memory and Redis stores), a reader with `create` mounted after a reader (or the devtools
 * panel) without it still creates the missing document, and every reader ends `ready`.
 */
import { cleanup, configure, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RealtimeClient } from '../../src/index.js';
import { RealtimeProvider } from '../../src/react.js';
import { SyncDevtools } from '../../src/devtools.js';
import type { Relay } from '../../server/index.js';
import { STORES, connect, opened, startRelay } from '../helpers/relay.js';
import { DocView, uid, view } from './render-helpers.js';

configure({ asyncUtilTimeout: 5000 });
afterEach(cleanup);

const SERVICE = 'board';
type Board = { title: string };
const MADE: Board = { title: 'made' };

/** What the devtools panel shows for its document: status and confirmed revision. */
function panel(): { status: string | undefined; revision: string | null } {
  const text = screen.getByTestId('sync-devtools').textContent ?? '';
  return { status: /status (\S+?)confirmed/.exec(text)?.[1], revision: screen.getByTestId('devtools-revision').textContent };
}

describe.each(STORES)('the create option on the %s store', (store) => {
  let relay: Relay;
  let client: RealtimeClient;
  beforeAll(async () => {
    relay = await startRelay(store);
    client = await opened(connect(relay));
  });

  it('a reader without create, then a reader with create: the document is created and both are ready', async () => {
    const id = uid();
    const tree = (withCreator: boolean) => (
      <RealtimeProvider client={client}>
        <DocView<Board> service={SERVICE} id={id} testId="plain" />
        {withCreator && <DocView<Board> service={SERVICE} id={id} testId="creator" options={{ create: MADE }} />}
      </RealtimeProvider>
    );
    const { rerender } = render(tree(false));
    await waitFor(() => expect(view('plain')).toMatchObject({ status: 'not-found', error: 'not_found' }));
    rerender(tree(true));
    for (const testId of ['plain', 'creator']) {
      await waitFor(() => expect(view(testId)).toMatchObject({ status: 'ready', data: MADE, revision: 1, error: null }));
    }
    expect(await client.sync.get(SERVICE, id)).toMatchObject({ revision: 1, data: MADE });
  });

  it('the devtools panel mounted first does not leave the document not-found for a reader with create', async () => {
    const id = uid();
    const tree = (withCreator: boolean) => (
      <RealtimeProvider client={client}>
        <SyncDevtools service={SERVICE} id={id} />
        {withCreator && <DocView<Board> service={SERVICE} id={id} options={{ create: MADE }} />}
      </RealtimeProvider>
    );
    const { rerender } = render(tree(false));
    await waitFor(() => expect(panel().status).toBe('not-found'));
    rerender(tree(true));
    await waitFor(() => expect(view()).toMatchObject({ status: 'ready', data: MADE, revision: 1 }));
    await waitFor(() => expect(panel()).toEqual({ status: 'ready', revision: '1' }));
  });

  it('the devtools panel rendered before a reader with create, in one render: the reader never shows not-found', async () => {
    const id = uid();
    const renders = { count: 0, statuses: [] as string[] };
    render(
      <RealtimeProvider client={client}>
        <SyncDevtools service={SERVICE} id={id} />
        <DocView<Board> service={SERVICE} id={id} options={{ create: MADE }} renders={renders} />
      </RealtimeProvider>,
    );
    await waitFor(() => expect(view()).toMatchObject({ status: 'ready', data: MADE, revision: 1 }));
    await waitFor(() => expect(panel()).toEqual({ status: 'ready', revision: '1' }));
    expect([...new Set(renders.statuses)]).toEqual(['loading', 'ready']);
  });
});
