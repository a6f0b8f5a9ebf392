// The rollout's waves, cut by the plan: canary first, then waves of a count or a percentage.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { buildPlan, planRollout, waveSize, type RolloutOptions } from '../../../src/plan/index.js';
import type { RolloutSpec } from '../../../src/manifest/inventory.js';
import { host, inventory, planOptions } from './inventory-fixture.js';

const names = ['vps-pacman', 'web-1', 'web-2', 'web-3', 'web-4', 'web-5', 'web-6', 'web-7', 'web-8'];
const fleet = (rollout?: RolloutSpec) =>
  inventory(
    names.map((n) => host(n, n === 'vps-pacman' ? { tags: ['vps'] } : {})),
    rollout ? { rollout } : {},
  );
const hostsOf = (plan: ReturnType<typeof planRollout>) => plan?.waves.map((w) => [w.kind, w.index, w.hosts.join(' ')]);

describe('waveSize', () => {
  it.each([
    [{ percent: 25 }, 8, 2],
    [{ percent: 25 }, 7, 2], // rounded up: never more than 4 waves of 25%
    [{ percent: 25 }, 1, 1],
    [{ percent: 1 }, 8, 1],
    [{ percent: 100 }, 8, 8],
    [{ hosts: 3 }, 8, 3],
    [undefined, 8, 8],
    [undefined, 0, 1],
  ] as const)('%j of %i hosts → %i', (size, rest, expected) => {
    expect(waveSize(size, rest)).toBe(expected);
  });
});

describe('planRollout', () => {
  const all = fleet().hosts;

  it('is undefined without a rollout in the manifest or on the command line, and with --no-rollout', () => {
    expect(planRollout(fleet(), all)).toBeUndefined();
    expect(planRollout(fleet({ canary: ['vps-pacman'], pause: 0, onFailure: 'stop' }), all, { disabled: true })).toBeUndefined();
  });

  it('cuts the canary, then waves of 25% over the rest, in manifest order', () => {
    const plan = planRollout(fleet({ canary: ['@vps'], waves: { percent: 25 }, pause: 30, onFailure: 'rollback' }), all);
    expect(hostsOf(plan)).toEqual([
      ['canary', 1, 'vps-pacman'],
      ['wave', 2, 'web-1 web-2'],
      ['wave', 3, 'web-3 web-4'],
      ['wave', 4, 'web-5 web-6'],
      ['wave', 5, 'web-7 web-8'],
    ]);
    expect(plan).toMatchObject({ pauseSeconds: 30, onFailure: 'rollback', description: 'canary vps-pacman, then waves of 25% (2 hosts)' });
  });

  it('puts the rest in one wave when no size is given; a last wave may be smaller', () => {
    expect(hostsOf(planRollout(fleet({ canary: ['web-8'], pause: 0, onFailure: 'stop' }), all))).toEqual([
      ['canary', 1, 'web-8'],
      ['wave', 2, 'vps-pacman web-1 web-2 web-3 web-4 web-5 web-6 web-7'],
    ]);
    expect(hostsOf(planRollout(fleet(), all, { waves: { hosts: 4 } }))).toEqual([
      ['wave', 1, 'vps-pacman web-1 web-2 web-3'],
      ['wave', 2, 'web-4 web-5 web-6 web-7'],
      ['wave', 3, 'web-8'],
    ]);
  });

  it('lets each flag override its own field of the manifest', () => {
    const manifest = fleet({ canary: ['vps-pacman'], waves: { percent: 50 }, pause: 30, onFailure: 'stop' });
    const overrides: RolloutOptions = { waves: { hosts: 8 }, pause: 0, onFailure: 'rollback' };
    expect(planRollout(manifest, all, overrides)).toMatchObject({ pauseSeconds: 0, onFailure: 'rollback', waves: [{ hosts: ['vps-pacman'] }, { hosts: names.slice(1) }] });
    expect(hostsOf(planRollout(manifest, all, { canary: ['web-1', 'web-2'] }))?.[0]).toEqual(['canary', 1, 'web-1 web-2']);
  });

  it('drops a manifest canary the selection leaves out, and says so', () => {
    const web = all.filter((h) => h.name.startsWith('web-'));
    const plan = planRollout(fleet({ canary: ['vps-pacman'], waves: { hosts: 4 }, pause: 0, onFailure: 'stop' }), web);
    expect(hostsOf(plan)).toEqual([
      ['wave', 1, 'web-1 web-2 web-3 web-4'],
      ['wave', 2, 'web-5 web-6 web-7 web-8'],
    ]);
    expect(plan?.description).toBe('no canary (vps-pacman not selected), then waves of 4 hosts');
  });

  it('refuses a --canary that names no host, or none of the selected ones', () => {
    const web = all.filter((h) => h.name.startsWith('web-'));
    expect(() => planRollout(fleet(), all, { canary: ['nope'] })).toThrow(UsageError);
    expect(() => planRollout(fleet(), all, { canary: ['nope'] })).toThrow('--canary: unknown host "nope"');
    expect(() => planRollout(fleet(), web, { canary: ['@vps'] })).toThrow('--canary @vps picks none of the hosts selected for this run');
  });
});

describe('buildPlan with a rollout', () => {
  const manifest = fleet({ canary: ['web-8'], waves: { percent: 50 }, pause: 0, onFailure: 'stop' });

  it('holds the waves and builds the canary first', () => {
    const plan = buildPlan(manifest, planOptions({ evalLimit: 3 }));
    expect(plan.rollout?.waves.map((w) => w.hosts[0])).toEqual(['web-8', 'vps-pacman', 'web-4']);
    expect(plan.build.chunks[0]?.attributes[0]?.host).toBe('web-8');
    // The plan's hosts (and so the report) stay in manifest order.
    expect(plan.hosts.map((h) => h.name)).toEqual(names);
  });

  it('refuses --confirm, which asks once before any host is activated', () => {
    expect(() => buildPlan(manifest, planOptions({ diff: 'confirm' }))).toThrow('--confirm cannot be combined with a rollout');
    expect(buildPlan(manifest, planOptions({ diff: 'show' })).rollout).toBeDefined();
  });

  it('has none for the commands that do not deploy', () => {
    expect(buildPlan(manifest, planOptions({ scope: { buildOnly: true } })).rollout).toBeUndefined();
    expect(buildPlan(manifest, planOptions({ scope: { steps: ['push-keys'], forceKeyPush: true } })).rollout).toBeUndefined();
  });
});
