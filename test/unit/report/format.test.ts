// Durations, short store paths and outcome phrases.
import { describe, expect, it } from 'vitest';
import { describeOutcome, formatDuration, shortStorePath } from '../../../src/report/index.js';
import type { HostOutcome } from '../../../src/run/events.js';

describe('formatDuration', () => {
  it.each([
    [0, '0.0s'],
    [-5, '0.0s'],
    [Number.NaN, '0.0s'],
    [49, '0.0s'],
    [420, '0.4s'],
    [12_345, '12.3s'],
    [59_999, '59.9s'],
    [60_000, '1m00s'],
    [247_000, '4m07s'],
    [3_720_000, '1h02m'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('shortStorePath', () => {
  it('elides the hash of store paths only', () => {
    expect(shortStorePath('/nix/store/q3wx7y0b1c2d3f4g5h6i7j8k9l0m1n2p-nixos-system-a')).toBe('/nix/store/…-nixos-system-a');
    expect(shortStorePath('switch /nix/store/q3wx7y0b1c2d3f4g5h6i7j8k9l0m1n2p-x')).toBe('switch /nix/store/…-x');
    expect(shortStorePath('/nix/store/not-a-hash')).toBe('/nix/store/not-a-hash');
  });
});

describe('describeOutcome', () => {
  const base: HostOutcome = {
    host: 'a', kind: 'changed', mode: 'switch', step: 'verify', reason: 'why', tail: [], startedAt: 0, finishedAt: 0, steps: [],
  };
  it.each([
    [{ kind: 'changed' }, 'deployed switch'],
    [{ kind: 'changed', mode: 'boot' }, 'deployed boot'],
    [{ kind: 'changed', steps: [{ step: 'bootstrap', status: 'done', detail: '', startedAt: 0, finishedAt: 0 }] }, 'installed (switch)'],
    [{ kind: 'unchanged' }, 'unchanged'],
    [{ kind: 'failed', step: 'deploy' }, 'FAILED at deploy: why'],
    [{ kind: 'rolled-back' }, 'rolled back: why'],
    [{ kind: 'unreachable' }, 'unreachable: why'],
    [{ kind: 'skipped', reason: 'fail-fast' }, 'skipped: fail-fast'],
    [{ kind: 'skipped', reason: '' }, 'skipped'],
  ] as [Partial<HostOutcome>, string][])('%o → %s', (patch, text) => {
    expect(describeOutcome({ ...base, ...patch })).toBe(text);
  });
});
