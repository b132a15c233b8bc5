/**
 * Bench rows: guardrail time per KB on 1 KB and on 256 KB texts of the same shape, and their ratio. Linear work keeps
 * the time per KB flat (ratio about 1, below 1 when a fixed per-call cost dominates the small text); a scan that is
 * quadratic in the length of a run multiplies it by up to 256. Shapes: prose, and the adversarial runs of issue 16.
 */
import { randomBytes } from 'node:crypto';
import { BUILTIN_GUARDRAILS } from '../../dist/core/guardrails/registry.js';

const SMALL = 1024;
const BIG = 256 * 1024;
/** A per-KB ratio above this is reported as a failure: linear work stays near 1. */
const MAX_RATIO = 8;

const repeat = (unit) => (n, salt) => `${salt} ${unit.repeat(Math.ceil(n / unit.length))}`.slice(0, n);
const SHAPES = {
  prose: repeat('Please ask Mary Jones in London to call me on Friday about invoice 4411. '),
  'A.A.A.': repeat('A.'),
  'no separators': repeat('a'),
  'digit groups': repeat('1 '),
  base64: (n) => randomBytes(n).toString('base64').slice(0, n),
  'data: URL': (n) => `data:image/png;base64,${randomBytes(n).toString('base64')}`.slice(0, n),
};

/** Best per-KB time over `rounds`, each round running `count` fresh texts of `size` characters. */
function perKb(guardrail, make, size, count, rounds) {
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    const texts = Array.from({ length: count }, (_, i) => make(size, r * count + i));
    const started = performance.now();
    for (const text of texts) guardrail.detect(text);
    best = Math.min(best, (performance.now() - started) / count / (size / 1024));
  }
  return best;
}

export function benchScaling(log, failures) {
  const rows = [];
  for (const name of ['pii', 'secrets', 'injection', 'moderation']) {
    const guardrail = BUILTIN_GUARDRAILS.get(name).create({});
    for (const [shape, make] of Object.entries(SHAPES)) {
      log(`  scaling: ${name}, ${shape}…`);
      perKb(guardrail, make, SMALL, 50, 1); // warm-up
      const small = perKb(guardrail, make, SMALL, 200, 3);
      const big = perKb(guardrail, make, BIG, 1, 3);
      const ratio = big / small;
      if (ratio > MAX_RATIO) failures.push(`guardrail ${name} on ${shape}: ${ratio.toFixed(1)}× the time per KB at 256 KB as at 1 KB`);
      rows.push(`| ${name} | ${shape} | ${small.toFixed(3)} | ${big.toFixed(3)} | ${ratio.toFixed(2)}× |`);
    }
  }
  return [
    '### Time per KB at 1 KB and at 256 KB',
    '',
    '| guardrail | text | ms/KB at 1 KB | ms/KB at 256 KB | ratio |',
    '| --- | --- | ---: | ---: | ---: |',
    ...rows,
    '',
    `Best of three rounds (200 texts of 1 KB, one of 256 KB per round), every text new to the guardrail. Linear work keeps the ratio near 1; above ${MAX_RATIO}× the section fails.`,
  ].join('\n');
}
