import { defineErrors } from '../spec.js';

/** Errors of the sidecar's API tokens and of agent registration. */
export const TOKEN_ERRORS = defineErrors({
  TOKEN_NAME_INVALID: {
    status: 400,
    exit: 2,
    meaning: 'The --name given to a token cannot be used.',
    fix: 'Pass a non-empty name without control characters, short enough for the limit the message gives.',
  },
  TOKEN_AGENT_ID_INVALID: {
    status: 400,
    exit: 2,
    meaning: 'The --agent given to a token cannot be used as an agent id.',
    fix: 'Pass the agent id exactly as the agent sends it in `action.agent.id`.',
  },
  TOKEN_APPROVER_INVALID: {
    status: 400,
    exit: 2,
    meaning: 'The --approver given to a token cannot be used as an approver name.',
    fix: 'Pass the approver\'s name as the policy\'s approval blocks list it.',
  },
  TOKEN_ATTRIBUTE_INVALID: {
    status: 400,
    exit: 2,
    meaning: 'An --attr binding cannot be used (its form, its field, their number, or a token kind without an agent).',
    fix: 'Write --attr agent.<name>=<value> or --attr context.<name>=<value>, on an agent token.',
  },
  TOKEN_ID_INVALID: {
    status: 400,
    exit: 2,
    meaning: 'The argument is not a token id (tok_ followed by 12 hex digits).',
    fix: 'List the tokens with `agentguard token list` and pass the id, not the token.',
  },
  TOKEN_NOT_FOUND: {
    status: 404,
    exit: 1,
    meaning: 'No token with that id is in this data folder.',
    fix: 'List the tokens with `agentguard token list`; if the data lives elsewhere, pass --data-dir <folder>.',
  },
  AGENT_NAME_INVALID: {
    status: 400,
    exit: 2,
    meaning: 'The name or id given to register an agent cannot be used.',
    fix: 'Pick a short name such as support-bot, and pass the id exactly as the agent sends it in `action.agent.id`.',
  },
});
