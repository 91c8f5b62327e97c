import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (main) and ESM (module) copies. Node (and so `npm start`) loads the CJS
    // one for every importer, while Vite would hand our sources the ESM one: two GraphQLError
    // classes, and Yoga would mask our AppErrors. Resolve it the way Node does.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Builds dist/dashboard when it is missing or stale (the dashboard tests and trusted documents use it).
    globalSetup: ['test/global-setup.ts'],
    // Native engines (sharp, onnxruntime, better-sqlite3) and worker threads behave best in forks.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: more parallel files only fight over them.
    maxWorkers: 2,
  },
});
