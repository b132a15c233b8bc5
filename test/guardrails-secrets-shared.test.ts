import { describe, expect, it } from 'vitest';
import { secretsGuardrail } from '../src/core/guardrails/secrets/index.js';
import { hasSharedData, readJsonl, SKIP_REASON } from './helpers/shared-data.js';

/**
 * The shared evaluation sets hold ~35k rows of ordinary text (support chats, tweets, prompts, PII templates with
 * valid-format fake numbers) and no credentials, so anything the secrets guardrail reports there is a false alarm.
 */
describe.skipIf(!hasSharedData)(`secrets guardrail on the shared dev sets ${SKIP_REASON}`, () => {
  const guard = secretsGuardrail.create({});

  for (const file of ['pii.dev.jsonl', 'pii_test_values.dev.jsonl', 'injection.dev.jsonl', 'moderation.dev.jsonl']) {
    it(`reports on at most 0.1% of the rows of ${file}`, () => {
      const rows = readJsonl<{ text: string }>(file);
      expect(rows.length).toBeGreaterThan(100);
      const flagged = rows.filter((r) => guard.detect(r.text).length > 0);
      expect(flagged.length / rows.length).toBeLessThanOrEqual(0.001);
    });
  }
});
