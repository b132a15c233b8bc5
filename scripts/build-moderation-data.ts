/**
 * Rebuilds data/training/moderation-public.jsonl.gz: the rows of public, redistributable datasets that the moderation
 * model trains on besides the shared development rows. Each source is read from a git clone at a pinned commit
 * (`git show <commit>:<path>`), so the output is the same bytes on every machine.
 *
 *   git clone https://github.com/rewire-online/multilingual-hatecheck   $DIR/rewire-online+multilingual-hatecheck/repo
 *   git clone https://github.com/ai-forever/MERA                         $DIR/ai-forever+MERA/repo
 *   git clone https://github.com/inspection-ai/japanese-toxic-dataset    $DIR/inspection-ai+japanese-toxic-dataset/repo
 *   git clone https://github.com/amandacurry/convabuse                   $DIR/amandacurry+convabuse/repo
 *   MODERATION_SOURCES=$DIR npx tsx scripts/build-moderation-data.ts
 *
 * (`$DIR/<owner>/<name>` works too.) Row schema: the shared moderation schema ({text, labels, source}) plus `lang`.
 * Licences are recorded in models/SOURCES.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { seededRandom, shuffled } from '../src/core/guardrails/classifier/random.js';

const SOURCES_DIR = resolve(process.env.MODERATION_SOURCES ?? '/work/.mirror');
const OUT = resolve('data/training/moderation-public.jsonl.gz');
const SEED = 20_261_207;

export interface TrainingRow {
  text: string;
  labels: Record<string, 0 | 1>;
  source: string;
  lang: string;
}

function repoDir(repo: string): string {
  const [owner, name] = repo.split('/');
  for (const candidate of [join(SOURCES_DIR, `${owner}+${name}`, 'repo'), join(SOURCES_DIR, owner, name)]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`${repo}: no clone under ${SOURCES_DIR} (clone https://github.com/${repo} there, see the header of this script)`);
}

function gitShow(repo: string, commit: string, path: string): string {
  return execFileSync('git', ['-C', repoDir(repo), 'show', `${commit}:${path}`], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** RFC 4180 CSV (quoted fields, doubled quotes, newlines inside quotes) into objects keyed by the header row. */
function csv(text: string): Array<Record<string, string>> {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') record.push(field), (field = '');
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      record.push(field), (field = '');
      if (record.some((value) => value !== '')) records.push(record);
      record = [];
    } else field += c;
  }
  record.push(field);
  if (record.some((value) => value !== '')) records.push(record);
  const [header, ...rows] = records;
  return rows.map((row) => Object.fromEntries(header.map((key, k) => [key.replace(/^\uFEFF/, ''), row[k] ?? ''])));
}

// --- Multilingual HateCheck (Röttger et al. 2022), CC-BY-4.0 -------------------------------------------------------
const MHC = { repo: 'rewire-online/multilingual-hatecheck', commit: 'a03f2caf2023a402d85064bda243e46d280408f0' };
const MHC_LANGUAGES: Record<string, string> = { spanish: 'es', french: 'fr', german: 'de', portuguese: 'pt', mandarin: 'zh' };
const THREATS = new Set(['threat_dir_h', 'threat_norm_h']);
/** Non-hateful functionalities that are benign in every category (neutral or positive mentions of a group). */
const MHC_BENIGN = new Set(['ident_neutral_nh', 'ident_pos_nh', 'negate_neg_nh', 'counter_ref_nh']);

function mhcRows(): TrainingRow[] {
  const out: TrainingRow[] = [];
  for (const [language, lang] of Object.entries(MHC_LANGUAGES)) {
    const path = `MHC Final Cases/hatecheck_cases_final_${language}.csv`;
    const rows = csv(gitShow(MHC.repo, MHC.commit, path));
    // Every non-hateful case and as many hateful ones: two thirds of the cases are hateful, and a model trained on
    // that share learns that naming a group is hate.
    const mixed = shuffled(rows, seededRandom(SEED));
    const benign = mixed.filter((row) => row.label_gold !== 'hateful');
    const kept = [...benign, ...mixed.filter((row) => row.label_gold === 'hateful').slice(0, benign.length)];
    for (const row of kept) {
      const hateful = row.label_gold === 'hateful';
      const labels: Record<string, 0 | 1> = { hate: hateful ? 1 : 0 };
      if (THREATS.has(row.functionality)) labels.violence = 1;
      // Abuse aimed at one person is not hate but is harassment (OpenAI's categories).
      if (row.functionality === 'target_indiv_nh') labels.harassment = 1;
      if (MHC_BENIGN.has(row.functionality)) Object.assign(labels, { harassment: 0, violence: 0, sexual: 0, self_harm: 0 });
      out.push({ text: row.test_case.trim(), labels, source: `${MHC.repo}:${path}`, lang });
    }
  }
  return out;
}

// --- ruHateSpeech (MERA benchmark, ai-forever), MIT ------------------------------------------------------------------
const MERA = { repo: 'ai-forever/MERA', commit: '064baa6b62ddb677f4be2268d1fb3edb55855c97', path: 'humanbenchmarks/ruHateSpeech/data.csv' };
/** Target groups that are protected characteristics; toxic replies to "другое" (other) are insults, i.e. harassment. */
const PROTECTED_RU = new Set(['женщины', 'мужчины', 'национальность', 'лгбт', 'мигранты']);

function meraRows(): TrainingRow[] {
  const out: TrainingRow[] = [];
  for (const row of csv(gitShow(MERA.repo, MERA.commit, MERA.path))) {
    const toxic = row.outputs === '1' ? 1 : row.outputs === '2' ? 2 : 0;
    if (toxic === 0) continue;
    const source = `${MERA.repo}:${MERA.path}`;
    const bad = toxic === 1 ? row.reply_1 : row.reply_2;
    const good = toxic === 1 ? row.reply_2 : row.reply_1;
    const protectedGroup = PROTECTED_RU.has(row.target_group.trim());
    out.push({ text: bad.trim(), labels: protectedGroup ? { hate: 1 } : { hate: 0, harassment: 1 }, source, lang: 'ru' });
    out.push({ text: good.trim(), labels: { hate: 0, harassment: 0 }, source, lang: 'ru' });
  }
  return out;
}

// --- Japanese toxicity schema subset (Inspection AI), Apache-2.0 -----------------------------------------------------
const JA = { repo: 'inspection-ai/japanese-toxic-dataset', commit: 'e26fbd26b26e831f56e529c05a3f4f6cc5b697b0', path: 'data/subset.csv' };

function japaneseRows(): TrainingRow[] {
  const out: TrainingRow[] = [];
  for (const row of csv(gitShow(JA.repo, JA.commit, JA.path))) {
    const n = (key: string) => Number(row[key] ?? 0);
    const toxic = n('Toxic') + n('Very Toxic');
    const clean = n('Not Toxic');
    const source = `${JA.repo}:${JA.path}`;
    if (clean > toxic + n('Hard to Say')) {
      out.push({ text: row.text.trim(), labels: { hate: 0, harassment: 0, sexual: 0, violence: 0 }, source, lang: 'ja' });
    } else if (toxic > clean) {
      const labels: Record<string, 0 | 1> = { hate: n('category_差別') > 0 ? 1 : 0 };
      if (n('category_卑語') > 0 || n('category_迷惑行為') > 0) labels.harassment = 1;
      if (n('category_猥褻') > 0) labels.sexual = 1;
      out.push({ text: row.text.trim(), labels, source, lang: 'ja' });
    }
  }
  return out;
}

// --- ConvAbuse (Cercas Curry et al. 2021): users abusing conversational agents, CC-BY-4.0 ---------------------------
const CONVABUSE = { repo: 'amandacurry/convabuse', commit: 'c0a9469f48956e868276c605d499010ea3c7c0d0' };
const CONVABUSE_SPLITS = ['2_splits/ConvAbuseEMNLPtrain.csv', '2_splits/ConvAbuseEMNLPvalid.csv', '2_splits/ConvAbuseEMNLPtest.csv'];
/** Abuse types that attack a protected characteristic (hate); the others (intellectual, sexual harassment) are harassment. */
const CONVABUSE_HATE_TYPES = ['ableist', 'homophobic', 'racist', 'sexist', 'transphobic'];

function convAbuseRows(): TrainingRow[] {
  const out: TrainingRow[] = [];
  for (const path of CONVABUSE_SPLITS) {
    for (const row of csv(gitShow(CONVABUSE.repo, CONVABUSE.commit, path))) {
      let abusive = 0;
      let clean = 0;
      let hateVotes = 0;
      for (let k = 1; k <= 8; k++) {
        const vote = (field: string) => row[`Annotator${k}_${field}`];
        if (vote('is_abuse.1') === undefined || vote('is_abuse.1') === '') continue;
        if (vote('is_abuse.1') === '1') clean++;
        else if (vote('is_abuse.-1') === '1' || vote('is_abuse.-2') === '1' || vote('is_abuse.-3') === '1') {
          abusive++;
          if (CONVABUSE_HATE_TYPES.some((type) => vote(type) === '1')) hateVotes++;
        }
      }
      const text = row.user.trim();
      const source = `${CONVABUSE.repo}:${path}`;
      // Majority of the annotators who saw the utterance; ambiguous or tied rows are left out.
      if (abusive > clean) out.push({ text, labels: hateVotes * 2 > abusive ? { hate: 1, harassment: 1 } : { hate: 0, harassment: 1 }, source, lang: 'en' });
      // Not abuse says nothing about self-harm or violence ("i am going to kill myself tonight" is not abusive).
      else if (clean > abusive && abusive === 0) out.push({ text, labels: { hate: 0, harassment: 0 }, source, lang: 'en' });
    }
  }
  return out;
}

function main(): void {
  const parts = { mhc: mhcRows(), mera: meraRows(), japanese: japaneseRows(), convabuse: convAbuseRows() };
  const seen = new Set<string>();
  const rows = Object.values(parts)
    .flat()
    .filter((row) => row.text !== '' && !seen.has(row.text) && seen.add(row.text));
  mkdirSync(dirname(OUT), { recursive: true });
  const body = rows.map((row) => JSON.stringify(row)).join('\n') + '\n';
  writeFileSync(OUT, gzipSync(body, { level: 9 }));
  const bySource = new Map<string, { rows: number; positives: Record<string, number> }>();
  for (const row of rows) {
    const entry = bySource.get(row.source) ?? { rows: 0, positives: {} };
    entry.rows++;
    for (const [key, value] of Object.entries(row.labels)) if (value === 1) entry.positives[key] = (entry.positives[key] ?? 0) + 1;
    bySource.set(row.source, entry);
  }
  for (const [source, entry] of bySource) console.log(`${source}: ${entry.rows} rows, positives ${JSON.stringify(entry.positives)}`);
  console.log(`wrote ${OUT}: ${rows.length} rows`);
}

main();
