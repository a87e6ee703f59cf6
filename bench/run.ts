/**
 * `npm run bench [-- NAME ...]`: runs the measures (all, or those whose key contains NAME),
 * prints A, B and A ÷ B with spread, and writes bench/results.json (rows of measures not run
 * this time are kept from the previous file).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ensureRedis } from '../server/dev/local-redis.js';
import { type BenchContext, type BenchRow, fmt, fmtRatio } from './harness.js';
import { MEASURES } from './measures/index.js';

const RESULTS = fileURLToPath(new URL('./results.json', import.meta.url));

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const measures = MEASURES.filter((m) => wanted.length === 0 || wanted.some((w) => m.key.includes(w) || String(m.id) === w));
  if (measures.length === 0) {
    console.error(`no measure matches ${wanted.join(' ')}; known: ${MEASURES.map((m) => m.key).join(', ')}`);
    process.exit(2);
  }
  const redis = await ensureRedis();
  const ctx: BenchContext = {
    redisUrl: redis.url,
    log: (line) => process.stderr.write(`${line}\n`),
    rounds: Number(process.env.BENCH_ROUNDS ?? 5),
    scale: Number(process.env.BENCH_SCALE ?? 1),
  };
  const rows: BenchRow[] = [];
  const started = Date.now();
  try {
    for (const m of measures) {
      ctx.log(`# ${m.id} ${m.key}`);
      const t0 = Date.now();
      try {
        rows.push(...(await m.run(ctx)));
      } catch (err) {
        ctx.log(`  ${m.key} FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        process.exitCode = 1;
      }
      ctx.log(`  (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    }
  } finally {
    await redis.stop();
  }
  print(rows);
  const previous: BenchRow[] = existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as BenchRow[]) : [];
  const ran = new Set(measures.map((m) => m.id));
  const merged = [...previous.filter((r) => !ran.has(r.id)), ...rows].sort((x, y) => x.id - y.id);
  writeFileSync(RESULTS, `${JSON.stringify(merged, null, 2)}\n`);
  ctx.log(`wrote ${RESULTS} (${((Date.now() - started) / 1000).toFixed(0)} s in all)`);
}

function print(rows: BenchRow[]): void {
  const table = rows.map((r) => ({
    '#': r.id,
    measure: r.name,
    A: `${fmt(r.a)} ${r.unit}`,
    B: `${fmt(r.b)} ${r.unit}`,
    'A÷B': fmtRatio(r.ratio, r.target),
    spread: `${fmt(r.spread[0])}–${fmt(r.spread[1])}`,
    target: r.target,
    met: r.met ? 'yes' : 'NO',
  }));
  console.table(table);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
