// The rollout's waves: canary hosts first, alone, then the rest of the selection in waves of a
// count or a percentage. Pure, like the rest of the plan.
import { UsageError } from '../errors.js';
import type { HostSpec, Inventory, RolloutFailurePolicy, WaveSize } from '../manifest/inventory.js';
import { selectHosts } from './selection.js';
import type { RolloutPlan, Wave } from './types.js';

/** What the command line says about the rollout; each given field overrides the manifest's. */
export interface RolloutOptions {
  /** --no-rollout: every selected host at once, whatever the manifest says. */
  disabled?: boolean;
  /** --canary selectors (names, globs, @tags). */
  canary?: string[];
  /** --waves */
  waves?: WaveSize;
  /** --pause, seconds. */
  pause?: number;
  /** --on-failure */
  onFailure?: RolloutFailurePolicy;
}

/** Hosts per wave for `rest` hosts: a count as is, a percentage rounded up; at least 1. */
export function waveSize(size: WaveSize | undefined, rest: number): number {
  if (!size) return Math.max(1, rest);
  if ('hosts' in size) return size.hosts;
  return Math.max(1, Math.ceil((rest * size.percent) / 100));
}

function describeSize(size: WaveSize | undefined, perWave: number, rest: number): string {
  const hosts = `${perWave} host${perWave === 1 ? '' : 's'}`;
  if (!size || perWave >= rest) return `then the ${rest === 1 ? 'other host' : `other ${rest} hosts`} in one wave`;
  return 'percent' in size ? `then waves of ${size.percent}% (${hosts})` : `then waves of ${hosts}`;
}

/** The canary hosts among `selected`, in manifest order; a selector that names no host of the manifest is an error. */
function canaryHosts(inventory: Inventory, selected: readonly HostSpec[], selectors: string[], fromFlag: boolean): HostSpec[] {
  if (selectors.length === 0) return [];
  let named: HostSpec[];
  try {
    named = selectHosts(inventory.hosts, { only: selectors, tags: [], exclude: [] });
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    throw new UsageError(`${fromFlag ? '--canary' : `rollout.canary in ${inventory.manifestPath}`}: ${error.message}`, error.hint);
  }
  const names = new Set(named.map((h) => h.name));
  const picked = selected.filter((h) => names.has(h.name));
  if (picked.length === 0 && fromFlag) {
    throw new UsageError(`--canary ${selectors.join(',')} picks none of the hosts selected for this run`, 'select the canary too, or leave --canary out');
  }
  return picked;
}

/**
 * The rollout of a run: undefined when neither the manifest nor the command line asks for one
 * (or --no-rollout), else its waves over the selected hosts (in manifest order).
 */
export function planRollout(inventory: Inventory, selected: readonly HostSpec[], options: RolloutOptions = {}): RolloutPlan | undefined {
  if (options.disabled) return undefined;
  const base = inventory.rollout;
  const overridden = options.canary !== undefined || options.waves !== undefined || options.pause !== undefined || options.onFailure !== undefined;
  if (!base && !overridden) return undefined;
  const selectors = options.canary ?? base?.canary ?? [];
  const size = options.waves ?? base?.waves;
  const canary = canaryHosts(inventory, selected, selectors, options.canary !== undefined);
  const canaryNames = new Set(canary.map((h) => h.name));
  const rest = selected.filter((h) => !canaryNames.has(h.name));
  const perWave = waveSize(size, rest.length);

  const waves: Wave[] = [];
  if (canary.length > 0) waves.push({ kind: 'canary', index: 1, hosts: canary.map((h) => h.name) });
  for (let i = 0; i < rest.length; i += perWave) {
    waves.push({ kind: 'wave', index: waves.length + 1, hosts: rest.slice(i, i + perWave).map((h) => h.name) });
  }

  const parts: string[] = [];
  if (canary.length > 0) parts.push(`canary ${canary.map((h) => h.name).join(', ')}`);
  else if (selectors.length > 0) parts.push(`no canary (${selectors.join(', ')} not selected)`);
  if (rest.length > 0) parts.push(describeSize(size, perWave, rest.length));
  return {
    waves,
    pauseSeconds: options.pause ?? base?.pause ?? 0,
    onFailure: options.onFailure ?? base?.onFailure ?? 'stop',
    description: parts.join(', '),
  };
}

/** The selected hosts in the order the rollout deploys them (the build stage builds them in this order). */
export function inRolloutOrder<H extends { name: string }>(hosts: readonly H[], rollout: RolloutPlan | undefined): H[] {
  if (!rollout) return [...hosts];
  const rank = new Map(rollout.waves.flatMap((w) => w.hosts).map((name, i) => [name, i] as const));
  return [...hosts].sort((a, b) => (rank.get(a.name) ?? 0) - (rank.get(b.name) ?? 0));
}
