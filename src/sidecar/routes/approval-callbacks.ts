import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { ApprovalRecord } from '../../core/approvals/types.js';
import { postSlackResponse } from '../../notify/send.js';
import { SIGNATURE_HEADER, verifySlackSignature, verifyWebhookSignature, type SignatureCheck } from '../../notify/signature.js';
import { parseSlackInteraction } from '../../notify/slack-interaction.js';
import { slackDecisionUpdate } from '../../notify/slack-message.js';
import { parseWebhookCallback, WEBHOOK_CALLBACK_PATH } from '../../notify/webhook-message.js';
import { AgentGuardError } from '../../core/errors.js';
import { approvalHttpError } from './approvals.js';
import type { SidecarServices } from '../plugins/services.js';
import { errorResponses } from '../schemas.js';

/** Callbacks are small: a decision and a comment (Slack adds the message it came from). */
const CALLBACK_BODY_LIMIT = 256 * 1024;
export const SLACK_INTERACTIONS_PATH = '/v1/slack/interactions';

const record = { type: 'object', additionalProperties: true, description: 'The approval as it is after the decision.' } as const;

/** The first failure among the signature checks, preferring the one that says most (a stale or future timestamp). */
function refused(checks: SignatureCheck[], what: string): AgentGuardError {
  const reasons = checks.map((c) => (c.ok ? 'ok' : c.reason));
  const reason = reasons.find((r) => r === 'stale' || r === 'future') ?? reasons.find((r) => r !== 'mismatch') ?? 'mismatch';
  const messages: Record<string, string> = {
    missing: `the ${what} signature headers are missing`,
    malformed: `the ${what} signature header is malformed`,
    stale: `the ${what} timestamp is more than 5 minutes old: a replayed or delayed request`,
    future: `the ${what} timestamp is more than 5 minutes ahead: check the sender's clock`,
    mismatch: `the ${what} signature does not match the body`,
  };
  return new AgentGuardError('SIGNATURE_INVALID', messages[reason] ?? messages.mismatch);
}

/**
 * Decisions that come back from notification channels, authenticated by the channel's signature instead of a token:
 * `POST /v1/approvals/callback` (a webhook receiver, signed with the channel's secret as deliveries are) and
 * `POST /v1/slack/interactions` (Slack's Approve / Deny buttons, signed by Slack with the app's signing secret).
 * Requests older than 5 minutes are refused, so a captured request cannot be replayed later; a replay within the
 * window finds the approval already decided (409). Deciders must be listed by the rule, as with approver tokens.
 */
export function approvalCallbackRoutes(app: FastifyInstance, services: SidecarServices): void {
  const webhooks = services.notify.flatMap((c) => (c.type === 'webhook' ? [c] : []));
  const slacks = services.notify.flatMap((c) => (c.type === 'slack' ? [c] : []));

  void app.register(async (scope) => {
    // The signatures cover the exact bytes sent: keep the body as text and parse it only once it checks out.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(['application/json', 'application/x-www-form-urlencoded'], { parseAs: 'string', bodyLimit: CALLBACK_BODY_LIMIT }, (_r, body, done) => done(null, body));

    scope.post<{ Body: string }>(
      WEBHOOK_CALLBACK_PATH,
      {
        config: { auth: 'none', anyHost: true },
        schema: {
          tags: ['approvals'],
          summary: 'Decide an approval from a webhook receiver (signed)',
          description:
            'Body `{ "approvalId", "decision": "approve" | "deny", "by", "comment"? }`, signed like the deliveries: header `agentguard-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(channel secret, "<t>.<body>")>`. Timestamps more than 5 minutes off are refused. `by` must be listed by the rule (or the rule lists nobody).',
          response: { 200: record, ...errorResponses(400, 401, 403, 404, 409, 413, 415) },
        },
      },
      async (request) => {
        if (webhooks.length === 0) throw new AgentGuardError('NO_WEBHOOK_CHANNEL', 'no webhook channel is configured, so no webhook callback is accepted', { actions: ['Add one under "approvals": { "notify": [...] } in agentguard.config.json.'] });
        const body = typeof request.body === 'string' ? request.body : '';
        const header = request.headers[SIGNATURE_HEADER];
        const checks = webhooks.map((c) => verifyWebhookSignature({ secret: c.secret, header, body }));
        if (!checks.some((c) => c.ok)) throw refused(checks, 'webhook');
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch (error) {
          throw new AgentGuardError('MALFORMED_JSON', `the body is not valid JSON: ${(error as Error).message}`);
        }
        const callback = parseWebhookCallback(parsed);
        if ('error' in callback) throw new AgentGuardError('CALLBACK_INVALID', callback.error);
        const status = callback.decision === 'approve' ? 'approved' : 'denied';
        return services.approvals
          .decide(callback.approvalId, { status, by: callback.by, listedOnly: true, ...(callback.comment ? { comment: callback.comment } : {}) })
          .catch((error: unknown) => {
            throw approvalHttpError(error);
          });
      },
    );

    scope.post<{ Body: string }>(
      SLACK_INTERACTIONS_PATH,
      {
        config: { auth: 'none', anyHost: true },
        schema: {
          tags: ['approvals'],
          summary: 'Slack interactivity endpoint: the Approve and Deny buttons (signed by Slack)',
          description:
            "Set it as the Slack app's Interactivity Request URL. Requests must carry a valid `X-Slack-Signature` made with the app's signing secret, at most 5 minutes old. The clicker decides as `slack:<user name>` and must be listed by the rule as `slack:<user name>` or `slack:<user id>` (or the rule lists nobody). The original message is replaced with the outcome; refusals are shown to the clicker only.",
          response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses(400, 401, 404, 413, 415) },
        },
      },
      async (request) => {
        if (slacks.length === 0) throw new AgentGuardError('NO_SLACK_CHANNEL', 'no Slack channel is configured, so no Slack interaction is accepted', { actions: ['Add one under "approvals": { "notify": [...] } in agentguard.config.json.'] });
        const rawBody = typeof request.body === 'string' ? request.body : '';
        const timestampHeader = request.headers['x-slack-request-timestamp'];
        const signatureHeader = request.headers['x-slack-signature'];
        const checks = slacks.map((c) => verifySlackSignature({ signingSecret: c.signingSecret, timestampHeader, signatureHeader, rawBody }));
        if (!checks.some((c) => c.ok)) throw refused(checks, 'Slack');
        const click = parseSlackInteraction(rawBody);
        if ('error' in click) throw new AgentGuardError('INTERACTION_INVALID', click.error);
        const status = click.decision === 'approve' ? 'approved' : 'denied';
        const by = `slack:${click.user.name}`;
        let decided: ApprovalRecord;
        try {
          decided = await services.approvals.decide(click.approvalId, { status, by, listedOnly: true, identities: [`slack:${click.user.id}`] });
        } catch (error) {
          const refusal = approvalHttpError(error);
          // Slack shows our HTTP answer to nobody: tell the clicker alone, through the response URL.
          if (click.responseUrl) reply(request.log, click.responseUrl, { response_type: 'ephemeral', replace_original: false, text: `agentguard: ${refusal.message}` });
          return { ok: false, code: refusal.code, message: refusal.message };
        }
        if (click.responseUrl) reply(request.log, click.responseUrl, slackDecisionUpdate(decided));
        return { ok: true, approval: { id: decided.id, status: decided.status, decidedBy: decided.decidedBy } };
      },
    );
  });
}

/** Posts to Slack's response URL in the background; a failure is logged (the decision itself is already stored). */
function reply(log: FastifyBaseLogger, responseUrl: string, message: object): void {
  void postSlackResponse(responseUrl, message).then((result) => {
    if (!result.ok) log.warn({ error: result.error }, 'the Slack message could not be updated');
  });
}
