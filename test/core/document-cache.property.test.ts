/**
 * Property: whatever the interleaving of local writes (optimistic), remote writes, answers,
 * rejections, lost / duplicated / late events and disconnects, once the network settles every
 * client's visible state equals the server's document and nothing is pending.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DocumentCache } from '../../src/core/document-cache.js';
import { SyncError, type SyncEvent, increment } from '../../src/index.js';
import { FakeServer, type FakeTransport, drain, settle } from './fake-transport.js';

const CLIENTS = 3;
const client = fc.integer({ min: 0, max: CLIENTS - 1 });
const field = fc.constantFrom('c0', 'c1', 'c2');

const command = fc.oneof(
  fc.record({ kind: fc.constant('update' as const), c: client, field, by: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('merge' as const), c: client, field: fc.constantFrom('s0', 's1'), value: fc.string({ maxLength: 3 }) }),
  fc.record({ kind: fc.constant('mutate' as const), c: client, field, by: fc.integer({ min: -2, max: 2 }) }),
  fc.record({ kind: fc.constant('replaceStale' as const), c: client }),
  fc.record({ kind: fc.constant('remote' as const), field, by: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ kind: fc.constantFrom('process' as const, 'answer' as const, 'deliver' as const), c: client }),
  fc.record({ kind: fc.constantFrom('drop' as const, 'duplicate' as const, 'disconnect' as const, 'reconnect' as const), c: client }),
);

type Command = typeof command extends fc.Arbitrary<infer C> ? C : never;

async function run(commands: Command[]): Promise<void> {
  const server = new FakeServer();
  await server.store.create('p', 'doc', { c0: 0, c1: 0, c2: 0 });
  const transports: FakeTransport[] = [];
  const entries = [];
  const actions = [];
  const delivered: SyncEvent[][] = [];
  for (let i = 0; i < CLIENTS; i++) {
    const t = server.connect();
    transports.push(t);
    const cache = new DocumentCache(t);
    const doc = cache.document<Record<string, number | string>>('p', 'doc');
    doc.entry.subscribe(() => {});
    entries.push(doc.entry);
    actions.push(doc.actions);
    delivered.push([]);
  }
  await drain(...transports);
  const outcomes: Array<Promise<unknown>> = [];
  // A lost event with nothing after it cannot be noticed; on a real connection loss only comes
  // with a disconnect (the relay cuts a socket it cannot deliver to), so the end of the run
  // cycles the connections that lost events since they last reconnected.
  const lossy = new Set<number>();
  const track = (p: Promise<unknown>) => outcomes.push(p.catch((e: unknown) => e));

  for (const cmd of commands) {
    const t = 'c' in cmd ? transports[cmd.c]! : undefined;
    const a = 'c' in cmd ? actions[cmd.c]! : undefined;
    switch (cmd.kind) {
      case 'update':
        track(a!.update((d) => void (d[cmd.field] = Number(d[cmd.field] ?? 0) + cmd.by)));
        break;
      case 'merge':
        track(a!.merge({ [cmd.field]: cmd.value }));
        break;
      case 'mutate':
        track(a!.mutate({ [cmd.field]: increment(cmd.by) }));
        break;
      case 'replaceStale':
        track(a!.replace({ c0: 0, c1: 0, c2: 0, reset: 'yes' }, 1));
        break;
      case 'remote':
        await server.store.mutate('p', 'doc', [{ op: 'increment', path: cmd.field, value: cmd.by }]);
        break;
      case 'process':
        await t!.process();
        break;
      case 'answer':
        t!.answer();
        break;
      case 'deliver': {
        const e = t!.inbox[0];
        if (e && t!.deliver()) delivered[cmd.c]!.push(e);
        break;
      }
      case 'drop':
        if (t!.inbox.shift()) lossy.add(cmd.c);
        break;
      case 'duplicate': {
        const seen = delivered[cmd.c]!;
        if (seen.length) t!.redeliver(seen[seen.length - 1]!);
        break;
      }
      case 'disconnect':
        t!.disconnect();
        lossy.delete(cmd.c);
        break;
      case 'reconnect':
        t!.reconnect();
        break;
    }
    await settle();
  }

  for (const c of lossy) transports[c]!.disconnect();
  for (const t of transports) t.reconnect();
  await drain(...transports);
  const results = await Promise.all(outcomes);
  for (const r of results) {
    // Every write ended: with the server's document, or a typed conflict (and was rolled back).
    if (r instanceof Error) {
      expect(r).toBeInstanceOf(SyncError);
      expect((r as SyncError).code).toBe('conflict');
    } else {
      expect(r).toMatchObject({ service: 'p', id: 'doc' });
    }
  }
  const truth = await server.store.get('p', 'doc');
  for (const entry of entries) {
    expect(entry.getSnapshot()).toMatchObject({ status: 'ready', pending: 0, revision: truth.revision });
    expect(entry.getSnapshot().data).toEqual(truth.data);
  }
}

describe('document cache convergence (property)', () => {
  it('every client ends equal to the server with nothing pending', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 40 }), run),
      { numRuns: 150 },
    );
  });
});
