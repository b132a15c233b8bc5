import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AgentGuardError } from '../../errors.js';
import type { NormalizeOptions } from '../text/normalize.js';
import { countFeatures, FeatureCounter, type FeatureOptions } from './features.js';
import { sigmoid } from './train.js';

/** A shipped linear model: one logistic regression per label over hashed n-gram features. */
export interface LinearModelFile {
  version: 1;
  features: FeatureOptions;
  /** Opt-in normalisation the model was trained with (absent: the default normalisation). */
  normalize?: NormalizeOptions;
  labels: string[];
  bias: Record<string, number>;
  /** label -> sparse {index: weight}, rounded to 4 decimals, near-zero weights dropped. */
  weights: Record<string, Record<string, number>>;
  thresholds: Record<string, number>;
  /** Data sources the weights were trained on (licence audit). */
  trainedOn: string[];
  metrics?: Record<string, unknown>;
}

/** Rounds to 4 decimals and drops weights with |w| < minAbs, for writing a model file. */
export function sparseWeights(weights: Map<number, number>, minAbs = 1e-4): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [index, weight] of [...weights].sort((a, b) => a[0] - b[0])) {
    const rounded = Math.round(weight * 1e4) / 1e4;
    if (Math.abs(rounded) >= minAbs && rounded !== 0) out[String(index)] = rounded;
  }
  return out;
}

function corrupt(source: string, why: string): AgentGuardError {
  return new AgentGuardError('GUARDRAIL_MODEL_INVALID', `Guardrail model ${source} is corrupt: ${why}`, {
    actions: ['Reinstall agentguard, or rebuild the model with its training script under scripts/.'],
  });
}

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const isIntArray = (value: unknown): value is number[] =>
  Array.isArray(value) && value.every((n) => Number.isInteger(n) && n >= 1 && n <= 16);

/** Checks the shape of a parsed model file; throws GUARDRAIL_MODEL_INVALID naming the first problem. */
export function validateModelFile(data: unknown, source: string): LinearModelFile {
  if (typeof data !== 'object' || data === null) throw corrupt(source, 'not a JSON object');
  const file = data as Partial<LinearModelFile>;
  if (file.version !== 1) throw corrupt(source, `unsupported version ${String(file.version)}`);
  const f = file.features;
  if (!f || !isIntArray(f.wordNgrams) || !isIntArray(f.charNgrams) || !Number.isInteger(f.buckets) || f.buckets < 1) {
    throw corrupt(source, 'bad "features" options');
  }
  if (f.cjkNgrams !== undefined && !isIntArray(f.cjkNgrams)) throw corrupt(source, 'bad "features.cjkNgrams"');
  const n = file.normalize;
  if (n !== undefined && (typeof n !== 'object' || n === null || (n.keepScripts !== undefined && typeof n.keepScripts !== 'boolean'))) {
    throw corrupt(source, 'bad "normalize" options');
  }
  if (!Array.isArray(file.labels) || file.labels.length === 0 || !file.labels.every((l) => typeof l === 'string')) {
    throw corrupt(source, 'bad "labels"');
  }
  if (!Array.isArray(file.trainedOn)) throw corrupt(source, 'missing "trainedOn"');
  for (const label of file.labels) {
    if (!isNumber(file.bias?.[label])) throw corrupt(source, `missing bias for "${label}"`);
    if (!isNumber(file.thresholds?.[label])) throw corrupt(source, `missing threshold for "${label}"`);
    const weights = file.weights?.[label];
    if (typeof weights !== 'object' || weights === null) throw corrupt(source, `missing weights for "${label}"`);
    for (const [key, weight] of Object.entries(weights)) {
      const index = Number(key);
      if (!Number.isInteger(index) || index < 0 || index >= f.buckets || !isNumber(weight)) {
        throw corrupt(source, `bad weight entry in "${label}"`);
      }
    }
  }
  return file as LinearModelFile;
}

interface Compiled {
  file: LinearModelFile;
  /**
   * Every label's weights interleaved: slot `index * labels + k` holds label k's weight of feature `index`, so scoring a
   * feature reads one cache line for all labels instead of one line per label's table.
   */
  weights: Float32Array;
  bias: Float64Array;
  part: FeatureCounter;
  pooled: FeatureCounter;
}

export class LinearModel {
  private compiled: Compiled | undefined;

  private constructor(
    private readonly source: string,
    private readonly read: () => unknown,
  ) {}

  /** A model read from `url` on first use; missing or corrupt files throw AgentGuardError then. */
  static load(url: URL): LinearModel {
    const path = fileURLToPath(url);
    return new LinearModel(path, () => {
      let raw: string;
      try {
        raw = readFileSync(url, 'utf8');
      } catch (error) {
        throw new AgentGuardError('GUARDRAIL_MODEL_MISSING', `Cannot read guardrail model ${path}`, {
          actions: ['Reinstall agentguard; the model files ship under models/ in the package.'],
          cause: error,
        });
      }
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        throw corrupt(path, 'not valid JSON');
      }
    });
  }

  /** A model from an in-memory file object (training scripts, tests). */
  static fromFile(file: LinearModelFile, source = '<memory>'): LinearModel {
    return new LinearModel(source, () => file);
  }

  /** Parses and checks the model now instead of on first score; returns the file. */
  ensureLoaded(): LinearModelFile {
    return this.compile().file;
  }

  get labels(): readonly string[] {
    return this.compile().file.labels;
  }

  get thresholds(): Readonly<Record<string, number>> {
    return this.compile().file.thresholds;
  }

  get features(): FeatureOptions {
    return this.compile().file.features;
  }

  /** The normalisation options texts must be prepared with for this model. */
  get normalizeOptions(): NormalizeOptions {
    return this.compile().file.normalize ?? {};
  }

  /** Probability per label (sigmoid of the linear score) for already-normalised text. */
  scores(text: string): Record<string, number> {
    const { file, part } = this.compile();
    try {
      countFeatures(text, file.features, part);
      return this.scoreCounter(part);
    } finally {
      part.reset();
    }
  }

  /**
   * Scores each of `parts` and the whole text with one pass of n-gram hashing: the whole is the
   * pool of the parts' n-grams (see `extractPooledFeatures`).
   */
  scoresOfParts(parts: readonly string[]): { whole: Record<string, number>; parts: Array<Record<string, number>> } {
    const { part, pooled } = this.compile();
    const out: Array<Record<string, number>> = [];
    try {
      for (const text of parts) {
        countFeatures(text, this.features, part);
        out.push(this.scoreCounter(part));
        pooled.addAll(part);
        part.reset();
      }
      return { whole: this.scoreCounter(pooled), parts: out };
    } finally {
      part.reset();
      pooled.reset();
    }
  }

  /**
   * The features of `counter` scored in one pass: the same sub-linear, L2-normalised weights as
   * `visitFeatures`, but the norm is applied once to each label's dot product instead of to
   * every feature, so each touched slot is read once.
   */
  private scoreCounter(counter: FeatureCounter): Record<string, number> {
    const { file, weights, bias } = this.compile();
    const { counts, touched } = counter;
    const labels = bias.length;
    const dot = new Float64Array(labels);
    let norm = 0;
    for (let i = 0; i < touched.length; i++) {
      const index = touched[i];
      const count = counts[index];
      const weight = count === 1 ? 1 : 1 + Math.log(count);
      norm += weight * weight;
      const row = index * labels;
      for (let k = 0; k < labels; k++) dot[k] += weights[row + k] * weight;
    }
    const scale = norm === 0 ? 0 : 1 / Math.sqrt(norm);
    const out: Record<string, number> = {};
    for (let k = 0; k < labels; k++) out[file.labels[k]] = sigmoid(bias[k] + dot[k] * scale);
    return out;
  }

  /** Same as `scores` for features the caller already extracted with this model's options. */
  scoresFromFeatures(x: Map<number, number>): Record<string, number> {
    const { file, weights, bias } = this.compile();
    const labels = bias.length;
    const out: Record<string, number> = {};
    for (let k = 0; k < labels; k++) {
      let z = bias[k];
      for (const [index, value] of x) z += weights[index * labels + k] * value;
      out[file.labels[k]] = sigmoid(z);
    }
    return out;
  }

  private compile(): Compiled {
    if (this.compiled) return this.compiled;
    const file = validateModelFile(this.read(), this.source);
    const labels = file.labels.length;
    const weights = new Float32Array(file.features.buckets * labels);
    file.labels.forEach((label, k) => {
      for (const [key, weight] of Object.entries(file.weights[label])) weights[Number(key) * labels + k] = weight;
    });
    const bias = Float64Array.from(file.labels, (label) => file.bias[label]);
    const part = new FeatureCounter(file.features.buckets);
    const pooled = new FeatureCounter(file.features.buckets);
    this.compiled = { file, weights, bias, part, pooled };
    return this.compiled;
  }
}
