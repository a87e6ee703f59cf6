/**
 * One config for the library build (`npm run build`: ESM entry points for `syncdoc`,
 * `syncdoc/react`, `syncdoc/devtools`, `syncdoc/storage`, `syncdoc/server` and the `syncdoc-relay` bin) and for Vitest.
 */
import { builtinModules } from 'node:module';
import { defineConfig } from 'vitest/config';

const external = [
  ...builtinModules,
  ...builtinModules.map((m) => `node:${m}`),
  /^react(\/.*)?$/,
  /^react-dom(\/.*)?$/,
  /^use-sync-external-store(\/.*)?$/,
  'immer',
  'ioredis',
  'jose',
  'ws',
  /^partysocket(\/.*)?$/,
];

export default defineConfig({
  build: {
    target: 'node20',
    outDir: 'dist',
    emptyOutDir: true,
    minify: false,
    sourcemap: true,
    lib: {
      entry: {
        index: 'src/index.ts',
        react: 'src/react.ts',
        devtools: 'src/devtools.ts',
        storage: 'src/storage.ts',
        server: 'server/index.ts',
        cli: 'server/cli.ts',
      },
      formats: ['es'],
    },
    rollupOptions: { external },
  },
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    globalSetup: ['test/setup/redis.ts'],
    testTimeout: 30_000,
    hookTimeout: 180_000,
    // Each file gets its own relays and key prefix, so files may run in parallel.
    pool: 'forks',
  },
});
