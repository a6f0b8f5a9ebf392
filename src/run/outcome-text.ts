// The words of a host's outcome: what a finished sequence did, in one line, from the stage it
// reached. (Not in report/: report reads run's event types, and run importing it would make a cycle.)
import { diffSummary } from '../backends/index.js';
import type { HostPlan } from '../plan/index.js';
import { activatedOrInstalled, changesOf, touched, type HostStage } from './host-stage.js';

/** What a host that ended without a failure did: its outcome's reason (notes added by the caller). */
export function successReason(host: HostPlan, stage: HostStage, deployRequested: boolean): string {
  const diff = stage.at === 'untouched' ? undefined : stage.contact.diff;
  const changed = changedSystem(host, stage);
  if (diff && !changed && !deployRequested) return `${diffSummary(diff)}; nothing activated`;
  if (host.mode === 'dry-activate' && deployRequested) return 'dry-activate: nothing changed';
  if (!changed) return 'already up to date';
  const changes = changesOf(stage);
  const installed = changes.some((c) => c === 'installed');
  const activated = stage.at === 'activated' || stage.at === 'confirmed' || (stage.at === 'verified' && stage.activated);
  if (deployRequested && activated) return `${installed ? 'installed and ' : ''}deployed ${host.mode}`;
  if (installed) return 'installed';
  const parts = changes.filter((c) => c === 'keys pushed' || c === 'secrets uploaded');
  return parts.join(', ') || 'changed';
}

/** Whether the run changed the host (dry-activate never does). */
export function changedSystem(host: HostPlan, stage: HostStage): boolean {
  return touched(stage) && host.mode !== 'dry-activate';
}

/** A run that changed the host without deploying or installing a system (keys, secrets) says so in its summary. */
export function changedWithoutSystem(stage: HostStage): boolean {
  return !activatedOrInstalled(stage);
}

/** Why an interrupt stopped a host that was already changed. */
export function interruptedReason(stage: HostStage): string {
  if (stage.at === 'activated' || stage.at === 'confirmed' || (stage.at === 'verified' && stage.activated)) {
    const watched = stage.at === 'activated' && stage.activation.armed ? '; the watchdog rolls the host back unless it is confirmed' : '';
    return `interrupted after activation, before it was verified${watched}`;
  }
  return 'interrupted after the host was changed';
}
