import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alertBody } from '../src/alerts/webhook.js';
import { formatUsd } from '../src/core/cost/format-usd.js';

describe('formatUsd', () => {
  it.each([
    [0, '$0.0000'],
    [0.0225, '$0.0225'],
    [0.116, '$0.1160'],
    [0.000045, '$0.000045'],
    [1, '$1.00'],
    [123.456, '$123.46'],
    [-0.5, '-$0.5000'],
  ])('prints %d as %s', (usd, text) => {
    expect(formatUsd(usd)).toBe(text);
  });

  it('reads back to within half of its last digit, and never prints a spend of a millionth of a dollar or more as zero', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e7, max: 1e7, noNaN: true }), (usd) => {
        const text = formatUsd(usd);
        expect(text).toMatch(/^-?\$\d+\.(\d{2}|\d{4}|\d{6})$/);
        const decimals = text.split('.')[1].length;
        const back = Number(text.replace('$', ''));
        expect(Math.abs(back - usd)).toBeLessThanOrEqual(0.5 * 10 ** -decimals + 1e-9 * Math.abs(usd));
        if (Math.abs(usd) >= 1e-6) expect(back).not.toBe(0);
      }),
    );
  });

  it('is how a budget alert states the spend, so a small budget does not read as $0.00 of $0.01', () => {
    const alert = { budget: 'team', key: 'global', threshold: 0.25, spentUsd: 0.003, limitUsd: 0.01, periodStart: '2026-12-01T00:00:00.000Z', periodEnd: null };
    expect(alertBody(alert).text).toBe('agentguard: budget "team" reached 25% — $0.0030 of $0.0100');
  });
});
