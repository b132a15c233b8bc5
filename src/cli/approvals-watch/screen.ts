/** Switches to the terminal's alternate screen and hides the cursor (the shell's screen comes back on leaving). */
export const ENTER_SCREEN = '\x1b[?1049h\x1b[?25l';
/** Shows the cursor and returns to the normal screen. */
export const LEAVE_SCREEN = '\x1b[?25h\x1b[?1049l';

/**
 * The control codes that draw `text` over the previous frame without flicker: cursor home, each line followed by
 * "erase to end of line", then "erase below", instead of clearing the screen first.
 *
 * @example output.write(frame(renderScreen(state, new Date(), 80)))
 */
export function frame(text: string): string {
  const lines = text.replace(/\n$/, '').split('\n');
  return `\x1b[H${lines.map((line) => `${line}\x1b[K`).join('\r\n')}\x1b[J`;
}
