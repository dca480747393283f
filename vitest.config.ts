import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    // Toolchain-heavy suites (emcc, QEMU) share two cores; keep parallelism modest.
    maxWorkers: 2,
    pool: 'forks',
  },
});
