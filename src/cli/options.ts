// argv → typed options for the commands: pure, so the mapping is tested as a table.
import { UsageError } from '../errors.js';
import type { Mode } from '../manifest/inventory.js';
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
export function operateArgsFrom(args: CommonArgs & { plain?: boolean }): { file?: string; selection: Selection; parallel?: number; json: boolean; plain: boolean } {
  return { file: args.file, selection: selectionFrom(args), parallel: parallelFrom(args.parallel), json: args.json ?? false, plain: args.plain ?? false };
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
