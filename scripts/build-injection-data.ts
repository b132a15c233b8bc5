/**
 * Rebuilds data/training/injection-public.jsonl.gz, the public rows (beyond the shared dev set) that
 * scripts/train-injection.ts trains on, from clones of their repositories at pinned commits:
 *
 *   git clone <proventra/proventra-core>  $DIR/proventra+proventra-core/repo
 *   git clone <cyberark/FuzzyAI>          $DIR/cyberark+FuzzyAI/repo
 *   INJECTION_SOURCES=$DIR npx tsx scripts/build-injection-data.ts
 *   (or: npx tsx scripts/build-injection-data.ts <proventra-core clone> <FuzzyAI clone>)
 *
 * Each source is read with `git show <commit>:<path>`, so the clone may be at any commit that contains the pinned one.
 * Rows: { text, label: "injection" | "benign", source, context: "message" | "data" }. Deterministic (same commits, same
 * bytes). The sources, licences and row counts are listed in models/SOURCES.md.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = resolve(ROOT, 'data/training/injection-public.jsonl.gz');

export const PUBLIC_SOURCES = {
  proventra: {
    repo: 'proventra/proventra-core',
    commit: '5f7a2f60880f19bed10f9721e2b109aeff149879',
    path: 'benchmark/data/test_data.py',
    licence: 'MIT',
  },
  fuzzyai: {
    repo: 'cyberark/FuzzyAI',
    commit: 'a81260f5eb16a361155a235d44e64684e5f5bc85',
    path: 'src/fuzzyai/resources/benign_prompts.txt',
    licence: 'Apache-2.0',
  },
} as const;

interface Row {
  text: string;
  label: 'injection' | 'benign';
  source: string;
  context: 'message' | 'data';
}

function show(clone: string, commit: string, path: string): string {
  return execFileSync('git', ['-C', clone, 'show', `${commit}:${path}`], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '\n': '' };

/** One Python string literal ('…', "…", '''…''', """…""", with the usual escapes) starting at `at`: its value and end. */
function pythonString(src: string, at: number): { value: string; end: number } {
  const quote = src.startsWith('"""', at) ? '"""' : src.startsWith("'''", at) ? "'''" : src[at];
  if (quote !== '"' && quote !== "'" && quote !== '"""' && quote !== "'''") throw new Error(`no string literal at offset ${at}`);
  let i = at + quote.length;
  let value = '';
  while (!src.startsWith(quote, i)) {
    if (i >= src.length) throw new Error(`unterminated string literal at offset ${at}`);
    const ch = src[i];
    if (ch !== '\\') {
      value += ch;
      i++;
      continue;
    }
    const next = src[i + 1];
    if (next === 'u' || next === 'x') {
      const width = next === 'u' ? 4 : 2;
      value += String.fromCharCode(parseInt(src.slice(i + 2, i + 2 + width), 16));
      i += 2 + width;
    } else {
      value += ESCAPES[next] ?? `\\${next}`;
      i += 2;
    }
  }
  return { value, end: i + quote.length };
}

/** Categories of proventra rows that are pages, UI dumps or documents an agent reads rather than requests. */
const PROVENTRA_DATA_CATEGORIES = new Set(['web_attacks', 'ui_attacks', 'hidden_attacks', 'data_attacks', 'web_content', 'ui_elements', 'content_formats']);

/** proventra's benchmark rows: each `{"text": <literal>, "is_attack": True|False, "category": "…", …}` of test_data.py. */
function proventraRows(clone: string): Row[] {
  const { commit, path, repo } = PUBLIC_SOURCES.proventra;
  const src = show(clone, commit, path);
  const rows: Row[] = [];
  for (const match of src.matchAll(/"text":\s*/g)) {
    const { value, end } = pythonString(src, match.index + match[0].length);
    const rest = src.slice(end, src.indexOf('}', end));
    const attack = /"is_attack":\s*(True|False)/.exec(rest)?.[1];
    const category = /"category":\s*"([^"]+)"/.exec(rest)?.[1] ?? '';
    if (attack === undefined) throw new Error(`${repo}:${path}: a row without is_attack near offset ${match.index}`);
    rows.push({
      text: value,
      label: attack === 'True' ? 'injection' : 'benign',
      source: `${repo}:${path}`,
      context: PROVENTRA_DATA_CATEGORIES.has(category) ? 'data' : 'message',
    });
  }
  return rows;
}

/** FuzzyAI's benign prompts (everyday questions), one a line, duplicates dropped. */
function fuzzyAiRows(clone: string): Row[] {
  const { commit, path, repo } = PUBLIC_SOURCES.fuzzyai;
  const lines = show(clone, commit, path).split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return [...new Set(lines)].map((text) => ({ text, label: 'benign' as const, source: `${repo}:${path}`, context: 'message' as const }));
}

function main(): void {
  const dir = process.env.INJECTION_SOURCES;
  const [proventra, fuzzyai] = process.argv.length > 2 ? process.argv.slice(2) : dir ? [resolve(dir, 'proventra+proventra-core/repo'), resolve(dir, 'cyberark+FuzzyAI/repo')] : [];
  if (!proventra || !fuzzyai) {
    console.error('usage: INJECTION_SOURCES=<dir> npx tsx scripts/build-injection-data.ts, or pass the proventra-core and FuzzyAI clones');
    process.exit(2);
  }
  const rows = [...proventraRows(proventra), ...fuzzyAiRows(fuzzyai)];
  const jsonl = `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;
  // mtime 0 and no name in the gzip header: the same rows always give the same bytes.
  writeFileSync(OUT, gzipSync(Buffer.from(jsonl, 'utf8'), { level: 9 }));
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(`${r.source} ${r.label}`, (counts.get(`${r.source} ${r.label}`) ?? 0) + 1);
  for (const [key, n] of counts) console.log(`${n}\t${key}`);
  console.log(`wrote ${OUT} (${rows.length} rows)`);
}

main();
