// The exit-code policy of fleet: the documented table as data, and the code for a set of outcomes.
import { FAILED_OUTCOMES, type HostOutcome, type OutcomeKind } from '../run/events.js';

/** One documented exit code. */
export interface ExitCodeEntry {
  code: number;
  /** Stable identifier, e.g. for docs anchors and tests. */
  name: 'ok' | 'host-failure' | 'usage' | 'out-of-sync' | 'interrupted';
  /** One line for `--help` and the docs. */
  meaning: string;
}

/**
 * Every exit code fleet uses, in order. `--help` and the docs print this table; nothing else
 * should hard-code these numbers.
 */
export const EXIT_CODES: readonly ExitCodeEntry[] = [
  { code: 0, name: 'ok', meaning: 'every selected host is changed or unchanged (in sync)' },
  {
    code: 1,
    name: 'host-failure',
    meaning: 'at least one host failed, rolled back, was unreachable or was skipped',
  },
  { code: 2, name: 'usage', meaning: 'bad command line or invalid manifest; no host was touched' },
  { code: 3, name: 'out-of-sync', meaning: '`fleet status`: at least one host does not run its built system' },
  { code: 130, name: 'interrupted', meaning: 'interrupted (Ctrl-C / SIGINT); wins over every other code' },
];

/** The exit codes by name. */
export const EXIT = {
  ok: 0,
  hostFailure: 1,
  usage: 2,
  outOfSync: 3,
  interrupted: 130,
} as const;

/** The exit-code table as aligned lines, e.g. for a `--help` epilogue. */
export function formatExitCodes(): string[] {
  const width = Math.max(...EXIT_CODES.map((e) => String(e.code).length));
  return EXIT_CODES.map((e) => `${String(e.code).padStart(width)}  ${e.meaning}`);
}

/** Counts of outcomes for a run. */
export interface Summary {
  total: number;
  counts: Record<OutcomeKind, number>;
  /** Hosts that ended failed, rolled-back or unreachable, in input order. */
  failed: string[];
  /** Hosts that were not attempted, in input order. */
  skipped: string[];
  /** True when every host is changed or unchanged. */
  ok: boolean;
}

/** Counts the outcomes by kind and lists the hosts that did not reach their system. */
export function summarize(outcomes: readonly HostOutcome[]): Summary {
  const counts: Record<OutcomeKind, number> = {
    changed: 0,
    unchanged: 0,
    failed: 0,
    'rolled-back': 0,
    unreachable: 0,
    skipped: 0,
  };
  const failed: string[] = [];
  const skipped: string[] = [];
  for (const o of outcomes) {
    counts[o.kind] += 1;
    if (FAILED_OUTCOMES.includes(o.kind)) failed.push(o.host);
    else if (o.kind === 'skipped') skipped.push(o.host);
  }
  return { total: outcomes.length, counts, failed, skipped, ok: failed.length === 0 && skipped.length === 0 };
}

/**
 * The exit code of `fleet apply` for these outcomes.
 *
 * - `130` when the run was interrupted (hosts skipped because of the interrupt are covered by it);
 * - `1` when any host failed, rolled back, was unreachable, or was skipped for another reason
 *   (fail-fast, no consent for a bootstrap): the fleet is not where the user asked it to be;
 * - `0` otherwise (also for an empty outcome list).
 */
export function exitCodeFor(
  outcomes: readonly HostOutcome[],
  options: { interrupted: boolean },
): number {
  if (options.interrupted) return EXIT.interrupted;
  return summarize(outcomes).ok ? EXIT.ok : EXIT.hostFailure;
}
