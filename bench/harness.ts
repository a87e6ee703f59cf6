/**
 * The benchmark harness: every measure is a ratio A ÷ B of two things run in the same process
 * and the same run, alternately, several rounds; the report is the median ratio and its spread
 * (min–max of the per-round ratios). Absolute numbers are printed for context only: on these
 * shared, noisy machines only ratios hold.
 */

/** One row of bench/results.json. */
export interface BenchRow {
  /** The measure's number in the table. */
  id: number;
  /** What is measured, with N when the measure has several. */
  name: string;
  /** Median of A over the rounds. */
  a: number;
  /** Median of B over the rounds. */
  b: number;
  /** Unit of A and B. */
  unit: string;
  /** Median of the per-round ratios A ÷ B. */
  ratio: number;
  /** [min, max] of the per-round ratios. */
  spread: [number, number];
  /** The target, e.g. ">= 0.8". */
  target: string;
  /** Whether the median ratio meets the target. */
  met: boolean;
  /** How A and B were built, in a sentence (for docs/PERFORMANCE.md). */
  note?: string;
}

/** What every measure gets. */
export interface BenchContext {
  /** Redis with RedisJSON for this run. */
  redisUrl: string;
  /** Progress lines (stderr). */
  log: (line: string) => void;
  /** Rounds of A/B alternation (default 5; BENCH_ROUNDS overrides). */
  rounds: number;
  /** Scale factor for workload sizes (default 1; BENCH_SCALE overrides, e.g. 0.2 for a smoke run). */
  scale: number;
}

/** A measure: one or more rows. */
export interface Measure {
  /** Short name for `npm run bench -- NAME`. */
  key: string;
  /** The row number. */
  id: number;
  run(ctx: BenchContext): Promise<BenchRow[]>;
}

/** Median of numbers. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Whether `value` meets a target written as ">= 0.8", "<= 1.5" or "= 1.0". */
export function meets(value: number, target: string): boolean {
  const m = /^(>=|<=|=)\s*([\d.]+)/.exec(target.trim());
  if (!m) throw new Error(`bad target ${target}`);
  const t = Number(m[2]);
  if (m[1] === '>=') return value >= t;
  if (m[1] === '<=') return value <= t;
  return Math.abs(value - t) < 1e-9;
}

/**
 * Runs A and B alternately (A first in odd rounds, B first in even ones, so warm-up and drift
 * fall on both) and builds the row from the per-round ratios.
 */
export async function compare(
  ctx: BenchContext,
  spec: { id: number; name: string; unit: string; target: string; note?: string },
  a: () => Promise<number>,
  b: () => Promise<number>,
): Promise<BenchRow> {
  const as: number[] = [];
  const bs: number[] = [];
  for (let round = 0; round < ctx.rounds; round++) {
    let x: number;
    let y: number;
    if (round % 2 === 0) {
      x = await a();
      y = await b();
    } else {
      y = await b();
      x = await a();
    }
    as.push(x);
    bs.push(y);
    ctx.log(`  ${spec.name}: round ${round + 1}/${ctx.rounds}: A ${fmt(x)} B ${fmt(y)} ratio ${fmt(x / y)}`);
  }
  return pairedRow(spec, as, bs);
}

/** A row from paired rounds measured elsewhere (A and B of each round at the same index). */
export function pairedRow(
  spec: { id: number; name: string; unit: string; target: string; note?: string },
  as: readonly number[],
  bs: readonly number[],
): BenchRow {
  const ratios = as.map((x, i) => x / bs[i]!);
  const ratio = median(ratios);
  return {
    id: spec.id,
    name: spec.name,
    a: median(as),
    b: median(bs),
    unit: spec.unit,
    ratio,
    spread: [Math.min(...ratios), Math.max(...ratios)],
    target: spec.target,
    met: meets(ratio, spec.target),
    ...(spec.note && { note: spec.note }),
  };
}

/** A row for a measure that is a single value against a fixed limit (no B): B is the limit. */
export function absolute(
  spec: { id: number; name: string; unit: string; target: string; note?: string },
  values: readonly number[],
  limit: number,
): BenchRow {
  const a = median(values);
  const ratios = values.map((v) => v / limit);
  return {
    id: spec.id,
    name: spec.name,
    a,
    b: limit,
    unit: spec.unit,
    ratio: a / limit,
    spread: [Math.min(...ratios), Math.max(...ratios)],
    target: spec.target,
    met: meets(a / limit, spec.target),
    ...(spec.note && { note: spec.note }),
  };
}

/** A number in 3 significant digits. */
export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  return abs >= 1000 ? Math.round(n).toLocaleString('en-US') : n.toPrecision(3);
}

/**
 * A row's ratio as {@link fmt} prints it, with one more digit when three would round it across
 * its target (1.196 against >= 1.2 reads 1.196, not 1.20).
 */
export function fmtRatio(ratio: number, target: string): string {
  const short = fmt(ratio);
  return meets(Number(short), target) === meets(ratio, target) ? short : ratio.toPrecision(4);
}

/** Sleeps. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
