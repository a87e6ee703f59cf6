/**
 * Prints bench/results.json as the Markdown table docs/PERFORMANCE.md shows:
 * `npx tsx bench/report.ts > table.md`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type BenchRow, fmt, fmtRatio } from './harness.js';

const rows = JSON.parse(readFileSync(fileURLToPath(new URL('./results.json', import.meta.url)), 'utf8')) as BenchRow[];
const lines = [
  '| # | measure (A ÷ B) | A | B | A ÷ B | spread | target | met |',
  '|---|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.id} | ${r.name} | ${fmt(r.a)} ${r.unit} | ${fmt(r.b)} ${r.unit} | **${fmtRatio(r.ratio, r.target)}** | ${fmt(r.spread[0])}–${fmt(r.spread[1])} | ${r.target} | ${r.met ? 'yes' : '**no**'} |`,
  ),
];
console.log(lines.join('\n'));
