/**
 * 10 — own code shipped to the browser: `syncdoc` + `syncdoc/react`, minified and gzipped,
 * measured with size-limit (its esbuild and file plugins, through its JS API); and, in a row of
 * its own, `syncdoc/storage` alone (an app that persists ships it on top, one that does not never).
 *
 * Each entry imports everything its entry points export (`import * as …` of src/index.ts and
 * src/react.ts, or of src/storage.ts, then used, so nothing is tree-shaken away) and is bundled
 * from the TypeScript sources, the same code `npm run build` turns into dist/, so no build step
 * is needed and the figure is never stale. The package's dependencies and peers (immer,
 * partysocket, use-sync-external-store, react, …) are left out as externals: only syncdoc's own
 * code counts. The bundle is an ES module, as apps' bundlers consume the package. The result is
 * deterministic, so size-limit runs once per entry; both rows are ratios to 10 kB (10 240 bytes),
 * the first with the limit 1.0, the storage row with 0.2 (2 kB).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import sizeLimit from 'size-limit';
import { absolute, type Measure } from '../harness.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LIMIT = 10 * 1024;

/** What size-limit's esbuild plugin leaves on a check: the esbuild metafile of the bundle. */
interface Metafile {
  outputs: Record<string, { bytes: number; inputs: Record<string, { bytesInOutput: number }> }>;
}

export const bundleSize: Measure = {
  key: 'bundle-size',
  id: 10,
  async run(ctx) {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
    };
    const externals = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {}), 'react-dom'];
    // The size-limit plugins ship no type declarations: import them by name, untyped.
    const plugins = await Promise.all(
      ['@size-limit/file', '@size-limit/esbuild'].map(async (name) => ((await import(name)) as { default: unknown }).default),
    );
    const dir = await mkdtemp(join(tmpdir(), 'syncdoc-size-'));
    const src = (file: string) => JSON.stringify(join(ROOT, 'src', file));
    /** The min+gzip size of a bundle of `code`, logging where its minified bytes go. */
    const measure = async (label: string, code: string): Promise<number> => {
      const entry = join(dir, `${label}.js`);
      await writeFile(entry, code);
      const check: {
        files: string[];
        ignore: string[];
        gzip: boolean;
        modifyEsbuildConfig: (config: Record<string, unknown>) => Record<string, unknown>;
        size?: number;
        esbuildMetafile?: Metafile;
      } = {
        files: [entry],
        ignore: externals,
        gzip: true,
        // As an app's bundler sees the package: ES modules. esbuild's default (an IIFE) would turn
        // the external imports into require() calls plus CommonJS interop helpers, about 270
        // bytes that are esbuild's, not syncdoc's, and that no app bundling the ESM build ships.
        modifyEsbuildConfig: (config) => ({ ...config, format: 'esm' }),
      };
      await sizeLimit(plugins as Array<(...args: unknown[]) => unknown>, { checks: [check] });
      const size = check.size;
      if (typeof size !== 'number') throw new Error(`bundle-size: size-limit reported no size for ${label}`);

      // Where the bytes go (minified, before gzip), from the same esbuild build.
      const output = Object.values(check.esbuildMetafile?.outputs ?? {})[0];
      if (output) {
        const inputs = Object.entries(output.inputs)
          .map(([file, { bytesInOutput }]) => [relative(ROOT, join(process.cwd(), file)), bytesInOutput] as const)
          .sort((p, q) => q[1] - p[1]);
        ctx.log(`  ${label}: ${size} bytes min+gzip; ${output.bytes} bytes minified, of which:`);
        for (const [file, bytes] of inputs.slice(0, 10)) ctx.log(`    ${String(bytes).padStart(6)}  ${file}`);
      }
      return size;
    };
    try {
      const size = await measure('syncdoc+react', `import * as core from ${src('index.ts')};\nimport * as react from ${src('react.ts')};\nconsole.log(core, react);\n`);
      const storageSize = await measure('storage', `import * as storage from ${src('storage.ts')};\nconsole.log(storage);\n`);
      const how = (what: string) =>
        `A: size-limit (esbuild + file plugins, gzip) of one bundle importing every export of ${what}, bundled from source (what dist/ is built from, so no build needed), with ${externals.join(', ')} external; B: the 10 kB limit (10 240 bytes); deterministic, measured once.`;
      return [
        absolute(
          {
            id: 10,
            name: 'own code shipped to the browser, syncdoc + syncdoc/react, min+gzip ÷ 10 kB',
            unit: 'bytes',
            target: '<= 1.0',
            note: how('src/index.ts and src/react.ts'),
          },
          [size],
          LIMIT,
        ),
        absolute(
          {
            id: 10,
            name: 'syncdoc/storage shipped to the browser, min+gzip ÷ 10 kB',
            unit: 'bytes',
            target: '<= 0.2',
            note: how('src/storage.ts'),
          },
          [storageSize],
          LIMIT,
        ),
      ];
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
