/**
 * Look-alike letters folded to ASCII before matching: Cyrillic and Greek homoglyphs and
 * Latin small capitals (fullwidth and mathematical alphanumerics are handled by NFKC).
 * Keys are single characters; values are lowercase ASCII.
 */
const GROUPS: Record<string, string> = {
  a: 'аАαΑᴀ',
  b: 'вВβΒʙ',
  c: 'сСϲᴄ',
  d: 'ԁᴅ',
  e: 'еЕεΕᴇ',
  f: 'ꜰ',
  g: 'ɡɢ',
  h: 'нНһҺΗʜ',
  i: 'іІιΙӏɪ',
  j: 'јЈᴊ',
  k: 'кКκΚᴋ',
  l: 'ʟ',
  m: 'мМΜᴍ',
  n: 'ηΝɴ',
  o: 'оОοΟσᴏ',
  p: 'рРρΡᴘ',
  q: 'ԛ',
  r: 'ʀ',
  s: 'ѕЅꜱ',
  t: 'тТτΤᴛ',
  u: 'υᴜ',
  v: 'νᴠ',
  w: 'ԝᴡ',
  x: 'хХχΧ',
  y: 'уУγΥүʏ',
  z: 'Ζᴢ',
};

export const CONFUSABLES: ReadonlyMap<string, string> = new Map(
  Object.entries(GROUPS).flatMap(([ascii, lookAlikes]) => [...lookAlikes].map((ch) => [ch, ascii] as const)),
);
