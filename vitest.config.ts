import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // SWC emits the decorator metadata Nest's dependency injection needs; esbuild does not.
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    exclude: ['node_modules/**', 'dist/**', 'web/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Proxy tests bind real loopback ports and measure RSS: run files one per worker process.
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'all', include: ['src/**/*.spec.ts', 'test/**/*.test.ts'] },
      },
      {
        // The relay suite again on the public paths only (docs/runtime-hot-path.md, "Node internals"):
        // every private path has a public fallback, and both must pass the same tests.
        extends: true,
        test: {
          name: 'runtime-public-paths',
          include: ['test/runtime/**/*.test.ts'],
          env: { TETHER_NODE_INTERNALS: 'off' },
        },
      },
    ],
  },
});
