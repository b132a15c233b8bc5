import { Chalk } from 'chalk';

/** Colour only when both output streams are terminals, and never with NO_COLOR or TERM=dumb. */
function colourLevel(): 0 | 1 {
  return process.stdout.isTTY && process.stderr.isTTY && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb' ? 1 : 0;
}

export const paint = new Chalk({ level: colourLevel() });
