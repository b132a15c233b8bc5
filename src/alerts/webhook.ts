import type { BudgetAlert } from '../core/cost/enforce.js';
import { formatUsd } from '../core/cost/format-usd.js';

const TIMEOUT_MS = 5_000;

/** The body posted for an alert: generic JSON fields plus a Slack-compatible `text`. */
export function alertBody(alert: BudgetAlert): Record<string, unknown> {
  const percent = Math.round(alert.threshold * 100);
  const until = alert.periodEnd ? ` (period ends ${alert.periodEnd})` : '';
  return {
    text: `agentguard: budget "${alert.budget}" reached ${percent}% — ${formatUsd(alert.spentUsd)} of ${formatUsd(alert.limitUsd)}${until}`,
    type: 'agentguard.budget_alert',
    budget: alert.budget,
    threshold: alert.threshold,
    spentUsd: alert.spentUsd,
    limitUsd: alert.limitUsd,
    periodStart: alert.periodStart,
    periodEnd: alert.periodEnd,
  };
}

/**
 * Posts an alert to its budget's webhook, once, with a timeout. A failure is a warning, never an error of the call
 * that crossed the threshold (the alert is in the audit trail either way). The URL is not printed: it may hold a token.
 */
export async function postAlert(alert: BudgetAlert): Promise<void> {
  if (!alert.webhook) return;
  try {
    const response = await fetch(alert.webhook, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alertBody(alert)),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (!response.ok) throw new Error(`the webhook answered ${response.status}`);
  } catch (error) {
    const host = (() => {
      try {
        return new URL(alert.webhook!).host;
      } catch {
        return 'the webhook';
      }
    })();
    process.emitWarning(`agentguard: the alert for budget "${alert.budget}" could not be posted to ${host}: ${(error as Error).message}`, { code: 'AGENTGUARD_ALERT' });
  }
}
