/**
 * Issue 12, point 9: typed events. `SyncEvent<T>` types `payload.data`; `useSyncEvents<T>`,
 * `client.subscribe<T>` and `client.on('event', …)` pass `T` on to the handler (annotating the
 * handler's event is enough). Checked by `tsc`; `@ts-expect-error` lines must fail to compile.
 */
import { describe, expectTypeOf, it } from 'vitest';
import type { ConnectionStatus, RealtimeClient, RealtimeEventPayload, SyncDiff, SyncError, SyncEvent } from '../../src/index.js';
import type { useSyncEvents } from '../../src/react.js';

interface Order {
  status: 'open' | 'paid';
  total: number;
  note?: string;
}

declare const client: RealtimeClient;
declare const useEvents: typeof useSyncEvents;

describe('typed events', () => {
  it('type the payload data by T', () => {
    expectTypeOf<SyncEvent<Order>['payload']>().toEqualTypeOf<{ data?: Order; diff?: SyncDiff }>();
    // Untyped, it is any JSON object.
    expectTypeOf<SyncEvent['payload']['data']>().toEqualTypeOf<Record<string, unknown> | undefined>();
  });

  it('flow from useSyncEvents<T> to the handler', () => {
    const _explicit = () =>
      useEvents<Order>('sync.order.*', (event) => {
        expectTypeOf(event).toEqualTypeOf<SyncEvent<Order>>();
        expectTypeOf(event.payload.data?.total).toEqualTypeOf<number | undefined>();
      });
    // Inferred from an annotated handler.
    const _annotated = () => useEvents('sync.order.*', (event: SyncEvent<Order>) => event.payload.data?.status, { returnMode: 'both' });
    expectTypeOf<Parameters<typeof useEvents<Order>>[1]>().parameter(0).toEqualTypeOf<SyncEvent<Order>>();
    // Without a type, events carry any JSON object.
    const _untyped = () => useEvents('sync.order.*', (event) => expectTypeOf(event).toEqualTypeOf<SyncEvent>());
    // @ts-expect-error: a field Order does not have
    const _bad = () => useEvents<Order>('sync.order.*', (event) => event.payload.data?.nope);
    void [_explicit, _annotated, _untyped, _bad];
  });

  it('flow from client.subscribe<T> and client.on to the handler', () => {
    const _sub = () => client.subscribe<Order>({ topic: 'sync.order.*' }, (event) => expectTypeOf(event).toEqualTypeOf<SyncEvent<Order>>());
    const _subAnnotated = () => client.subscribe({ topic: 'sync.order.*' }, (event: SyncEvent<Order>) => event.payload.data?.total);
    const _subUntyped = () => client.subscribe({ topic: 'sync.order.*' }, (event) => expectTypeOf(event).toEqualTypeOf<SyncEvent>());
    const _on = () => client.on('event', (event) => expectTypeOf(event).toEqualTypeOf<SyncEvent>());
    const _onTopic = () => client.on('event:sync.order.updated', (event: SyncEvent<Order>) => event.payload.data?.total);
    const _onTyped = () => client.on<'event', Order>('event', (event) => expectTypeOf(event).toEqualTypeOf<SyncEvent<Order>>());
    const _status = () => client.on('status', (status) => expectTypeOf(status).toEqualTypeOf<ConnectionStatus>());
    const _error = () => client.on('error', (err) => expectTypeOf(err).toEqualTypeOf<SyncError>());
    expectTypeOf<RealtimeEventPayload<'event:sync.order.paid', Order>>().toEqualTypeOf<SyncEvent<Order>>();
    expectTypeOf<RealtimeEventPayload<'status', Order>>().toEqualTypeOf<ConnectionStatus>();
    // @ts-expect-error: a field Order does not have
    const _bad = () => client.subscribe<Order>({ topic: 'sync.order.*' }, (event) => event.payload.data?.nope);
    void [_sub, _subAnnotated, _subUntyped, _on, _onTopic, _onTyped, _status, _error, _bad];
  });
});
