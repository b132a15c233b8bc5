import { defineErrors } from '../spec.js';

/** Errors of `agentguard init` and its templates. */
export const INIT_ERRORS = defineErrors({
  INIT_INVALID_OPTION: {
    status: 400,
    exit: 2,
    meaning: 'An option of `agentguard init` (template, name, agent id) cannot be used.',
    fix: 'Run `agentguard init --help` to see the templates and the accepted names.',
  },
  INIT_FILES_EXIST: {
    status: 409,
    exit: 2,
    meaning: 'The files `agentguard init` would write already exist; nothing was written.',
    fix: 'Pass --force to overwrite them with the template, or run init in another folder with --dir.',
  },
  INIT_PATH_BLOCKED: {
    status: 409,
    exit: 2,
    meaning: 'A path `agentguard init` must write is taken by something it cannot replace (a folder, a link).',
    fix: 'Move what is at that path away, or run init in another folder with --dir.',
  },
  INIT_UNREADABLE: {
    status: 500,
    exit: 2,
    meaning: 'A file or folder `agentguard init` must check cannot be read.',
    fix: 'Check that this user may read the project folder.',
  },
  INIT_WRITE_FAILED: {
    status: 500,
    exit: 1,
    meaning: 'The project files could not be written.',
    fix: 'Check that this user may write to the folder, and that the disk is not full.',
  },
  INIT_CANCELLED: {
    status: 400,
    exit: 130,
    meaning: '`agentguard init` was cancelled (Ctrl+C) before it wrote anything.',
    fix: 'Run it again; pass --yes to take the defaults without questions.',
  },
  TEMPLATE_MISSING: {
    status: 500,
    exit: 70,
    meaning: 'A file of a shipped template is missing.',
    fix: 'Reinstall agentguard (npm install agentguard); the package ships templates/.',
  },
  TEMPLATE_BROKEN: {
    status: 500,
    exit: 70,
    meaning: 'A shipped template does not give a valid policy.',
    fix: 'Reinstall agentguard, or report this at the project issue tracker.',
  },
});
