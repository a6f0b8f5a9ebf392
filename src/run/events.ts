// The progress stream of a run: a discriminated union that every renderer handles exhaustively.
import type { Mode } from '../manifest/inventory.js';
import type { StepKind, Wave } from '../plan/types.js';
import type { ClosureDiff } from '../backends/closure-diff.js';

export type { ClosureDiff, ClosureTotals, PackageChange } from '../backends/closure-diff.js';
import type { HistoryWrite } from '../backends/history.js';
import type { Upload } from '../backends/copy-progress.js';

export type { Upload } from '../backends/copy-progress.js';

/** How one host ended. */
export type OutcomeKind =
  | 'changed' // a new system was deployed (or installed)
  | 'unchanged' // the target already ran the built system; nothing activated
  | 'failed'
  | 'rolled-back' // activation lost ssh and the target rolled itself back (a failure)
  | 'unreachable' // could not be reached (or not again after a rollback)
  | 'skipped'; // not attempted (fail-fast, interrupted, no consent for bootstrap)

export const FAILED_OUTCOMES: readonly OutcomeKind[] = ['failed', 'rolled-back', 'unreachable'];

/** The step a stage or build belongs to: the host steps plus the fleet-wide build and the probe. */
export type Phase = 'build' | 'lock' | 'probe' | StepKind | OperatePhase;

/** The one step of an operating command's host (fleet status, check, exec, rollback, reboot). */
export type OperatePhase = 'status' | 'check' | 'exec' | 'rollback' | 'reboot';

/** The end of one host's run. */
export interface HostOutcome {
  host: string;
  kind: OutcomeKind;
  mode: Mode;
  /** The step it ended in (failed at, or last done). */
  step: Phase;
  /** One line: why it failed or was skipped, or what happened. */
  reason: string;
  /** What a successful host did, in a few words, where "deployed <mode>" is not it (exec: "exit 0"). */
  summary?: string;
  /** The built system this host was to run. */
  storePath?: string;
  /** Last lines of the failing command (at most 20). */
  tail: string[];
  /** What the user can do about a failure, when fleet knows (one line). */
  hint?: string;
  startedAt: number;
  finishedAt: number;
  /** Per-step results in order. */
  steps: StepRecord[];
  /** What the deploy changes (or changed), when a diff was asked for and made. */
  diff?: ClosureDiff;
  /** The deploy-history record of a verified change, or why it was not written; absent when none was due. */
  history?: HistoryWrite;
  /** What the closure copies sent from this machine (paths nix copied, their NAR size); absent when none ran. */
  uploaded?: Upload;
}


export interface StepRecord {
  step: Phase;
  status: 'done' | 'skipped' | 'failed';
  /** Why skipped, or what failed, or a short result. */
  detail: string;
  startedAt: number;
  finishedAt: number;
}

export type RunEvent =
  | { type: 'build-start'; hosts: string[]; chunk: number; chunks: number }
  | { type: 'build-line'; hosts: string[]; line: string }
  | { type: 'build-done'; host: string; output: 'toplevel' | 'diskoScript'; storePath: string }
  | { type: 'build-failed'; host: string; reason: string; tail: string[] }
  | { type: 'host-start'; host: string }
  | { type: 'step-start'; host: string; step: Phase; title: string }
  /** A line of a step's output; `quiet`: for the step log (report tails) only, not the screen. */
  | { type: 'step-line'; host: string; step: Phase; line: string; quiet?: boolean }
  /** How far a step got, when its tool says (the closure copy: paths copied of those to copy). */
  | { type: 'step-progress'; host: string; step: Phase; done: number; total: number; unit: 'paths' }
  | { type: 'step-skip'; host: string; step: Phase; reason: string }
  | { type: 'step-done'; host: string; step: Phase; detail: string }
  | { type: 'step-failed'; host: string; step: Phase; reason: string }
  /** A notice the user must see, e.g. the TOFU fingerprint accepted or "lost SSH — rolls back at …". */
  | { type: 'host-note'; host: string; level: 'info' | 'warn'; message: string }
  /** What a host's deploy will change, shown before it goes on (apply --diff). */
  | { type: 'host-diff'; host: string; diff: ClosureDiff }
  | { type: 'host-done'; outcome: HostOutcome }
  | { type: 'interrupted'; second: boolean }
  /** A rollout's wave starts (`waves`: how many there are in all). */
  | { type: 'wave-start'; wave: Wave; waves: number }
  /** The rollout waits `seconds` before the next wave. */
  | { type: 'wave-pause'; seconds: number; next: Wave; waves: number }
  /** A wave failed: no later wave starts; `rollingBack` lists the hosts of the wave being rolled back. */
  | { type: 'rollout-stopped'; reason: string; rollingBack: string[] };

/** Receives events in order; renderers implement it. */
export interface Reporter {
  emit(event: RunEvent): void;
  /** Called once after the last event; waits for the renderer to flush. */
  close(): Promise<void>;
}
