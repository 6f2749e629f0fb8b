// The worker protocol's shared helpers: the preference probability is σ(rA − rB) and stays finite for rewards in
// the hundreds, every request type is routed to a worker and an area, and thrown errors become events with a fix.
import { describe, expect, it } from 'vitest';
import { errorEvent, pairScore, preferenceProbability, REQUEST_AREA, REQUEST_WORKER, transferablesOf } from '../../src/worker/protocol.ts';

describe('preferenceProbability', () => {
  it('is the logistic of the reward difference', () => {
    for (const [a, b] of [[0, 0], [1, 0], [0, 1], [2.5, -1.25], [-3, 4]]) {
      expect(preferenceProbability(a, b)).toBeCloseTo(1 / (1 + Math.exp(-(a - b))), 14);
    }
    expect(preferenceProbability(0, 0)).toBe(0.5);
  });
  it('is finite, in [0, 1] and antisymmetric for |r| in the hundreds', () => {
    for (const [a, b] of [[500, -500], [-500, 500], [800, 0], [-800, 0], [300, 299]]) {
      const p = preferenceProbability(a, b);
      expect(Number.isFinite(p)).toBe(true);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThanOrEqual(1);
      expect(p + preferenceProbability(b, a)).toBeCloseTo(1, 12);
    }
    expect(preferenceProbability(300, 299)).toBeCloseTo(1 / (1 + Math.exp(-1)), 12);
  });
  it('pairScore carries both rewards, the margin and P(A ≻ B)', () => {
    expect(pairScore(1.5, -0.5)).toEqual({ rewardA: 1.5, rewardB: -0.5, margin: 2, pAB: preferenceProbability(1.5, -0.5) });
  });
});

describe('routing', () => {
  it('sends GPU work to the train worker and data work to the data worker', () => {
    expect(REQUEST_WORKER['gpu-info']).toBe('train');
    expect(REQUEST_WORKER['train-start']).toBe('train');
    expect(REQUEST_WORKER['score-pair']).toBe('train');
    expect(REQUEST_WORKER.download).toBe('data');
    expect(REQUEST_WORKER['import-jsonl']).toBe('data');
    expect(REQUEST_WORKER.inspect).toBe('data');
    expect(Object.keys(REQUEST_AREA).sort()).toEqual(Object.keys(REQUEST_WORKER).sort());
  });
});

describe('errorEvent', () => {
  it('keeps the message and gives a fix by error kind', () => {
    const oom = Object.assign(new Error('matmul: GPU out of memory: too big'), { name: 'GpuError' });
    const ev = errorEvent('train', oom, 7);
    expect(ev).toMatchObject({ type: 'error', rid: 7, where: 'train', message: 'matmul: GPU out of memory: too big' });
    expect(ev.type === 'error' && ev.fix).toMatch(/per_device_train_batch_size/);
    const quota = Object.assign(new Error('full'), { name: 'QuotaExceededError' });
    expect((errorEvent('model-data', quota) as { fix: string }).fix).toMatch(/delete stored files/);
    expect((errorEvent('worker', new Error('x'), undefined, 'do this') as { fix: string }).fix).toBe('do this');
  });
});

describe('transferablesOf', () => {
  it('transfers exported file buffers instead of copying them', () => {
    const data = new Uint8Array([1, 2, 3]);
    expect(transferablesOf({ type: 'export-files', rid: 1, what: 'adapter', files: [{ name: 'a', data }] })).toEqual([data.buffer]);
    expect(transferablesOf({ type: 'checkpoint', step: 3 })).toEqual([]);
  });
});
