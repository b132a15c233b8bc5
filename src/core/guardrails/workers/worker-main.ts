import { parentPort } from 'node:worker_threads';
import type { BatchRequest } from './protocol.js';
import { runBatch } from './run-batch.js';

// Entry point of a guardrail worker thread (see pool.ts): one batch at a time, answered in order.
parentPort?.on('message', (request: BatchRequest) => {
  parentPort!.postMessage(runBatch(request));
});
