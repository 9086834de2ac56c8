import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  // Topologies import the package by name; in the repository that is the source (as tsconfig's paths say for tsx).
  resolve: {
    alias: [
      { find: /^agentrec\/recommender$/, replacement: source('./src/recommender/index.ts') },
      { find: /^agentrec$/, replacement: source('./src/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests share one broker and the machine has 2 cores: run files one at a time
    // so broker-side timeouts (session, rebalance) are not hit by CPU starvation.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    globalSetup: ['test/global-setup.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
