// A host's rollback as planned commands: `fleet rollback` and a rollout's rollback of a failed wave
// (onFailure: rollback) run exactly these, so `fleet plan` can show them.
import { FRESH_CONNECTION, type SshSettings } from '../ssh/index.js';
import { armWatchdogCommand, confirmWatchdogCommand, onTarget, probeCommand } from './commands.js';
import { generationsCommand, ROLLBACK_SCRIPT, SYSTEM_PROFILE } from './operate-scripts.js';
import type { RollbackStep } from './types.js';

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
