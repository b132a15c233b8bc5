import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

describe('npm run demo (the README quick start)', () => {
  it('runs offline through a sidecar it starts and stops, and ends by catching the tampering', () => {
    const result = spawnSync(process.execPath, ['demo/run.js'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 90_000 });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+/);
    expect(result.stdout).toContain('Summary: 2 allowed, 3 transformed, 1 waiting for approval, 5 denied.');
    expect(result.stdout).toContain('403 AGENT_MISMATCH');
    expect(result.stdout).toContain('"body":"Like <EMAIL_ADDRESS> (<PHONE_NUMBER>), you get a full refund."');
    expect(result.stdout).toMatch(/no-prompt-injection: A message sent to the model carries instructions/);
    expect(result.stdout).toMatch(/found injection\/injection \(score [\d.]+\) at input\.messages\.1\.content/);
    expect(result.stdout).toContain('AgentGuardDeniedError: sidecar_unavailable; the refund did not run');
    expect(result.stdout).toContain('"body":"key: [MASKED:openai-key]"');
    expect(result.stdout).toMatch(/Audit log TAMPERED: 1 problem/);
    // A transfer over the limit waits, is approved from the CLI in another process, and runs once.
    expect(result.stdout).toMatch(/transfers 25,000 EUR to acme-supplies → REQUIRE_APPROVAL, and waits/);
    expect(result.stdout).toMatch(/Approved apr_[0-9a-f]{32} \(payments\.transfer by agent support-bot\) as finance-lead: invoice INV-4411 checked/);
    expect(result.stdout).toMatch(/returns after [\d.]+ s: ALLOW sent 25,000 EUR to acme-supplies; the transfer ran 1 time\n/);
    expect(result.stdout).toMatch(/the same transfer again → REQUIRE_APPROVAL: .* runs so far: 1\n/);
    // GuardedOpenAI against the fake provider the demo starts: injection blocked before sending, e-mail redacted in
    // what the provider received, the model's destructive tool call denied.
    expect(result.stdout).toMatch(/hides an instruction.*\n.*DENY AgentGuardDeniedError: no-prompt-injection.*\n.*reached the provider so far: 0/);
    expect(result.stdout).toContain('what the provider actually received: "What is the refund status for <EMAIL_ADDRESS>?"');
    expect(result.stdout).toContain(`DENY AgentGuardDeniedError for the model's tool call db.query {"sql":"DROP TABLE orders"}: no-destructive-sql`);
    // A daily budget: two calls fit, the third is denied before it is sent; the cost report and budget status follow.
    expect(result.stdout).toMatch(/call 3 → DENY budget_exceeded: Over budget: budget "support-bot-daily" has \$0\.009\d* spent/);
    expect(result.stdout).toContain('requests that reached the provider: 2');
    expect(result.stdout).toMatch(/openai\/gpt-4o\s+2\s+2,400\s+300\s+\$0\.0090/);
    expect(result.stdout).toMatch(/support-bot-daily\s+\$0\.0090\s+\$0\.0000\s+\$0\.0010\s+\$0\.0100/);
    // A real MCP client through `mcp wrap`: the read is answered, the destructive tool is denied by policy and the
    // poisoned tool is blocked by its description check; only the read reaches the server.
    expect(result.stdout).toContain('tools/list → read_file, delete_repo, format_report');
    expect(result.stdout).toContain('→ ALLOW "Refunds are accepted within 30 days of delivery."');
    expect(result.stdout).toContain('→ DENY isError: agentguard denied demo-files.delete_repo: Destructive MCP tools are not allowed for the support agent');
    expect(result.stdout).toMatch(/→ DENY isError: agentguard blocked demo-files\.format_report: demo-files\.format_report was flagged: .*\(rule tool-description-instruction-tags\).*run `agentguard mcp pins approve demo-files\.format_report`/);
    expect(result.stdout).toContain('tool calls the server received: read_file\n');
  }, 120_000);
});
