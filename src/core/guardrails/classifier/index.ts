export { extractFeatures, type FeatureOptions } from './features.js';
export { trainLogistic, sigmoid, type TrainOptions } from './train.js';
export { LinearModel, sparseWeights, validateModelFile, type LinearModelFile } from './linear-model.js';
export { seededRandom, shuffled } from './random.js';
