import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // SWC emits the decorator metadata Nest's dependency injection needs; esbuild does not.
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    include: ['src/**/*.spec.ts', 'test/**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**', 'web/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Proxy tests bind real loopback ports and measure RSS: run files one per worker process.
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
