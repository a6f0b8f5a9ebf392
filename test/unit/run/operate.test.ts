import { describe, expect, it } from 'vitest';
import { forEachHost, worstExitCode } from '../../../src/run/index.js';

describe('worstExitCode', () => {
  it.each([
    [[0, 0, 0], 0],
    [[], 0],
    [[0, 3, 1], 3],
    [[0, 1, 255], 255],
    [[2, null], 255],
    [[0, null], 255],
  ] as const)('%j → %i', (codes, worst) => {
    expect(worstExitCode(codes)).toBe(worst);
  });
});

describe('forEachHost', () => {
  const hosts = ['a', 'b', 'c', 'd', 'e'].map((name) => ({ name }));

  it('never runs more than `parallel` at once, keeps host order, and a throwing host fails alone', async () => {
    let running = 0;
    let peak = 0;
    const done: string[] = [];
    const results = await forEachHost(
      hosts,
      async (h) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, h.name === 'a' ? 30 : 5));
        running--;
        if (h.name === 'c') throw new Error('boom');
        return `ok ${h.name}`;
      },
      { parallel: 2, onSkipped: () => 'skipped', onError: (h, e) => `failed ${h.name}: ${(e as Error).message}`, onDone: (h) => done.push(h) },
    );
    expect(peak).toBe(2);
    expect(results).toEqual(['ok a', 'ok b', 'failed c: boom', 'ok d', 'ok e']);
    expect(done[0]).not.toBe('a'); // finished out of order, reported as they finish
  });

  it('hosts not started before an interrupt are skipped', async () => {
    const stop = new AbortController();
    const results = await forEachHost(
      hosts,
      async (h) => {
        stop.abort();
        return `ran ${h.name}`;
      },
      { parallel: 1, signal: stop.signal, onSkipped: (h) => `skipped ${h}`, onError: () => 'x' },
    );
    expect(results).toEqual(['ran a', 'skipped b', 'skipped c', 'skipped d', 'skipped e']);
  });
});
