// The JSON report of fleet apply: GENERATED from schemas/report.schema.json.
// Do not edit; run `npm run gen:types` (a unit test fails when this file drifts from the schema).

/**
 * A time in ISO 8601, UTC (e.g. 2026-11-30T18:00:00.000Z).
 */
export type ReportTime = string;
/**
 * A duration in milliseconds.
 */
export type Milliseconds = number;
/**
 * How a host ended: changed (a new system was deployed or installed), unchanged (it already ran the built system), failed, rolled-back (it lost ssh after activation and rolled itself back), unreachable, skipped (nothing was run on it).
 */
export type ReportOutcome =
  'changed' | 'unchanged' | 'failed' | 'rolled-back' | 'unreachable' | 'skipped';
/**
 * The activation mode, as switch-to-configuration names it.
 */
export type ReportMode = 'switch' | 'boot' | 'test' | 'dry-activate';
/**
 * A step: build (fleet-wide), lock and probe (first contact), then push-keys, bootstrap, deploy, verify. status, check, exec, rollback and reboot are the steps of the operating commands.
 */
export type ReportPhase =
  | 'build'
  | 'lock'
  | 'probe'
  | 'diff'
  | 'push-keys'
  | 'bootstrap'
  | 'secrets'
  | 'deploy'
  | 'verify'
  | 'status'
  | 'check'
  | 'exec'
  | 'rollback'
  | 'reboot';
/**
 * What changes on a host: same (it runs the built system), not-installed (nothing to compare with), or the package changes between its live system and the built one.
 */
export type ClosureDiff =
  | {
      kind: 'same';
      system: string;
    }
  | {
      kind: 'not-installed';
      to: string;
    }
  | {
      kind: 'changes';
      from: string;
      to: string;
      changed: PackageChange[];
      added: PackageChange[];
      removed: PackageChange[];
      closure: ClosureTotals;
    };

/**
 * The JSON report of `fleet apply` (and `fleet build`, `fleet push-keys`, `fleet bootstrap`): `--json` on stdout, `--report FILE`, and `.fleet/last-run.json` beside the manifest. Keys are stable within a reportVersion; a breaking change bumps it. It holds no key material.
 */
export interface FleetReport {
  /**
   * Version of this format. 2 since the report stopped embedding the internal plan.
   */
  reportVersion: 2;
  /**
   * The command that ran.
   */
  command: 'apply' | 'build' | 'push-keys' | 'bootstrap' | 'push-secrets' | 'diff';
  /**
   * Absolute path of the manifest the run read (`--retry-failed` refuses a report of another manifest).
   */
  manifest: string;
  /**
   * The flake of the manifest, as resolved (a local path is absolute).
   */
  flake: string;
  startedAt: ReportTime;
  finishedAt: ReportTime;
  durationMs: Milliseconds;
  /**
   * The run was stopped by Ctrl-C (SIGINT) or SIGTERM.
   */
  interrupted: boolean;
  /**
   * What fleet exits with for this run (0 ok, 1 a host failed or was skipped, 130 interrupted).
   */
  exitCode: number;
  provenance: ReportProvenance;
  /**
   * Evaluators (`nix eval` calls) the build stage ran: one per chunk unless a failure had to be attributed.
   */
  evaluations: number;
  totals: ReportTotals;
  /**
   * One entry per selected host, in manifest (plan) order.
   */
  hosts: ReportHost[];
}
/**
 * Who ran fleet and from which revision: what each changed host's deploy history records.
 */
export interface ReportProvenance {
  /**
   * $FLEET_OPERATOR, else the CI's actor, else user@machine.
   */
  operator: string;
  /**
   * The CI run, or null outside CI.
   */
  ci: ReportCiRun | null;
  /**
   * The flake's git commit, with -dirty when tracked files had uncommitted changes; null when unknown.
   */
  revision: string | null;
  /**
   * fleet's version.
   */
  fleetVersion: string;
}
/**
 * The CI run fleet ran in, as its environment said (never a token).
 */
export interface ReportCiRun {
  /**
   * github-actions, forgejo-actions, gitea-actions, gitlab-ci, buildkite, circleci, jenkins, or ci (another CI that sets CI=true).
   */
  system: string;
  /**
   * Who started the run, when the CI says.
   */
  actor: string | null;
  /**
   * Link to the run, credentials stripped.
   */
  runUrl: string | null;
}
/**
 * Hosts per outcome.
 */
export interface ReportTotals {
  /**
   * Hosts in the report.
   */
  hosts: number;
  /**
   * Hosts that ended changed.
   */
  changed: number;
  /**
   * Hosts that ended unchanged.
   */
  unchanged: number;
  /**
   * Hosts that ended failed.
   */
  failed: number;
  /**
   * Hosts that ended rolled-back.
   */
  rolledBack: number;
  /**
   * Hosts that ended unreachable.
   */
  unreachable: number;
  /**
   * Hosts that ended skipped.
   */
  skipped: number;
}
/**
 * One host's outcome.
 */
export interface ReportHost {
  /**
   * The host's name in the manifest.
   */
  host: string;
  outcome: ReportOutcome;
  mode: ReportMode;
  /**
   * How it was reached: user@host:port, or local.
   */
  target: string;
  step: ReportPhase;
  /**
   * One line: what happened, or why it failed or was skipped.
   */
  reason: string;
  /**
   * The built system the host was to run; null when the build did not get that far.
   */
  storePath: string | null;
  startedAt: ReportTime;
  finishedAt: ReportTime;
  durationMs: Milliseconds;
  /**
   * Every step in order.
   */
  steps: ReportStep[];
  /**
   * Last lines (at most 20) of the failing command; empty when nothing failed.
   */
  tail: string[];
  /**
   * What to do about a failure, when fleet knows.
   */
  hint: string | null;
  /**
   * The deploy-history record of a verified change; null when none was due.
   */
  history: ReportHistoryWrite | null;
  /**
   * What the deploy changes (fleet diff, apply --diff/--confirm): `same`, `not-installed`, or `changes` with the packages changed, added and removed and both closures' totals; null when no diff was asked for or the host did not get that far.
   */
  diff: ClosureDiff | null;
  /**
   * What the closure copies to this host sent from the deploying machine: the store paths nix copy said it copied (`copying path '…'`; those the target substituted from its caches are not among them) and the sum of their NAR sizes in the local store. null when no copy ran (the closure was there, a local target, built on its target).
   */
  uploaded: ReportUpload | null;
}
/**
 * One step of one host.
 */
export interface ReportStep {
  step: ReportPhase;
  /**
   * done, skipped (with why in detail), or failed (with what in detail).
   */
  status: 'done' | 'skipped' | 'failed';
  /**
   * What it did, why it was skipped, or why it failed.
   */
  detail: string;
  startedAt: ReportTime;
  finishedAt: ReportTime;
  durationMs: Milliseconds;
}
/**
 * Whether the host's deploy history got its record (a failed write leaves the outcome as it is).
 */
export interface ReportHistoryWrite {
  /**
   * The record was appended.
   */
  written: boolean;
  /**
   * Why it was not; null when it was.
   */
  reason: string | null;
}
/**
 * A package whose versions differ between the two closures (or that only one of them has).
 */
export interface PackageChange {
  /**
   * The package name, as Nix splits a store path name: `lab-tool` of `lab-tool-1.1`.
   */
  name: string;
  /**
   * Its versions in the running system (empty: not there).
   */
  from: string[];
  /**
   * Its versions in the built system (empty: not there).
   */
  to: string[];
  /**
   * NAR bytes of its paths in the built system minus in the running one.
   */
  sizeDelta: number;
}
/**
 * Totals of both closures.
 */
export interface ClosureTotals {
  fromPaths: number;
  toPaths: number;
  pathsAdded: number;
  pathsRemoved: number;
  fromBytes: number;
  toBytes: number;
}
/**
 * Store paths sent from the deploying machine to one host, and their NAR size.
 */
export interface ReportUpload {
  paths: number;
  bytes: number;
}
