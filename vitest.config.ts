import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vitest/config';

const src = fileURLToPath(new URL('./ts/src/', import.meta.url));

export default defineConfig({
  resolve: {
    // The examples import the package as a user does; the tests run them against the sources.
    alias: [
      { find: /^fleetscale$/, replacement: `${src}index.ts` },
      { find: /^fleetscale\/(.*)$/, replacement: `${src}$1/index.ts` },
    ],
  },
  test: {
    include: ['ts/test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
