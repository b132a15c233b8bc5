import { describe, expect, it } from 'vitest';
import type { ApprovalChange } from '../src/core/approvals/types.js';
import { parseSlackInteraction, SLACK_INPUT_MAX_CHARS, slackDecisionUpdate, slackMessage } from '../src/notify/index.js';
import { approvalRecord, change } from './helpers/approval-fixtures.js';

type Block = { type: string; text?: { type: string; text: string }; elements?: Array<Record<string, any>> };

const EVENTS: ApprovalChange['event'][] = ['requested', 'escalated', 'approved', 'denied', 'expired', 'cancelled', 'consumed'];

/** Every mrkdwn/plain text string in a message, in order. */
function texts(blocks: unknown[]): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if ((o.type === 'mrkdwn' || o.type === 'plain_text') && typeof o.text === 'string') out.push(o.text);
      Object.values(o).forEach(walk);
    }
  };
  walk(blocks);
  return out;
}

const actionsBlock = (blocks: unknown[]) => (blocks as Block[]).find((b) => b.type === 'actions');

describe('slackMessage', () => {
  it('has Approve and Deny buttons carrying the approval id for requested and escalated only', () => {
    for (const event of EVENTS) {
      const { blocks } = slackMessage(change(event));
      const actions = actionsBlock(blocks);
      if (event === 'requested' || event === 'escalated') {
        expect(actions, event).toBeDefined();
        const [approve, deny] = actions!.elements!;
        expect(approve).toMatchObject({ type: 'button', action_id: 'agentguard_approve', style: 'primary', value: 'apr_0123456789abcdef0123456789abcdef' });
        expect(deny).toMatchObject({ type: 'button', action_id: 'agentguard_deny', style: 'danger', value: 'apr_0123456789abcdef0123456789abcdef' });
        expect(deny.confirm).toMatchObject({ title: { type: 'plain_text' }, confirm: { text: 'Deny' }, deny: { type: 'plain_text' } });
        expect(approve.confirm).toBeUndefined();
      } else {
        expect(actions, event).toBeUndefined();
      }
    }
  });

  it('says who decided and when for final events, and shows the details for open ones', () => {
    const approved = texts(slackMessage(change('approved')).blocks).join('\n');
    expect(approved).toContain('Approved by *alice* on <!date^1772366700^');
    expect(approved).toContain('ok for Q1');
    const expired = texts(slackMessage(change('expired')).blocks).join('\n');
    expect(expired).toMatch(/timeout is a deny/);
    const requested = slackMessage(change('requested'));
    const shown = texts(requested.blocks).join('\n');
    for (const part of ['`pay-bot`', 'tool `payments.transfer`', 'Transfers over 1000 need a person', 'finance', '<!date^1772367300^']) expect(shown).toContain(part);
    expect(shown).toContain('```{"amount":5000,"to":"acme","apiKey":"[REDACTED]"}```');
    expect(requested.text).toMatch(/^agentguard: approval requested — pay-bot wants to run tool payments\.transfer/);
    expect(texts(slackMessage(change('escalated')).blocks).join('\n')).toContain('*Escalated to:* cfo');
  });

  it('escapes mentions, links and entities in everything an agent or a person wrote', () => {
    const hostile = '<!channel> <@U123> <https://evil.example|click> & ok';
    const c = change('denied', {
      agentId: '<!here>',
      action: { kind: '<!everyone>', name: 'x<!channel>', input: { note: hostile } },
      reason: hostile,
      rules: ['<@U999>'],
      decidedBy: '<!subteam^S1>',
      comment: hostile,
    });
    const message = slackMessage(c);
    const all = [message.text, ...texts(message.blocks)];
    for (const text of all) {
      // The only "<" we emit ourselves are date tokens; nothing user-provided opens a control sequence.
      const controls = text.match(/<[^>]*>/g) ?? [];
      for (const control of controls) expect(control, text).toMatch(/^<!date\^\d+\^\{date_short_pretty\} at \{time\}\|[^<>]+>$/);
    }
    const joined = all.join('\n');
    expect(joined).toContain('&lt;!channel&gt;');
    expect(joined).toContain('&amp; ok');
    expect(joined).not.toMatch(/&(?!amp;|lt;|gt;)/);
  });

  it('shows the input as compact JSON, cut at about 1,500 characters, with backticks unable to close the code block', () => {
    const long = { blob: 'x'.repeat(5000), tick: '```' };
    const { blocks } = slackMessage(change('requested', { action: { kind: 'tool', name: 'files.write', input: long } }));
    const input = texts(blocks).find((t) => t.startsWith('*Input*'))!;
    const code = input.slice(input.indexOf('```') + 3, input.lastIndexOf('```'));
    expect(code.length).toBeLessThanOrEqual(SLACK_INPUT_MAX_CHARS);
    expect(code.endsWith('…')).toBe(true);
    expect(code.startsWith('{"blob":"xxx')).toBe(true);
    expect(input).toContain(`${JSON.stringify(long).length} characters in all`);

    const ticks = slackMessage(change('requested', { action: { kind: 'tool', name: 'a`b', input: { cmd: '```rm -rf /```' } } }));
    const body = texts(ticks.blocks).find((t) => t.startsWith('*Input*'))!;
    expect(body.match(/```/g)).toHaveLength(2);
    expect(body).toContain('rm -rf /');
    expect(texts(ticks.blocks).join('\n')).toContain('`a\u02CBb`');
  });

  it('keeps every section within Slack’s 3,000-character limit, even for huge values', () => {
    const huge = '<&>'.repeat(4000);
    const { blocks } = slackMessage(change('requested', { reason: huge, agentId: huge, approvers: [huge], rules: [huge], action: { kind: huge, name: huge, input: { huge } } }));
    for (const text of texts(blocks)) expect(text.length).toBeLessThanOrEqual(3000);
  });

  it('slackDecisionUpdate replaces the original with the outcome and no buttons', () => {
    const update = slackDecisionUpdate(change('denied').approval);
    expect(update.replace_original).toBe(true);
    expect(actionsBlock(update.blocks)).toBeUndefined();
    expect(update.text).toMatch(/^agentguard: denied by alice/);
    expect(texts(update.blocks).join('\n')).toContain('Denied by *alice*');
    expect(slackDecisionUpdate(change('consumed').approval).text).toMatch(/approved action was run/);
    expect(actionsBlock(slackDecisionUpdate(approvalRecord()).blocks)).toBeUndefined();
  });
});

describe('parseSlackInteraction', () => {
  const ID = 'apr_0123456789abcdef0123456789abcdef';
  /** A block_actions payload shaped like the ones Slack posts for a button click. */
  const payload = (overrides: Record<string, unknown> = {}, action: Record<string, unknown> = {}) => ({
    type: 'block_actions',
    user: { id: 'U024BE7LH', username: 'alice', name: 'alice', team_id: 'T024BE7LD' },
    api_app_id: 'A0123456',
    token: 'verification-token',
    container: { type: 'message', message_ts: '1772366400.000100', channel_id: 'C024BE91L', is_ephemeral: false },
    trigger_id: '12466734323.1395872398.6b8a6',
    team: { id: 'T024BE7LD', domain: 'acme' },
    channel: { id: 'C024BE91L', name: 'approvals' },
    response_url: 'https://hooks.slack.com/actions/T024BE7LD/123456/abcdef',
    actions: [{ type: 'button', action_id: 'agentguard_approve', block_id: 'agentguard_decision', text: { type: 'plain_text', text: 'Approve' }, value: ID, style: 'primary', action_ts: '1772366460.1' }],
    ...overrides,
    ...(Object.keys(action).length > 0 ? { actions: [{ type: 'button', action_id: 'agentguard_approve', value: ID, ...action }] } : {}),
  });
  const form = (p: unknown) => new URLSearchParams({ payload: typeof p === 'string' ? p : JSON.stringify(p) }).toString();

  it('reads an Approve click: approval id, decision, user and response_url', () => {
    expect(parseSlackInteraction(form(payload()))).toEqual({
      approvalId: ID,
      decision: 'approve',
      user: { id: 'U024BE7LH', name: 'alice' },
      responseUrl: 'https://hooks.slack.com/actions/T024BE7LD/123456/abcdef',
    });
  });

  it('reads a Deny click, falls back to user.name, and leaves responseUrl out when Slack sent none', () => {
    const p = payload({ user: { id: 'U1', name: 'bob' }, response_url: undefined }, { action_id: 'agentguard_deny' });
    expect(parseSlackInteraction(form(p))).toEqual({ approvalId: ID, decision: 'deny', user: { id: 'U1', name: 'bob' } });
  });

  it('returns an error, never throws, for anything else', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /no "payload"/],
      ['payload=%7Bnot-json', /not valid JSON/],
      [form('[1,2]'), /not a JSON object/],
      [form(payload({ type: 'view_submission' })), /"view_submission" is not handled/],
      [form(payload({ actions: [] })), /"actions" is missing/],
      [form(payload({}, { action_id: 'other_button' })), /action_id must be/],
      [form(payload({}, { value: 'apr_../../admin' })), /not an approval id/],
      [form(payload({}, { value: 42 })), /not an approval id/],
      [form(payload({ user: { username: 'alice' } })), /user\.id/],
      [form(payload({ user: { id: 'U1' } })), /neither "username" nor "name"/],
      [form(payload({ response_url: 'javascript:alert(1)' })), /response_url/],
      ['%%%payload=%E0%A4%A', /payload/],
    ];
    for (const [body, error] of cases) {
      const result = parseSlackInteraction(body);
      expect(result, body).toHaveProperty('error');
      expect((result as { error: string }).error, body).toMatch(error);
    }
    expect(parseSlackInteraction(undefined as unknown as string)).toHaveProperty('error');
  });
});
