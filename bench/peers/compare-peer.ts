/**
 * The two rows of a peer comparison (11 ShareDB, 12 Hocuspocus), syncdoc as A and the peer as B,
 * with the same arrangement for both: the server under test alone in one child process, writers
 * in the bench process, watchers in another child process, every client on its own WebSocket
 * through its system's client library, everything on 127.0.0.1.
 *
 * - Acked writes/s: 50 writers on 10 documents (5 each), each setting its own small field in a
 *   closed loop (next write when the last is acknowledged), counted over a fixed window after a
 *   warm-up.
 * - Deliveries/s: 5 such writers on one document, 100 watchers of it in the watchers process;
 *   a delivery is one write seen by one watcher (by the rise of the writers' fields, so a
 *   message that carries several writes, as Hocuspocus's merged updates do, counts as that
 *   many), counted over the window by the watchers' own clock. After each round the writers stop and the watchers must catch up with every write
 *   (so no backlog carries into the next round, and nothing is lost).
 *
 * Each row starts both servers afresh and compare() alternates them round by round. Each
 * round logs the CPU the server, Redis, the watchers process and the bench process used in the
 * window, which tells which of them bounded it. BENCH_PEERS_ROW=writes (or deliveries) runs one
 * row only, e.g. to profile it with BENCH_CPU_PROF.
 */
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { Redis } from 'ioredis';
import { type BenchContext, type BenchRow, compare, fmt, sleep } from '../harness.js';
import { type Child, machineCpuSeconds, startChild } from './child.js';
import type { Kit, Writer } from './kit.js';
import { syncdocKit } from './syncdoc-kit.js';

const WRITERS = 50;
const DOCS = 10;
const WATCHERS = 100;
const FAN_WRITERS = 5;

/** One peer comparison. */
export interface PeerSpec {
  /** The row. */
  id: number;
  /** Display name, e.g. "ShareDB". */
  label: string;
  /** Its clients. */
  kit: Kit;
  /** Its key in kits.ts, for the watchers process. */
  kitName: string;
  /** Its server's file in bench/peers/. */
  server: string;
  /** What its watchers are called in the row name ("subscribers", "watchers"). */
  watchersWord: string;
  /** How both sides are built, for the rows' notes. */
  note: string;
}

interface Side {
  name: string;
  kit: Kit;
  kitName: string;
  server: Child;
  url: string;
  /** CPU seconds Redis has used so far (INFO cpu), which both sides share. */
  redisCpu: () => Promise<number>;
}

interface Timing {
  warm: number;
  window: number;
}

/** What a server child counts (ShareDB: submit retries), as the change over a round, for the log. */
async function serverStats(server: Child): Promise<Record<string, number>> {
  return ((await server.request<Record<string, number> | undefined>({ type: 'stats' })) ?? {});
}

function statsDelta(before: Record<string, number>, after: Record<string, number>): string {
  return Object.keys(after)
    .map((k) => `; ${k} ${Math.round(after[k]! - (before[k] ?? 0))}`)
    .join('');
}

const pct = (cpu: number, ms: number) => (Number.isFinite(cpu) ? `${Math.round((cpu / (ms / 1000)) * 100)}%` : '?');

/** Runs both rows of a comparison, each on freshly started servers. */
export async function comparePeer(ctx: BenchContext, spec: PeerSpec): Promise<BenchRow[]> {
  const timing: Timing = { warm: Math.max(200, 500 * ctx.scale), window: Math.max(500, 2500 * ctx.scale) };
  const only = process.env.BENCH_PEERS_ROW;
  const rows: BenchRow[] = [];
  if (only !== 'deliveries') rows.push(await withServers(ctx, spec, (sides, tag) => ackedWrites(ctx, spec, sides, tag, timing)));
  if (only !== 'writes') rows.push(await withServers(ctx, spec, (sides, tag) => deliveries(ctx, spec, sides, tag, timing)));
  return rows;
}

/**
 * Starts both servers, runs `fn`, stops them: no row inherits the other's state (ShareDB's
 * MemoryDB, for one, keeps every op it was sent).
 */
async function withServers<T>(ctx: BenchContext, spec: PeerSpec, fn: (sides: [Side, Side], tag: string) => Promise<T>): Promise<T> {
  const tag = randomBytes(4).toString('hex');
  const started = await Promise.allSettled([
    startChild('syncdoc-relay.ts', { env: { REDIS_URL: ctx.redisUrl, KEY_PREFIX: `bench-peers-${tag}:` }, profile: 'syncdoc-relay' }),
    startChild(spec.server, { env: { REDIS_URL: ctx.redisUrl }, profile: `${spec.kitName}-server` }),
  ]);
  const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const redis = new Redis(ctx.redisUrl, { lazyConnect: true });
  const redisCpu = async () => {
    const info = await redis.info('cpu');
    const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
    return field('used_cpu_user') + field('used_cpu_sys');
  };
  try {
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    await redis.connect();
    return await fn(
      [
        { name: 'syncdoc', kit: syncdocKit, kitName: 'syncdoc', server: servers[0]!, url: servers[0]!.info.url as string, redisCpu },
        { name: spec.label, kit: spec.kit, kitName: spec.kitName, server: servers[1]!, url: servers[1]!.info.url as string, redisCpu },
      ],
      tag,
    );
  } finally {
    redis.disconnect();
    await Promise.all(servers.map((s) => s.stop()));
  }
}

async function ackedWrites(ctx: BenchContext, spec: PeerSpec, sides: [Side, Side], tag: string, timing: Timing): Promise<BenchRow> {
  const docs = Array.from({ length: DOCS }, (_, d) => `w${tag}-${d}`);
  const fieldsOf = (d: number) => Array.from({ length: WRITERS / DOCS }, (_, k) => `c${k * DOCS + d}`);
  const writers = new Map<Side, Writer[]>();
  try {
    for (const side of sides) {
      await Promise.all(docs.map((doc, d) => side.kit.seed(side.url, [doc], fieldsOf(d))));
      const list: Writer[] = [];
      writers.set(side, list);
      for (let i = 0; i < WRITERS; i += 10) {
        list.push(...(await Promise.all(Array.from({ length: 10 }, (_, k) => side.kit.writer(side.url, docs[(i + k) % DOCS]!, `c${i + k}`)))));
      }
    }
    const round = (side: Side) => writeRound(ctx, side, writers.get(side)!, timing);
    return await compare(
      ctx,
      {
        id: spec.id,
        name: `vs ${spec.label}: acked writes/s (${WRITERS} clients, ${DOCS} docs)`,
        unit: 'writes/s',
        target: '>= 1.2',
        note: `${WRITERS} clients in the bench process, ${WRITERS / DOCS} per document, each setting its own field in a closed loop; ${spec.note}`,
      },
      () => round(sides[0]),
      () => round(sides[1]),
    );
  } finally {
    await Promise.all([...writers.values()].flat().map((w) => w.close()));
  }
}

/** Runs every writer in a closed loop until `stop` resolves; rejects with the first failure. */
function loop(writers: readonly Writer[], onAck: () => void): { stop: () => Promise<void> } {
  let running = true;
  const loops = writers.map(async (w) => {
    while (running) {
      await w.write();
      onAck();
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

async function writeRound(ctx: BenchContext, side: Side, writers: readonly Writer[], timing: Timing): Promise<number> {
  let acks = 0;
  const load = loop(writers, () => acks++);
  let a0: number, a1: number, t0: number, t1: number, s0: number, s1: number, r0: number, r1: number, m0: number, m1: number;
  let bench: NodeJS.CpuUsage, x0: Record<string, number>, x1: Record<string, number>;
  try {
    await sleep(timing.warm);
    [r0, x0] = [await side.redisCpu(), await serverStats(side.server)];
    const b0 = process.cpuUsage();
    [a0, t0, s0, m0] = [acks, performance.now(), side.server.cpuSeconds(), machineCpuSeconds()];
    await sleep(timing.window);
    [a1, t1, s1, m1, bench] = [acks, performance.now(), side.server.cpuSeconds(), machineCpuSeconds(), process.cpuUsage(b0)];
    [r1, x1] = [await side.redisCpu(), await serverStats(side.server)];
  } finally {
    await load.stop();
  }
  const rate = (a1 - a0) / ((t1 - t0) / 1000);
  const ms = t1 - t0;
  ctx.log(
    `    ${side.name}: ${fmt(rate)} acked writes/s; CPU in the window: server ${pct(s1 - s0, ms)}, Redis ${pct(r1 - r0, ms)}, ` +
      `bench process ${pct((bench.user + bench.system) / 1e6, ms)}; machine ${pct(m1 - m0, ms)} of ${cpus().length * 100}%${statsDelta(x0, x1)}`,
  );
  return rate;
}

interface Count {
  total: number;
  at: number;
}

async function deliveries(ctx: BenchContext, spec: PeerSpec, sides: [Side, Side], tag: string, timing: Timing): Promise<BenchRow> {
  const doc = `f${tag}`;
  const fields = Array.from({ length: FAN_WRITERS }, (_, k) => `w${k}`);
  const writers = new Map<Side, Writer[]>();
  const watchers = new Map<Side, Child>();
  try {
    for (const side of sides) {
      await side.kit.seed(side.url, [doc], fields);
      const env = { KIT: side.kitName, URL: side.url, DOC: doc, N: String(WATCHERS) };
      watchers.set(side, await startChild('watchers.ts', { env, profile: `${side.kitName}-watchers` }));
      const list = await Promise.all(fields.map((f) => side.kit.writer(side.url, doc, f)));
      writers.set(side, list);
      // One write each, seen by every watcher: their subscriptions are live before any round.
      await Promise.all(list.map((w) => w.write()));
      await drain(side, list, watchers.get(side)!);
    }
    const round = (side: Side) => fanRound(ctx, side, writers.get(side)!, watchers.get(side)!, timing);
    return await compare(
      ctx,
      {
        id: spec.id,
        name: `vs ${spec.label}: deliveries/s (${WATCHERS} ${spec.watchersWord})`,
        unit: 'deliveries/s',
        target: '>= 1.2',
        note: `${FAN_WRITERS} closed-loop writers (bench process) on one document, ${WATCHERS} watchers of it in another process, each on its own connection; ${spec.note}`,
      },
      () => round(sides[0]),
      () => round(sides[1]),
    );
  } finally {
    await Promise.all([...writers.values()].flat().map((w) => w.close()));
    await Promise.all([...watchers.values()].map((c) => c.stop()));
  }
}

/** Waits until every watcher has seen every acknowledged write. */
async function drain(side: Side, writers: readonly Writer[], watchers: Child, ms = 30_000): Promise<number> {
  const expected = WATCHERS * writers.reduce((sum, w) => sum + w.seq, 0);
  const t0 = performance.now();
  for (;;) {
    const { total } = await watchers.request<Count>({ type: 'count' });
    if (total >= expected) return performance.now() - t0;
    if (performance.now() - t0 > ms) throw new Error(`${side.name} watchers saw ${total} of ${expected} deliveries after ${ms} ms`);
    await sleep(20);
  }
}

async function fanRound(ctx: BenchContext, side: Side, writers: readonly Writer[], watchers: Child, timing: Timing): Promise<number> {
  const written = () => writers.reduce((sum, w) => sum + w.seq, 0);
  const load = loop(writers, () => {});
  let c0: Count, c1: Count, w0: number, w1: number, s0: number, s1: number, v0: number, v1: number, r0: number, r1: number, m0: number, m1: number;
  let t0: number, t1: number, bench: NodeJS.CpuUsage, x0: Record<string, number>, x1: Record<string, number>;
  try {
    await sleep(timing.warm);
    [r0, x0] = [await side.redisCpu(), await serverStats(side.server)];
    const b0 = process.cpuUsage();
    [w0, s0, v0, m0, t0] = [written(), side.server.cpuSeconds(), watchers.cpuSeconds(), machineCpuSeconds(), performance.now()];
    c0 = await watchers.request<Count>({ type: 'count' });
    await sleep(timing.window);
    c1 = await watchers.request<Count>({ type: 'count' });
    [w1, s1, v1, m1, t1, bench] = [written(), side.server.cpuSeconds(), watchers.cpuSeconds(), machineCpuSeconds(), performance.now(), process.cpuUsage(b0)];
    [r1, x1] = [await side.redisCpu(), await serverStats(side.server)];
  } finally {
    await load.stop();
  }
  const lag = await drain(side, writers, watchers);
  // Deliveries on the watchers' clock (no IPC delay in it), the rest on this process's.
  const rate = (c1.total - c0.total) / ((c1.at - c0.at) / 1000);
  const ms = t1 - t0;
  ctx.log(
    `    ${side.name}: ${fmt(rate)} deliveries/s (${fmt((w1 - w0) / (ms / 1000))} writes/s); CPU in the window: server ${pct(s1 - s0, ms)}, ` +
      `Redis ${pct(r1 - r0, ms)}, watchers ${pct(v1 - v0, ms)}, bench process ${pct((bench.user + bench.system) / 1e6, ms)}; ` +
      `machine ${pct(m1 - m0, ms)} of ${cpus().length * 100}%${statsDelta(x0, x1)}; caught up ${Math.round(lag)} ms after`,
  );
  return rate;
}
