// The "did you mean" helper: close words are suggested, unrelated ones are not.
import { describe, expect, it } from 'vitest';
import { editDistance, suggest } from '../../../src/manifest/suggest.js';

const HOST_FIELDS = ['target', 'user', 'port', 'identityFile', 'hostKey', 'mode', 'buildHost', 'tags', 'keys'];

describe('suggest', () => {
  it.each([
    ['tgt', 'target'],
    ['taget', 'target'],
    ['mdoe', 'mode'],
    ['Mode', 'mode'],
    ['hostkeys', 'hostKey'],
    ['identity', 'identityFile'],
    ['ports', 'port'],
    ['buildhost', 'buildHost'],
    ['tag', 'tags'],
  ])('%s → %s', (word, expected) => {
    expect(suggest(word, HOST_FIELDS)).toBe(expected);
  });

  it.each(['colour', 'x', 'zzzzzz', 'network'])('%s → nothing', (word) => {
    expect(suggest(word, HOST_FIELDS)).toBeUndefined();
  });

  it('counts an adjacent swap as one edit', () => {
    expect(editDistance('mdoe', 'mode')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('agrees with the textbook matrix on many word pairs', () => {
    /** Optimal string alignment, the full (i, j) matrix as in the textbook. */
    const reference = (a: string, b: string): number => {
      const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
      const at = (i: number, j: number): number => d[i]?.[j] as number;
      for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
          let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1));
          if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
          (d[i] as number[])[j] = best;
        }
      }
      return at(a.length, b.length);
    };
    // Short words over a small alphabet, so that swaps and repeats are common; a fixed sequence, not random.
    const words = ['', 'a', 'ab', 'ba', 'abc', 'acb', 'bca', 'aabb', 'abab', 'baba', 'abcab', 'cabac', 'tgt', 'target', 'mdoe', 'mode'];
    for (const a of words) for (const b of words) expect(editDistance(a, b), `${a} / ${b}`).toBe(reference(a, b));
  });
});
