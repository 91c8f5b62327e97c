import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Native engines (sharp, onnxruntime, better-sqlite3) and worker threads behave best in forks.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: more parallel files only fight over them.
    maxWorkers: 2,
  },
});
