// --canary, --waves, --pause, --on-failure, --no-rollout → the plan's rollout overrides.
import { describe, expect, it } from 'vitest';
import { contextArgsFrom, type PlanArgs } from '../../../src/cli/commands/plan.js';
import { rolloutFrom, type RolloutArgs } from '../../../src/cli/options.js';
import { UsageError } from '../../../src/errors.js';

describe('rollout flags → options', () => {
  it.each<[string, RolloutArgs, ReturnType<typeof rolloutFrom>]>([
    ['none: the manifest decides', {}, {}],
    ['--canary, repeated and comma-separated', { canary: ['vps-pacman,@canary', 'web-*'] }, { canary: ['vps-pacman', '@canary', 'web-*'] }],
    ['--waves 25%', { waves: '25%' }, { waves: { percent: 25 } }],
    ['--waves 2', { waves: '2' }, { waves: { hosts: 2 } }],
    ['--pause 0', { pause: 0 }, { pause: 0 }],
    ['--on-failure rollback', { 'on-failure': 'rollback' }, { onFailure: 'rollback' }],
    ['--no-rollout', { rollout: false }, { disabled: true }],
    ['--rollout (the default)', { rollout: true }, {}],
  ])('%s', (_name, args, expected) => {
    expect(rolloutFrom(args)).toEqual(expected);
  });

  it.each<[string, RolloutArgs, RegExp]>([
    ['--waves 0', { waves: '0' }, /--waves must be a number of hosts ≥ 1 or a percentage from 1% to 100% \(got 0\)/],
    ['--waves 150%', { waves: '150%' }, /--waves must be .* \(got 150%\)/],
    ['--waves half', { waves: 'half' }, /--waves must be/],
    ['--pause -1', { pause: -1 }, /--pause must be a number of seconds ≥ 0/],
    ['--canary ""', { canary: [''] }, /--canary "" is empty/],
    ['--no-rollout with --waves and --canary', { rollout: false, waves: '2', canary: ['a'] }, /--no-rollout cannot be combined with --canary, --waves/],
  ])('rejects %s', (_name, args, message) => {
    expect(() => rolloutFrom(args)).toThrow(UsageError);
    expect(() => rolloutFrom(args)).toThrow(message);
  });

  it('reaches the plan options of apply and plan', () => {
    const args: PlanArgs = { waves: '50%', 'on-failure': 'rollback' };
    expect(contextArgsFrom(args).rollout).toEqual({ waves: { percent: 50 }, onFailure: 'rollback' });
  });
});
