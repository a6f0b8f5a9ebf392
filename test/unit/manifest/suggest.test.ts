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
});
