import { defineErrors } from '../spec.js';

/** Errors of the SDK: guards, protected functions, guarded LLM clients and the sidecar client. */
export const SDK_ERRORS = defineErrors({
  ACTION_DENIED: {
    status: 403,
    exit: 1,
    meaning: 'The decision was deny, so the protected function did not run; `decision` holds the reasons.',
    fix: 'Read the decision\'s reasons; change the action, or the policy if the deny is wrong.',
  },
  APPROVAL_REQUIRED: {
    status: 403,
    exit: 1,
    meaning: 'The decision was require_approval, so the protected function did not run.',
    fix: 'Have an approver approve it (`agentguard approvals approve <id>`), then run the action again.',
  },
  SIDECAR_UNAVAILABLE: {
    status: 503,
    exit: 1,
    meaning: 'The SDK got no usable answer from the sidecar (refused, timed out, 5xx, or not a valid answer); the action is denied.',
    fix: 'Check that the sidecar runs (`agentguard sidecar status`) at the URL given to the SDK (default port 7777).',
  },
  SIDECAR_REJECTED: {
    status: 400,
    exit: 1,
    meaning: 'The sidecar refused the request with a 4xx whose error code this SDK does not know; the action is denied.',
    fix: 'Read the sidecar\'s message in the error; upgrade the SDK to the sidecar\'s version.',
  },
  GUARD_OPTIONS: {
    status: 400,
    exit: 2,
    meaning: 'An AgentGuard was created with options it cannot use; the message names the option.',
    fix: 'Fix the option named; pass either `policy` (local mode) or `sidecar: { url, token }` (sidecar mode).',
  },
  GUARD_CLOSED: {
    status: 500,
    exit: 2,
    meaning: 'An AgentGuard was used after close().',
    fix: 'Create a new AgentGuard instead of reusing a closed one.',
  },
  GUARD_REQUIRED: {
    status: 500,
    exit: 2,
    meaning: 'A guarded client was created without a `guard`.',
    fix: 'Pass `guard`: an AgentGuard or its options.',
  },
  GUARD_OPTIONS_INVALID: {
    status: 400,
    exit: 2,
    meaning: 'A guarded client was given options it cannot use, or a copy tried to change its guard.',
    fix: 'Fix the option named in the message.',
  },
  TRANSFORM_SHAPE: {
    status: 422,
    exit: 1,
    meaning: 'The policy\'s transform left a protected function without its arguments, so it was not run.',
    fix: 'Fix the transform so it keeps `input` an object.',
  },
  METHOD_NOT_GUARDED: {
    status: 403,
    exit: 1,
    meaning: 'A guarded client was asked for something it cannot guard (a raw request, an unguarded endpoint, its API key); nothing was sent.',
    fix: 'Use the guarded methods, or an unguarded client where no decision is needed.',
  },
  REQUEST_OPTION_REFUSED: {
    status: 400,
    exit: 2,
    meaning: 'A request option would change what is sent after agentguard decided it; nothing was sent.',
    fix: 'Leave the option out, or set it on the client.',
  },
  OUTPUT_TRANSFORM_INVALID: {
    status: 422,
    exit: 1,
    meaning: 'The policy\'s transform of a model\'s answer did not leave it in the shape the client returns.',
    fix: 'Fix the llm_output transform so input.content stays a list of the same number of strings.',
  },
  OUTPUT_REDACTION_TOO_LATE: {
    status: 422,
    exit: 1,
    meaning: 'The output policy would change streamed text that was already delivered, so the stream was stopped.',
    fix: 'Raise the guarded client option `holdBack`, or redact with a guardrail whose findings do not depend on later text.',
  },
  STREAM_INCOMPLETE: {
    status: 502,
    exit: 1,
    meaning: 'A stream ended with parts the guard could not clear, so they were not delivered.',
    fix: 'Retry the call; if it persists, read the decision records of the stream.',
  },
  PEER_DEPENDENCY_MISSING: {
    status: 500,
    exit: 2,
    meaning: 'A guarded client needs a provider package (openai, @anthropic-ai/sdk, …) that is not installed.',
    fix: 'Install the package the message names in your project.',
  },
});
