import { seededRandom, shuffled } from './random.js';

export interface TrainOptions {
  epochs: number;
  learningRate: number;
  /** L2 penalty (lambda) per example. */
  l2: number;
  seed: number;
  /** Multiplies the loss gradient of positive rows (class imbalance); 1 when absent. */
  positiveWeight?: number;
}

export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/**
 * Binary logistic regression by stochastic gradient descent with L2 regularisation.
 * The weight vector is kept as `scale * v` so the L2 shrink is O(1) per step while staying
 * exact; the learning rate decays as lr / (1 + lr * l2 * t). Deterministic for a given seed
 * and row order.
 */
export function trainLogistic(
  rows: Array<{ x: Map<number, number>; y: 0 | 1 }>,
  options: TrainOptions,
): { weights: Map<number, number>; bias: number } {
  const { epochs, learningRate, l2, seed } = options;
  const positiveWeight = options.positiveWeight ?? 1;
  let size = 0;
  for (const row of rows) for (const index of row.x.keys()) if (index >= size) size = index + 1;
  const v = new Float64Array(size);
  let scale = 1;
  let bias = 0;
  let step = 0;
  const random = seededRandom(seed);
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (const row of shuffled(rows, random)) {
      const rate = learningRate / (1 + learningRate * l2 * step);
      step++;
      let z = bias;
      for (const [index, value] of row.x) z += v[index] * scale * value;
      const gradient = (sigmoid(z) - row.y) * (row.y === 1 ? positiveWeight : 1);
      scale *= 1 - rate * l2;
      if (scale < 1e-9) {
        for (let i = 0; i < size; i++) v[i] *= scale;
        scale = 1;
      }
      const update = (rate * gradient) / scale;
      for (const [index, value] of row.x) v[index] -= update * value;
      bias -= rate * gradient;
    }
  }
  const weights = new Map<number, number>();
  for (let i = 0; i < size; i++) {
    const weight = v[i] * scale;
    if (weight !== 0) weights.set(i, weight);
  }
  return { weights, bias };
}
