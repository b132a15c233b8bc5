import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    pool: 'forks',
    // The regex-safety verdicts cache (see src/core/policy/lint/redos-cache.ts) stays inside the checkout, not in ~/.cache.
    env: { AGENTGUARD_CACHE_DIR: fileURLToPath(new URL('./node_modules/.cache/agentguard', import.meta.url)) },
  },
});
