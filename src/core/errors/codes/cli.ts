import { defineErrors } from '../spec.js';

/** Errors of the command line: flags, arguments, files and standard input. */
export const CLI_ERRORS = defineErrors({
  USAGE: {
    status: 400,
    exit: 2,
    meaning: 'A flag or argument is missing, unknown, or has a value the command cannot use.',
    fix: 'Run the command with --help to see its flags and examples.',
  },
  INTERNAL: {
    status: 500,
    exit: 70,
    meaning: 'Something failed that agentguard did not expect: a bug, not something you did.',
    fix: 'Re-run with --debug (CLI) or read the sidecar log, and report the output at the project issue tracker.',
  },
  NO_ACTION: {
    status: 400,
    exit: 2,
    meaning: 'A command that decides actions was given none.',
    fix: "Pass --action '<json>', --action @file.json, --input actions.jsonl, or pipe JSON into the command.",
  },
  ACTION_NOT_JSON: {
    status: 400,
    exit: 2,
    meaning: 'An action given to the command is not valid JSON.',
    fix: 'Quote the JSON for your shell, or put it in a file and pass --action @file.json.',
  },
  INPUT_UNREADABLE: {
    status: 400,
    exit: 2,
    meaning: 'A file named on the command line cannot be read.',
    fix: 'Check the path and that this user may read the file.',
  },
  INPUT_TOO_LARGE: {
    status: 413,
    exit: 2,
    meaning: 'A file or standard input is larger than the command reads.',
    fix: 'Split the input into smaller files.',
  },
  FILE_NOT_FOUND: {
    status: 404,
    exit: 2,
    meaning: 'A file named on the command line does not exist or cannot be read.',
    fix: 'Check the path.',
  },
  FILE_WRITE_FAILED: {
    status: 500,
    exit: 2,
    meaning: 'A file the command was asked to write cannot be written.',
    fix: 'Check that the folder exists and that this user may write to it.',
  },
  PATH_NOT_FOUND: {
    status: 404,
    exit: 2,
    meaning: 'A file or folder named on the command line does not exist or cannot be read.',
    fix: 'Check the path.',
  },
  OUTPUT_UNWRITABLE: {
    status: 500,
    exit: 2,
    meaning: 'The report file the command was asked to write cannot be written.',
    fix: 'Check that the folder exists and that this user may write to it, or pass another path.',
  },
  EXPORT_WRITE_FAILED: {
    status: 500,
    exit: 2,
    meaning: 'The audit export cannot be written to the file given.',
    fix: 'Check that the folder exists and that this user may write to it, or pass another --out.',
  },
  INVALID_INTERVAL: {
    status: 400,
    exit: 2,
    meaning: 'An --interval flag is not a duration between 100ms and 1h.',
    fix: 'Pass a duration such as 500ms, 1s, 5s or 1m.',
  },
  UNKNOWN_GUARDRAIL: {
    status: 400,
    exit: 2,
    meaning: 'The guardrail named is not one agentguard has.',
    fix: 'Run `agentguard guardrails list` to see the guardrails, and use one of their names.',
  },
  MODEL_UNKNOWN: {
    status: 404,
    exit: 1,
    meaning: 'The price catalog has no entry for the model asked about.',
    fix: 'Check the provider and model name with `agentguard cost prices`, or add a price with `agentguard cost prices import`.',
  },
  AGENT_NOT_FOUND: {
    status: 404,
    exit: 1,
    meaning: 'No agent with that id is in the agent registry of this data folder.',
    fix: 'List the agents with `agentguard agents list`; if the data lives elsewhere, pass --data-dir <folder>.',
  },
});
