// A host's rollback as planned commands: `fleet rollback` and a rollout's rollback of a failed wave
// (onFailure: rollback) run exactly these, so `fleet plan` can show them.
import { FRESH_CONNECTION, type SshSettings } from '../ssh/index.js';
import { appendHistoryCommand, armWatchdogCommand, confirmWatchdogCommand, lockCommand, onTarget, probeCommand } from './commands.js';
import { generationsCommand, oneShotSsh, ROLLBACK_SCRIPT, SYSTEM_PROFILE } from './operate-scripts.js';
import type { HostPlan, PlannedCommand, RollbackStep } from './types.js';

/**
 * The commands of one host's rollback to a generation known at run time (`<generation>`), under
 * the deploy lock; with `watchdogSeconds`, a switch is watched as a deploy is (arm, confirm over a
 * fresh connection), else a fresh probe checks it.
 */
export function rollbackCommands(ssh: SshSettings, action: 'switch' | 'boot', watchdogSeconds: number | undefined, guard: string): RollbackStep {
  const watched = action === 'switch' && watchdogSeconds !== undefined;
  return {
    kind: 'rollback',
    guard,
    action,
    generations: { purpose: 'list generations', argv: generationsCommand(ssh) },
    ...(watched ? { arm: armWatchdogCommand(ssh, watchdogSeconds, 'switch'), confirm: confirmWatchdogCommand(ssh) } : {}),
    activate: {
      purpose: `switch the profile to <generation>, switch-to-configuration ${action}`,
      argv: onTarget(ssh, ['sh', '-c', ROLLBACK_SCRIPT, 'fleet-rollback', SYSTEM_PROFILE, { ref: 'generation' }, action]),
    },
    check: probeCommand(ssh, undefined, FRESH_CONNECTION, 'verify'),
  };
}

/**
 * What `fleet rollback` runs on one host: its deploy lock, the rollback, then (when it was verified)
 * the record appended to the host's deploy history; or why it cannot.
 */
export type FleetRollbackPlan = { host: string; lock: PlannedCommand; rollback: RollbackStep; history: PlannedCommand } | { host: string; never: string };

/**
 * The plan of `fleet rollback` for one host (`fleet plan --for rollback` prints it): the deploy
 * lock held meanwhile, the rollback's own commands and the history append over one-shot connections.
 */
export function fleetRollbackPlan(host: HostPlan, action: 'switch' | 'boot', lockWaitSeconds: number, operator: string): FleetRollbackPlan {
  if (!host.ssh) return { host: host.name, never: 'fleet rollback works over ssh only (a local target is not rolled back)' };
  const watchdog = action === 'switch' ? (host.watchdogSeconds ?? undefined) : undefined;
  const guard = 'the generation before the boot default, or --to N, under the deploy lock';
  const once = oneShotSsh(host.ssh);
  const history = { ...appendHistoryCommand(once, true), purpose: 'record a verified rollback in the host history' };
  return { host: host.name, lock: lockCommand(host.ssh, lockWaitSeconds, operator), rollback: rollbackCommands(once, action, watchdog, guard), history };
}
