// argv → typed options for the commands: pure, so the mapping is tested as a table.
import { UsageError } from '../errors.js';
import type { Mode } from '../manifest/inventory.js';
import { parseWaveSize } from '../manifest/wave-size.js';
import type { RolloutOptions } from '../plan/rollout.js';
import { selectorsFrom, type Selection } from '../plan/selection.js';

/** Parsed flags shared by the commands that act on a selection of hosts. */
export interface CommonArgs {
  file?: string;
  only?: string[] | string;
  tag?: string[] | string;
  exclude?: string[] | string;
  /** Positional host selectors (`fleet status web-*`). */
  hosts?: string[] | string;
  parallel?: number;
  json?: boolean;
  switch?: boolean;
  boot?: boolean;
  test?: boolean;
  'dry-activate'?: boolean;
  'ask-sudo-password'?: boolean;
}

/** The selection from --only, the positional hosts, --tag and --exclude; a blank selector is a usage error naming its flag. */
export function selectionFrom(args: CommonArgs): Selection {
  return {
    // yargs always gives the positional hosts as a list, empty when none were named.
    only: [...selectorsFrom('--only', args.only), ...selectorsFrom('host argument', isEmptyList(args.hosts) ? undefined : args.hosts)],
    tags: selectorsFrom('--tag', args.tag),
    exclude: selectorsFrom('--exclude', args.exclude),
  };
}

const isEmptyList = (value: unknown): boolean => Array.isArray(value) && value.length === 0;

/** What every operating command (status, check, exec, rollback, reboot) takes from its flags. */
export function operateArgsFrom(args: CommonArgs & { plain?: boolean }): { file?: string; selection: Selection; parallel?: number; json: boolean; plain: boolean; askSudoPassword?: boolean } {
  return {
    file: args.file,
    selection: selectionFrom(args),
    parallel: parallelFrom(args.parallel),
    json: args.json ?? false,
    plain: args.plain ?? false,
    ...(args['ask-sudo-password'] ? { askSudoPassword: true } : {}),
  };
}

/** The one mode flag given, if any; two at once is a usage error. */
export function modeOverrideFrom(args: CommonArgs): Mode | undefined {
  const given = (['switch', 'boot', 'test', 'dry-activate'] as const).filter((m) => args[m] === true);
  if (given.length > 1) throw new UsageError(`choose one of --${given.join(', --')}`);
  return given[0];
}

export function parallelFrom(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--parallel must be a whole number ≥ 0 (got ${String(value)})`);
  return n;
}

/** A whole number of at least 1 (--eval-limit, --eval-jobs). */
export function positiveCount(flag: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${flag} must be a whole number ≥ 1 (got ${String(value)})`);
  return n;
}

export function positiveSeconds(flag: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${flag} must be a positive number of seconds (got ${String(value)})`);
  return n;
}

export function nonNegativeSeconds(flag: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${flag} must be a number of seconds ≥ 0 (got ${String(value)})`);
  return n;
}

/** The rollout flags as given. */
export interface RolloutArgs {
  canary?: string[] | string;
  waves?: string | number;
  pause?: number;
  'on-failure'?: 'stop' | 'rollback';
  /** false with --no-rollout. */
  rollout?: boolean;
}

/** --canary, --waves, --pause, --on-failure, --no-rollout → overrides of the manifest's rollout. */
export function rolloutFrom(args: RolloutArgs): RolloutOptions {
  const given = (['canary', 'waves', 'pause', 'on-failure'] as const).filter((flag) => args[flag] !== undefined);
  if (args.rollout === false) {
    if (given.length > 0) throw new UsageError(`--no-rollout cannot be combined with --${given.join(', --')}`);
    return { disabled: true };
  }
  const options: RolloutOptions = {};
  if (args.canary !== undefined) options.canary = selectorsFrom('--canary', args.canary);
  if (args.waves !== undefined) {
    const size = parseWaveSize(args.waves);
    if (!size) throw new UsageError(`--waves must be a number of hosts ≥ 1 or a percentage from 1% to 100% (got ${String(args.waves)})`, 'e.g. --waves 2 or --waves 25%');
    options.waves = size;
  }
  const pause = nonNegativeSeconds('pause', args.pause);
  if (pause !== undefined) options.pause = pause;
  if (args['on-failure'] !== undefined) options.onFailure = args['on-failure'];
  return options;
}

/**
 * --specialisation NAME: a word as the manifest's `specialisation` allows (letters, digits, ".",
 * "_", "-"), so that it is a name under <system>/specialisation and nothing else.
 */
export function specialisationFrom(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const name = String(value);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new UsageError(`--specialisation must be a specialisation name: letters, digits, ".", "_" and "-", starting with a letter or digit (got ${JSON.stringify(name)})`);
  }
  return name;
}
