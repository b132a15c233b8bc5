/**
 * Writes a labelled span dataset (pii.dev.jsonl, the secrets fixture) with every labelled value disguised the way an
 * attacker would hide it from a pattern, spans moved to match, so `agentguard guardrails eval` measures how much of it
 * the pii and secrets guardrails still find. Rows without labelled values are copied unchanged, so precision counts.
 * For measuring only: nothing is trained or tuned on the output.
 *
 *   npx tsx scripts/disguise-spans.ts <variant> <in.jsonl> > out.jsonl
 *
 * Variants: full-width (ASCII → full-width forms), arabic-digits (Arabic-Indic digits), zero-width (a zero-width space
 * between characters), nbsp (spaces → no-break spaces, hyphens → non-breaking hyphens), spelt-at (`@` → ` (at) `,
 * dots after it → ` [dot] `), look-alike (the first letter with a Cyrillic look-alike becomes it).
 */
import { readFileSync } from 'node:fs';

interface Span {
  start: number;
  end: number;
  type: string;
  [key: string]: unknown;
}
interface Row {
  text: string;
  spans: Span[];
  [key: string]: unknown;
}

/** Types whose values are disguised: the structured pii types and every secret type (PERSON, places and dates stay). */
const LEFT_ALONE = new Set(['PERSON', 'LOCATION', 'ORGANIZATION', 'NRP', 'TITLE', 'AGE', 'DATE_TIME']);
const CYRILLIC: Record<string, string> = { a: 'а', c: 'с', e: 'е', o: 'о', p: 'р', s: 'ѕ', x: 'х', y: 'у', A: 'А', B: 'В', C: 'С', E: 'Е', H: 'Н', K: 'К', M: 'М', O: 'О', P: 'Р', T: 'Т', X: 'Х' };

const VARIANTS: Record<string, (value: string, type: string) => string> = {
  'full-width': (v) => v.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)),
  'arabic-digits': (v) => v.replace(/\d/g, (d) => String.fromCharCode(0x660 + Number(d))),
  'zero-width': (v) => [...v].join('\u200B'),
  nbsp: (v) => v.replace(/ /g, '\u00A0').replace(/-/g, '\u2011'),
  'spelt-at': (v, type) => {
    if (type !== 'EMAIL_ADDRESS') return v;
    const at = v.indexOf('@');
    return at < 0 ? v : `${v.slice(0, at)} (at) ${v.slice(at + 1).replace(/\./g, ' [dot] ')}`;
  },
  'look-alike': (v) => {
    const i = [...v].findIndex((c) => CYRILLIC[c] !== undefined);
    return i < 0 ? v : [...v].map((c, k) => (k === i ? CYRILLIC[c] : c)).join('');
  },
};

function disguise(row: Row, change: (value: string, type: string) => string): Row {
  const spans = [...row.spans].sort((a, b) => a.start - b.start);
  let text = '';
  let from = 0;
  const moved: Span[] = [];
  for (const span of spans) {
    if (span.start < from) return row; // overlapping labels: leave the row as it is
    text += row.text.slice(from, span.start);
    const value = row.text.slice(span.start, span.end);
    const out = LEFT_ALONE.has(span.type) ? value : change(value, span.type);
    moved.push({ ...span, start: text.length, end: text.length + out.length });
    text += out;
    from = span.end;
  }
  text += row.text.slice(from);
  return { ...row, text, spans: moved };
}

const [variant, file] = process.argv.slice(2);
const change = VARIANTS[variant ?? ''];
if (change === undefined || file === undefined) {
  process.stderr.write(`usage: npx tsx scripts/disguise-spans.ts <${Object.keys(VARIANTS).join('|')}> <in.jsonl>\n`);
  process.exit(2);
}
for (const line of readFileSync(file, 'utf8').split('\n')) {
  if (line.trim() === '') continue;
  process.stdout.write(`${JSON.stringify(disguise(JSON.parse(line) as Row, change))}\n`);
}
