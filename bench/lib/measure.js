/**
 * Latency measurement shared by the bench sections.
 *
 * Method: after a time-boxed warm-up (so V8 has optimised both the engine and the loop), every call is timed on its own
 * with `process.hrtime.bigint()` read immediately before and after it. Timing single calls rather than batches keeps the
 * real distribution, so p99 shows the slow calls (GC pauses, cache misses) that a batch average would smooth away.
 * The cost of the two clock reads is included in every sample for every engine alike and is not subtracted; it is
 * measured by `timerFloorNs()` and printed next to the results, so readers can see how much of a small number it is.
 * Inputs rotate through a pre-built list, so consecutive calls see different requests, as in real traffic. Each one
 * is first rebuilt by `prepare` (for example JSON.parse of its text) outside the timed region: a real request is
 * freshly parsed or built just before it is decided, so it is in the CPU cache, whereas re-reading thousands of stored
 * objects would mostly time cache misses on the bench's own data.
 */

const clock = process.hrtime.bigint;

/**
 * Times `fn(prepare(input))` per call, timing only `fn`. Runs until `durationMs` has passed (at least `minSamples`, at
 * most `maxSamples` calls). `fn` must return a number, folded into a sink so the work cannot be optimised away.
 */
export function measureLatency(fn, inputs, { prepare = (x) => x, warmupMs = 300, durationMs = 2000, minSamples = 200, maxSamples = 200_000 } = {}) {
  const n = inputs.length;
  let sink = 0;
  let i = 0;
  const warmupEnd = clock() + BigInt(Math.round(warmupMs * 1e6));
  while (clock() < warmupEnd) {
    for (let k = 0; k < 16; k++) sink += fn(prepare(inputs[i++ % n]));
  }

  const samples = new Float64Array(maxSamples);
  let count = 0;
  const deadline = clock() + BigInt(Math.round(durationMs * 1e6));
  let t1 = 0n;
  while (count < maxSamples && (count < minSamples || t1 < deadline)) {
    const input = prepare(inputs[i++ % n]);
    const t0 = clock();
    sink += fn(input);
    t1 = clock();
    samples[count++] = Number(t1 - t0);
  }
  return { ...summarize(samples.subarray(0, count)), sink };
}

/** p50, p99 and mean, in microseconds, of samples in nanoseconds. */
export function summarize(samplesNs) {
  const sorted = Float64Array.from(samplesNs).sort();
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] / 1000;
  let total = 0;
  for (const s of sorted) total += s;
  return { samples: sorted.length, p50: at(0.5), p99: at(0.99), mean: total / sorted.length / 1000 };
}

/** The median cost in nanoseconds of the two clock reads that wrap each timed call. */
export function timerFloorNs(rounds = 100_000) {
  const samples = new Float64Array(rounds);
  for (let r = 0; r < rounds; r++) {
    const t0 = clock();
    samples[r] = Number(clock() - t0);
  }
  return summarize(samples).p50 * 1000;
}
