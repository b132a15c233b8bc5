import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { features, hashFeature, HashedText, MAX_FEATURES, prepare, TAG_FEATURES, TAG_FEATURES_AT, TAGS, TagHashes, tokenize } from '../src/core/guardrails/pii/ner-features.js';
import { NerTagger, type NerModelFile } from '../src/core/guardrails/pii/ner-model.js';

// The runtime tagger avoids strings, regexes and branches; these tests hold it to the plain
// definitions: the token regex, `features()` and a string-keyed weight map.

const TOKEN = /[\p{L}\p{M}\p{N}]+(?:['’][\p{L}]+)*|\S/gu;

/** Text that hits the tokenizer's and shape's edge cases: apostrophes, marks, astral letters, Unicode spaces. */
const tricky = fc.string({
  unit: fc.constantFrom('a', 'Z', 'x', '7', ' ', '\n', '\t', '\v', '\u00a0', '\u2028', '\ufeff', "'", '’', '@', '#', '.', '-', 'é', 'İ', 'Σ', 'ß', 'ǅ', '\u0301', '٣', '𝐀', '😀', '\ud800', 'K'),
  maxLength: 40,
});
const anyText = fc.oneof(tricky, fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ maxLength: 40 }));

const model = JSON.parse(readFileSync(new URL('../models/pii-ner.json', import.meta.url), 'utf8')) as NerModelFile;

/** The tagger written plainly, from feature strings (what scripts/train-pii-ner.ts scores with). */
function referenceTag(text: string): { type: string; start: number; end: number; score: number }[] {
  const { tokens, lower, shapes } = prepare(text);
  const out: { type: string; start: number; end: number; score: number }[] = [];
  let prev = 'O';
  let prev2 = 'O';
  for (let i = 0; i < tokens.length; i++) {
    const scores = [0, 0, 0, 0];
    for (const f of features(tokens, lower, shapes, text, i, prev, prev2)) {
      const w = model.weights[f];
      if (w !== undefined) for (let t = 0; t < 4; t++) scores[t] += w[t];
    }
    let best = 0;
    for (let t = 1; t < 4; t++) if (scores[t] > scores[best]) best = t;
    let runnerUp = -Infinity;
    for (let t = 0; t < 4; t++) if (t !== best && scores[t] > runnerUp) runnerUp = scores[t];
    const tag = TAGS[best];
    if (tag !== 'O') {
      const score = 1 / (1 + Math.exp(-model.scale * (scores[best] - runnerUp)));
      const last = out[out.length - 1];
      if (prev === tag && last !== undefined && last.type === tag && !text.slice(last.end, tokens[i].start).includes('\n')) {
        last.end = tokens[i].end;
        last.score = Math.min(last.score, score);
      } else out.push({ type: tag, start: tokens[i].start, end: tokens[i].end, score });
    }
    prev2 = prev;
    prev = tag;
  }
  return out;
}

describe('ner tagger fast paths', () => {
  it('tokenizes exactly as the token regex', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const expected = [...text.matchAll(TOKEN)].map((m) => ({ start: m.index, end: m.index + m[0].length, text: m[0] }));
        expect(tokenize(text)).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('hashes the features of every token as features() names them, for every pair of previous tags', () => {
    const tags = new TagHashes(TAGS);
    const doc = new HashedText();
    const out = new Int32Array(MAX_FEATURES);
    fc.assert(
      fc.property(anyText, fc.nat(TAGS.length - 1), fc.nat(TAGS.length - 1), (body, prev, prev2) => {
        const text = `@${body} #Zürich. Mr McDonald 2020`;
        const { tokens, lower, shapes } = prepare(text);
        doc.load(text);
        expect(doc.count).toBe(tokens.length);
        for (let i = 0; i < tokens.length; i++) {
          const n = doc.hashes(i, prev, prev2, tags, out);
          expect(Array.from(out.subarray(0, n))).toEqual(features(tokens, lower, shapes, text, i, TAGS[prev], TAGS[prev2]).map(hashFeature));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('marks the tag features where the tagger expects them', () => {
    const { tokens, lower, shapes } = prepare('Mr Smith');
    const names = features(tokens, lower, shapes, 'Mr Smith', 1, 'PERSON', 'O').slice(TAG_FEATURES_AT, TAG_FEATURES_AT + TAG_FEATURES);
    expect(names).toEqual(['t1=PERSON', 't12=O|PERSON', 't1s=PERSON|Xx']);
  });

  it('tags exactly as the plain string-keyed tagger, scores included', () => {
    const tagger = new NerTagger(model);
    const texts = ['John Smith flew from London to Paris.\nMaria Gonzalez stayed in Barcelona.', '', ' \n ', '@alice and #Zürich', 'Dr. Anna Müller, İstanbul'];
    for (const text of texts) expect(tagger.tag(text)).toEqual(referenceTag(text));
    fc.assert(
      fc.property(fc.array(fc.oneof(anyText, fc.constantFrom('John Smith', 'in London', 'Mr McDonald', 'Paris', '\n', '. ')), { maxLength: 8 }), (parts) => {
        const text = parts.join(' ');
        expect(tagger.tag(text)).toEqual(referenceTag(text));
      }),
      { numRuns: 300 },
    );
  });

  it('finds zero weights for features the model lacks', () => {
    const tiny = new NerTagger({ version: 1, tags: TAGS, weights: { 'w=alice': [0, 2, 0, 0], b: [1, 0, 0, 0] }, scale: 1, trainedOn: [] });
    expect(tiny.tag('bob alice carol')).toEqual([{ type: 'PERSON', start: 4, end: 9, score: 1 / (1 + Math.exp(-1)) }]);
  });
});
