/** A key press as the `approvals watch` screen understands it. */
export type Key =
  | { name: 'up' | 'down' | 'enter' | 'escape' | 'backspace' | 'interrupt' }
  /** A printable character (letters, digits, punctuation, space), also when a selection key: the mode decides. */
  | { name: 'char'; char: string };

/** What Node's `readline.emitKeypressEvents` passes to a `keypress` listener. */
export interface Keypress {
  name?: string;
  ctrl?: boolean;
  meta?: boolean;
  sequence?: string;
}

/**
 * The Key of one `keypress` event (`str` and `key` as readline gives them); null for keys the screen ignores
 * (function keys, other control characters).
 *
 * @example keyFrom('j', { name: 'j', sequence: 'j' }) // { name: 'char', char: 'j' }
 */
export function keyFrom(str: string | undefined, key: Keypress | undefined): Key | null {
  if (key?.ctrl && (key.name === 'c' || key.name === 'd')) return { name: 'interrupt' };
  switch (key?.name) {
    case 'up':
    case 'down':
    case 'escape':
    case 'backspace':
      return { name: key.name };
    case 'return':
    case 'enter':
      return { name: 'enter' };
    default:
      break;
  }
  if (key?.ctrl || key?.meta) return null;
  // A single printable character; control characters (and escape sequences readline did not name) are ignored.
  if (typeof str === 'string' && [...str].length === 1 && !/\p{Cc}/u.test(str)) return { name: 'char', char: str };
  return null;
}
