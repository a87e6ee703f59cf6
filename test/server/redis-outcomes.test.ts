/**
 * Honest write outcomes when Redis dies mid-stream (SPEC "Durable client"): `unavailable` means
 * "certainly not applied", and a write whose outcome is unknown is retried by the relay with its
 * mutation id or answered `timeout`. A private Redis with AOF `appendfsync always` is killed with
 * SIGKILL while writes stream in over raw sockets (no client resends: each answer is the relay's),
 * then restarted on the same port and data dir; the final counter must match the answers.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ServerMessage, SyncDocument, SyncErrorCode } from '../../src/protocol/index.js';
import { type LocalRedisParts, freePort, pingRedis, prepareLocalRedis } from '../../server/dev/local-redis.js';
import { type StoreEvent, createRedisStore } from '../../server/index.js';
import { eventually, freshPrefix, redisUrl, startRelay } from '../helpers/relay.js';

/** One redis-server with RedisJSON and AOF fsynced on every write, restartable on its port and dir. */
class DurableRedis {
  private child: ChildProcess | undefined;
  private constructor(private readonly parts: LocalRedisParts, readonly port: number, readonly dir: string) {}

  static async start(parts: LocalRedisParts): Promise<DurableRedis> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'syncdoc-aof-'));
    const redis = new DurableRedis(parts, await freePort(), dir);
    await redis.launch();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async launch(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always',
      '--dir', this.dir, '--loadmodule', this.parts.module];
    this.child = spawn(this.parts.server, args, {
      stdio: 'ignore',
      env: { ...process.env, ...(this.parts.libraryPath && { LD_LIBRARY_PATH: this.parts.libraryPath }) },
    });
    await eventually(() => pingRedis(this.port), 20_000, `redis-server to answer on ${this.port}`);
  }

  /** SIGKILL: no shutdown, no last fsync beyond what `appendfsync always` already did. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** SIGSTOP / SIGCONT: a frozen Redis keeps its connections open and answers nothing. */
  signal(signal: 'SIGSTOP' | 'SIGCONT'): void {
    this.child?.kill(signal);
  }

  async stop(): Promise<void> {
    this.signal('SIGCONT');
    await this.kill();
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}

/** A raw socket: each answer is exactly what the relay sent, with no client-side resend. */
class RawClient {
  private nextRid = 1;
  private readonly waiting = new Map<number, (m: ServerMessage) => void>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as ServerMessage;
      const rid = (m as { rid?: number | null }).rid;
      if (typeof rid === 'number') {
        this.waiting.get(rid)?.(m);
        this.waiting.delete(rid);
      }
    });
  }

  static async open(url: string): Promise<RawClient> {
    const ws = new WebSocket(url.replace(/^http/, 'ws'));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new RawClient(ws);
  }

  /** Sends one request and resolves with its answer (`result` or `error`). */
  request(body: Record<string, unknown>): Promise<ServerMessage> {
    const rid = this.nextRid++;
    return new Promise((resolve) => {
      this.waiting.set(rid, resolve);
      this.ws.send(JSON.stringify({ ...body, rid }));
    });
  }

  close(): void {
    this.ws.close();
  }
}

type Outcome = 'ok' | SyncErrorCode | 'no answer';

interface Tally {
  ok: number;
  unavailable: number;
  timeout: number;
  other: Partial<Record<Outcome, number>>;
  /** The counter after Redis came back. */
  n: number;
}

/** The outcome of one answer. */
function outcome(m: ServerMessage): Outcome {
  if (m.type === 'result') return 'ok';
  if (m.type === 'error') return m.error.code;
  return 'no answer';
}

describe('writes sent without a mutation id', () => {
  it('get one from the relay for a safe resend, which clients never see in events or catch-up', async () => {
    const store = await createRedisStore({ redis: redisUrl(), keyPrefix: freshPrefix() });
    try {
      const seen: StoreEvent[] = [];
      store.onEvent((e) => seen.push(e));
      await store.listen(true);
      await store.create('outcomes', 'plain', { n: 0 });
      await store.mutate('outcomes', 'plain', [{ op: 'increment', path: 'n', value: 1 }]);
      await store.mutate('outcomes', 'plain', [{ op: 'increment', path: 'n', value: 1 }], { mutationId: 'client-1' });
      await eventually(() => seen.length === 3, 5000, 'three events');
      expect(seen.map((e) => e.metadata.mutationId)).toEqual([undefined, undefined, 'client-1']);
      expect(seen.map((e) => JSON.parse(e.metadataJson()) as Record<string, unknown>).map((m) => m.mutationId)).toEqual([undefined, undefined, 'client-1']);
      const catchUp = await store.changesSince('outcomes', 'plain', 0);
      expect('changes' in catchUp && catchUp.changes.map((c) => c.mutationId)).toEqual([undefined, undefined, 'client-1']);
    } finally {
      await store.close();
    }
  });
});

describe('write outcomes when Redis is killed mid-stream (AOF appendfsync always)', () => {
  let parts: LocalRedisParts;
  const stops: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    parts = await prepareLocalRedis({ log: () => {} });
  }, 120_000);

  afterAll(async () => {
    while (stops.length) await stops.pop()!().catch(() => {});
  });

  /**
   * Streams `total` increments (`concurrency` in flight; every other one without a mutation id,
   * as raw protocol clients may send them), kills Redis after `killAfter` answers, restarts it
   * 1 s later, and counts the answers against the final counter.
   */
  async function run(total: number, concurrency: number, killAfter: number): Promise<Tally> {
    const redis = await DurableRedis.start(parts);
    stops.push(() => redis.stop());
    const relay = await startRelay('redis', { redis: redis.url, keyPrefix: freshPrefix(), limits: { writesPerSecond: 100_000, framesPerSecond: 100_000 } });
    const client = await RawClient.open(relay.url);
    stops.push(async () => client.close());
    const id = `counter-${Math.random().toString(36).slice(2, 8)}`;
    const created = await client.request({ type: 'create', service: 'outcomes', id, data: { n: 0 }, mutationId: `${id}-create` });
    expect(created.type).toBe('result');

    const tally: Tally = { ok: 0, unavailable: 0, timeout: 0, other: {}, n: -1 };
    let answered = 0;
    let killed: Promise<void> | undefined;
    let sent = 0;
    const worker = async () => {
      while (sent < total) {
        const i = sent++;
        const body: Record<string, unknown> = { type: 'mutate', service: 'outcomes', id, ops: [{ op: 'increment', path: 'n', value: 1 }] };
        if (i % 2 === 0) body.mutationId = `${id}-m${i}`;
        const o = outcome(await client.request(body));
        if (o === 'ok' || o === 'unavailable' || o === 'timeout') tally[o]++;
        else tally.other[o] = (tally.other[o] ?? 0) + 1;
        if (++answered === killAfter) {
          killed = (async () => {
            await redis.kill();
            await new Promise((r) => setTimeout(r, 1000));
            await redis.launch();
          })();
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    await killed;
    tally.n = await counter(client, id);
    return tally;
  }

  /** Every write of a mutate stream: increments of `n`, every other one without a mutation id. */
  const increment = (id: string, i: number, path = 'n'): Record<string, unknown> => ({
    type: 'mutate', service: 'outcomes', id, ops: [{ op: 'increment', path, value: 1 }], ...(i % 2 === 0 && { mutationId: `${id}-m${i}` }),
  });

  /** The counter (`n`, or another field) once the document can be read again. */
  async function counter(client: RawClient, id: string, field = 'n'): Promise<number> {
    let doc: SyncDocument | undefined;
    await eventually(async () => {
      const m = await client.request({ type: 'get', service: 'outcomes', id });
      if (m.type === 'result') doc = m.result as SyncDocument;
      return doc !== undefined;
    }, 20_000, 'the document to be readable again');
    return doc!.data[field] as number;
  }

  it('answers `timeout` (may have been applied) for writes in flight when Redis stays down, `unavailable` only for writes never sent', async () => {
    const redis = await DurableRedis.start(parts);
    stops.push(() => redis.stop());
    const store = await createRedisStore({ redis: redis.url, keyPrefix: freshPrefix(), unknownOutcomeLimitMs: 1500 });
    const relay = await startRelay('redis', { store, limits: { writesPerSecond: 100_000, framesPerSecond: 100_000 } });
    const client = await RawClient.open(relay.url);
    stops.push(async () => client.close());
    const id = 'down-longer';
    expect((await client.request({ type: 'create', service: 'outcomes', id, data: { n: 0, late: 0 }, mutationId: 'down-create' })).type).toBe('result');

    // In flight when Redis dies: some ran, some did not, none can be told apart.
    const inFlight = Array.from({ length: 40 }, (_, i) => client.request(increment(id, i)));
    await new Promise((r) => setTimeout(r, 2));
    await redis.kill();
    // Sent while Redis is known to be down: they wait in ioredis' offline queue and never reach Redis.
    await new Promise((r) => setTimeout(r, 200));
    const late = Array.from({ length: 10 }, (_, i) => client.request(increment(id, 100 + i, 'late')));
    const lateOutcomes = (await Promise.all(late)).map(outcome);
    const answers = await Promise.all(inFlight);
    const outcomes = answers.map(outcome);
    // Down for longer than the relay's limit for unknown outcomes.
    await new Promise((r) => setTimeout(r, 500));
    await redis.launch();
    const n = await counter(client, id);
    const lateApplied = await counter(client, id, 'late');

    const count = (o: Outcome) => outcomes.filter((x) => x === o).length;
    const tally = { ok: count('ok'), unavailable: count('unavailable'), timeout: count('timeout'), n, late: lateOutcomes };
    console.log('Redis down longer than the limit:', JSON.stringify(tally));
    expect(lateOutcomes).toEqual(Array(10).fill('unavailable'));
    expect(lateApplied).toBe(0);
    for (const m of answers) if (m.type === 'error' && m.error.code === 'timeout') expect(m.error.message).toMatch(/may have been applied/);
    expect(tally.ok + tally.unavailable + tally.timeout).toBe(40);
    expect(n).toBeGreaterThanOrEqual(tally.ok);
    expect(n - tally.ok).toBeLessThanOrEqual(tally.timeout);
  }, 60_000);

  it('answers `timeout` for a write sent to a frozen Redis, which applies it once thawed', async () => {
    const redis = await DurableRedis.start(parts);
    stops.push(() => redis.stop());
    const store = await createRedisStore({ redis: redis.url, keyPrefix: freshPrefix(), unknownOutcomeLimitMs: 1000 });
    const relay = await startRelay('redis', { store });
    const client = await RawClient.open(relay.url);
    stops.push(async () => client.close());
    const id = 'frozen';
    expect((await client.request({ type: 'create', service: 'outcomes', id, data: { n: 0 }, mutationId: 'frozen-create' })).type).toBe('result');
    redis.signal('SIGSTOP'); // nothing fails: the connection stays up and nothing answers
    const answer = await client.request(increment(id, 0));
    expect(answer).toMatchObject({ type: 'error', error: { code: 'timeout', message: expect.stringMatching(/may have been applied/) } });
    redis.signal('SIGCONT');
    expect(await counter(client, id)).toBe(1); // it had reached Redis: "may have been applied" was right
  }, 60_000);

  it('never answers `unavailable` for a write Redis applied; every OK write is kept', async () => {
    const tallies: Tally[] = [];
    for (let round = 0; round < 3; round++) tallies.push(await run(300, 8, 60 + round * 30));
    console.log(tallies.map((t) => JSON.stringify(t)).join('\n'));
    for (const t of tallies) {
      expect(t.other).toEqual({});
      expect(t.ok + t.unavailable + t.timeout).toBe(300);
      // Every OK write survived (appendfsync always: fsynced before the answer).
      expect(t.n).toBeGreaterThanOrEqual(t.ok);
      // Only `timeout` answers may hide an applied write: one answered `unavailable` and applied shows here.
      expect(t.n - t.ok).toBeLessThanOrEqual(t.timeout);
    }
  }, 120_000);
});
