// Exit codes and outcome counts, as tables.
import { describe, expect, it } from 'vitest';
import { EXIT, EXIT_CODES, exitCodeFor, formatExitCodes, summarize } from '../../../src/report/index.js';
import type { HostOutcome, OutcomeKind } from '../../../src/run/events.js';

function outcome(host: string, kind: OutcomeKind): HostOutcome {
  return { host, kind, mode: 'switch', step: 'deploy', reason: '', tail: [], startedAt: 0, finishedAt: 1000, steps: [] };
}

describe('exitCodeFor', () => {
  const cases: [string, OutcomeKind[], boolean, number][] = [
    ['no hosts', [], false, 0],
    ['all changed', ['changed', 'changed'], false, 0],
    ['changed and unchanged', ['changed', 'unchanged'], false, 0],
    ['one failed', ['changed', 'failed'], false, 1],
    ['one rolled back', ['unchanged', 'rolled-back'], false, 1],
    ['one unreachable', ['unreachable'], false, 1],
    ['skipped without interrupt (fail-fast, no consent)', ['changed', 'skipped'], false, 1],
    ['interrupted, hosts skipped', ['changed', 'skipped'], true, 130],
    ['interrupted wins over failures', ['failed', 'rolled-back'], true, 130],
    ['interrupted with nothing done', [], true, 130],
  ];
  it.each(cases)('%s', (_name, kinds, interrupted, code) => {
    const outcomes = kinds.map((k, i) => outcome(`h${i}`, k));
    expect(exitCodeFor(outcomes, { interrupted })).toBe(code);
  });
});

describe('summarize', () => {
  it('counts every kind and lists failed and skipped hosts in order', () => {
    const s = summarize([
      outcome('a', 'changed'),
      outcome('b', 'failed'),
      outcome('c', 'skipped'),
      outcome('d', 'unreachable'),
      outcome('e', 'unchanged'),
      outcome('f', 'rolled-back'),
    ]);
    expect(s).toEqual({
      total: 6,
      counts: { changed: 1, unchanged: 1, failed: 1, 'rolled-back': 1, unreachable: 1, skipped: 1 },
      failed: ['b', 'd', 'f'],
      skipped: ['c'],
      ok: false,
    });
  });

  it('is ok when every host reached its system', () => {
    expect(summarize([outcome('a', 'changed'), outcome('b', 'unchanged')]).ok).toBe(true);
  });
});

describe('EXIT_CODES', () => {
  it('documents exactly the codes fleet uses, in order, matching EXIT', () => {
    expect(EXIT_CODES.map((e) => [e.code, e.name])).toEqual([
      [0, 'ok'],
      [1, 'host-failure'],
      [2, 'usage'],
      [3, 'out-of-sync'],
      [130, 'interrupted'],
    ]);
    expect(Object.values(EXIT).sort((a, b) => a - b)).toEqual(EXIT_CODES.map((e) => e.code));
  });

  it('formats as aligned lines for --help', () => {
    const lines = formatExitCodes();
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^  0  every selected host/);
    expect(lines[4]).toMatch(/^130  interrupted/);
  });
});
