// Where one host stands in its sequence, as one typed value: each stage carries what that stage
// knows, and each step (host-steps.ts) takes the host from one stage to the next or fails typed.
import type { HostError } from '../errors.js';
import type { ArmedWatchdog, ClosureDiff, Connection, HistoryWrite, ProbeFacts, ResolvedKeys, SecretState } from '../backends/index.js';
import type { HostOutcome } from './events.js';

/** What the first contact (lock and probe) learnt, and what later steps found out beside it. */
export interface Contact {
  /** The held lock session (ssh), released when the host ends. */
  connection: Connection;
  /** What the first probe found, before this run changed anything (a rollout's rollback goes back to it). */
  before: ProbeFacts;
  /** What the target is now known to run (the installed system's answer after a bootstrap). */
  facts: ProbeFacts;
  /** What the deploy changes, when a diff was asked for. */
  diff?: ClosureDiff;
  /** The built closure is on the target (the diff copied it, or a bootstrap installed it). */
  closureOnTarget: boolean;
  /** The store path of the specialisation the host runs live once deployed (absent: the toplevel). */
  liveSystem?: string;
  /** The host's secrets as read here (in memory only) and how each stood on the target. */
  secrets?: { contents: Buffer[]; states: SecretState[] };
  /** The keys resolved for a push (their public host key is pinned for the installed system). */
  keys?: ResolvedKeys;
}

/** A change this run made to the target short of activating a system. */
export type Change = 'keys pushed' | 'installed' | 'secrets uploaded' | 'watchdog armed';

/** An activation that ran: whether the watchdog was armed for it, and is still to be settled. */
export interface Activation {
  armed?: ArmedWatchdog;
}

/**
 * How far a host got. `untouched`: nothing known yet; `locked`: locked and probed, nothing changed;
 * `changed`: keys, secrets or an install, nothing activated; `activated`: switch-to-configuration
 * ran (behind the watchdog when `armed`); `confirmed`: a fresh connection confirmed the watchdog and
 * said what runs; `verified`: the built system runs (health checks passed).
 */
export type HostStage =
  | { at: 'untouched' }
  | { at: 'locked'; contact: Contact }
  | { at: 'changed'; contact: Contact; changes: Change[] }
  | { at: 'activated'; contact: Contact; changes: Change[]; activation: Activation }
  | { at: 'confirmed'; contact: Contact; changes: Change[]; confirmed: ProbeFacts }
  | { at: 'verified'; contact: Contact; changes: Change[]; activated: boolean; running: ProbeFacts };

/** A stage after first contact. */
export type Contacted = Exclude<HostStage, { at: 'untouched' }>;

/** The changes a stage says were made. */
export function changesOf(stage: HostStage): Change[] {
  return stage.at === 'untouched' || stage.at === 'locked' ? [] : stage.changes;
}

/** The stage after a change short of activation (a stage that activated stays where it is). */
export function withChange(stage: Contacted, change: Change): Contacted {
  if (stage.at === 'locked') return { at: 'changed', contact: stage.contact, changes: [change] };
  return stage.changes.some((c) => c === change) ? stage : { ...stage, changes: [...stage.changes, change] };
}

/** Whether anything on the target changed (keys, secrets, an install, an activation). */
export function touched(stage: HostStage): boolean {
  return stage.at !== 'untouched' && stage.at !== 'locked';
}

/** Whether a system was activated (or installed) in this run: verify and the history have work. */
export function activatedOrInstalled(stage: HostStage): boolean {
  if (stage.at === 'activated' || stage.at === 'confirmed') return true;
  if (stage.at === 'verified') return stage.activated || stage.changes.some((c) => c === 'installed');
  return changesOf(stage).some((c) => c === 'installed');
}

/** How one host's sequence ended: its outcome, the stage it reached, the typed failure if any. */
export interface HostResult {
  outcome: HostOutcome;
  stage: HostStage;
  failure?: HostError;
  /** The history records this run appended for the host, in order. */
  history: HistoryWrite[];
}
