import { describe, expect, it } from 'vitest';
import { generationFrom } from '../../../src/cli/commands/rollback.js';

describe('rollback --to', () => {
  it.each([
    [undefined, undefined],
    [1, 1],
    ['12', 12],
  ] as const)('%j → %j', (value, expected) => {
    expect(generationFrom(value)).toBe(expected);
  });

  it.each([0, -1, 1.5, 'two'])('refuses %j', (value) => {
    expect(() => generationFrom(value)).toThrow(/--to must be a generation number/);
  });
});
