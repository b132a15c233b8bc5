import { describe, expect, it } from 'vitest';
import { pollUntil, sleep } from '../src/core/poll.js';

describe('pollUntil', () => {
  it('returns the first value a try gives, trying again after each undefined', async () => {
    let calls = 0;
    const outcome = await pollUntil(() => (++calls === 3 ? `ready after ${calls}` : undefined), { intervalMs: 1 });
    expect(outcome).toEqual({ status: 'done', value: 'ready after 3' });
    expect(calls).toBe(3);
  });

  it('takes falsy values other than undefined as an answer', async () => {
    expect(await pollUntil(() => 0, { intervalMs: 1 })).toEqual({ status: 'done', value: 0 });
    expect(await pollUntil(async () => false, { intervalMs: 1 })).toEqual({ status: 'done', value: false });
  });

  it('gives up at the bound after a last try there', async () => {
    let calls = 0;
    const outcome = await pollUntil(() => {
      calls++;
      return undefined;
    }, { intervalMs: 5, timeoutMs: 20 });
    expect(outcome).toEqual({ status: 'timeout' });
    expect(calls).toBeGreaterThanOrEqual(2);
  });

  it('tries once with no time to wait', async () => {
    let calls = 0;
    expect(await pollUntil(() => void calls++, { intervalMs: 1000, timeoutMs: 0 })).toEqual({ status: 'timeout' });
    expect(calls).toBe(1);
  });

  it('stops when the signal aborts, cutting an hour-long wait short', async () => {
    const controller = new AbortController();
    let calls = 0;
    const outcome = await pollUntil(() => {
      calls++;
      queueMicrotask(() => controller.abort());
      return undefined;
    }, { intervalMs: 3_600_000, signal: controller.signal });
    expect(outcome).toEqual({ status: 'aborted' });
    expect(calls).toBe(1);
  });

  it('does not start when the signal has already aborted', async () => {
    let calls = 0;
    expect(await pollUntil(() => void calls++, { intervalMs: 1, signal: AbortSignal.abort() })).toEqual({ status: 'aborted' });
    expect(calls).toBe(0);
  });

  it('ends with the error a try throws', async () => {
    await expect(pollUntil(() => Promise.reject(new Error('approval apr_1 does not exist')), { intervalMs: 1 })).rejects.toThrow('approval apr_1 does not exist');
  });
});

describe('sleep', () => {
  it('resolves when the signal aborts instead of rejecting', async () => {
    const controller = new AbortController();
    const slept = sleep(3_600_000, controller.signal);
    controller.abort();
    await expect(slept).resolves.toBeUndefined();
    await expect(sleep(3_600_000, AbortSignal.abort())).resolves.toBeUndefined();
  });
});
