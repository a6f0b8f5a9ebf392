// The deploy and verify steps: copy the closure, arm the watchdog, activate, settle the watchdog
// over a fresh connection, verify the running system and the health checks. Each takes the host
// from one stage to the next (host-stage.ts) or throws a typed failure.
import { HostError, Interrupted, UnreachableAfterDeadline, WatchdogRolledBack } from '../errors.js';
import { isDeployed, parseProbe, provenNotNixos, type Activated, type ArmedWatchdog, type ProbeFacts, type VerbStep } from '../backends/index.js';
import type { DeployStep, HostPlan, VerifyStep, WatchedActivation } from '../plan/index.js';
import { withChange, type Contacted } from './host-stage.js';
import { changing, closurePresent, outputsBuilt, Skip, StageFailure, type HostScope, type Moved } from './host-steps.js';

/** Copies the closure where it is missing, arms the watchdog (live modes) and activates the built system. */
export async function deploy(s: HostScope, stage: Contacted): Promise<Moved | Skip> {
  const step: DeployStep = s.host.deploy;
  const facts = stage.contact.facts;
  const mode = s.host.mode;
  const name = s.host.name;
  if (provenNotNixos(facts)) {
    throw new HostError(
      name,
      'deploy',
      'the target is not NixOS (no /etc/NIXOS, no /run/current-system) and has no bootstrap options: nothing to deploy onto',
      [],
      'add `bootstrap:` to the host to install NixOS with nixos-anywhere',
    );
  }
  // A specialisation's live system is known once the closure is on the target (found there).
  const special = step.specialisation;
  let liveSystem: string | undefined;
  if (special && (stage.contact.closureOnTarget || (await closurePresent(s, stage)))) liveSystem = await s.verbs.findSpecialisation(special);
  if (!s.ctx.plan.force && (!special || liveSystem) && isDeployed(mode, facts, s.build.toplevel, liveSystem)) return new Skip(`already runs ${liveSystem ?? s.build.toplevel}`);
  const activation = step.activation;
  // The probe said whether the closure is there; a bootstrap or the diff has just put it there.
  const present = stage.contact.closureOnTarget || (await closurePresent(s, stage));
  // Activation needs the built system here only to copy it, or when this machine is the target.
  if (!present || !step.copy) await outputsBuilt(s);
  if (step.copy && !present) await s.verbs.copyClosure(step.copy, step.copyTimeoutSeconds);
  else if (step.copy) s.ctx.emit({ type: 'step-line', host: name, step: 'deploy', line: 'closure already on the target: nothing to copy' });
  if (special) liveSystem ??= await s.verbs.findSpecialisation(special);
  const copied: Contacted = { ...stage, contact: { ...stage.contact, closureOnTarget: true, ...(liveSystem ? { liveSystem } : {}) } };

  // From arming on, the target may change (the watchdog acts on its own): no longer "skipped".
  const arming = mode === 'dry-activate' ? copied : withChange(copied, 'watchdog armed');
  let armed: ArmedWatchdog | undefined;
  const activated: Activated = await changing(arming, async () => {
    if (activation.kind === 'watched' && activation.arm === 'in-activate') {
      const both = await s.verbs.armAndActivate(activation.activate, activation.timeoutSeconds, step.activationTimeoutSeconds);
      armed = both.armed;
      return both;
    }
    if (activation.kind === 'watched') armed = await s.verbs.arm(activation.arm, activation.timeoutSeconds);
    return s.verbs.activate(activation.activate, step.activationTimeoutSeconds);
  });
  const { verdict, tail, timedOut } = activated;
  // dry-activate changes nothing: the host stays where it was.
  const after: Contacted = arming.at === 'locked' ? arming : { at: 'activated', contact: arming.contact, changes: arming.changes, activation: armed ? { armed } : {} };
  const fail = async (error: HostError): Promise<never> => {
    // A failed activation left the host reachable (or not): settle the watchdog either way.
    if (activation.kind !== 'watched' || !armed || after.at === 'locked') throw new StageFailure(after, error);
    const watched = armed;
    const running = await changing(after, () => settle(s, activation, watched, 'deploy'));
    throw new StageFailure({ at: 'confirmed', contact: after.contact, changes: after.changes, confirmed: running }, error);
  };
  if (verdict.kind === 'failed') {
    if (s.ctx.signal.aborted) {
      throw new StageFailure(after, new Interrupted(name, 'deploy', `interrupted during activation${armed ? '; the watchdog rolls the host back unless it is confirmed' : ''}`, tail));
    }
    const why = timedOut ? `took longer than ${step.activationTimeoutSeconds}s (activationTimeout), stopped` : `failed (exit ${verdict.exitCode ?? verdict.signal})`;
    await fail(new HostError(name, 'deploy', `${activation.activate.purpose} ${why}`, tail));
  }
  if (verdict.kind === 'units-failed') {
    if (!step.tolerateUnitFailures) await fail(new HostError(name, 'deploy', 'activated, but some units failed (switch-to-configuration exit 4)', tail, 'set tolerateUnitFailures: true to accept this'));
    s.note('warn', 'some units failed (tolerated)');
  }
  if (verdict.kind === 'reboot-required') s.note('warn', 'reboot required to complete the activation');
  return { stage: after, detail: `${mode} ${s.build.toplevel}` };
}

/** Proves the activated system: the watchdog confirmed (or the plain check), the built system running, the health checks. */
export async function verify(s: HostScope, stage: Contacted): Promise<Moved | Skip> {
  const planned: HostPlan['verify'] = s.host.verify;
  if ('never' in planned) return new Skip(planned.never);
  const step: VerifyStep = planned;
  const mode = s.host.mode;
  const name = s.host.name;
  const activation = s.host.deploy.activation;
  const activated = stage.at === 'activated' || stage.at === 'confirmed';
  let facts: ProbeFacts;
  let confirmed = false;
  let at: Contacted = stage;
  if (stage.at === 'activated' && activation.kind === 'watched' && stage.activation.armed) {
    const running = await changing(stage, () => settle(s, activation, stage.activation.armed as ArmedWatchdog, 'verify'));
    at = { at: 'confirmed', contact: stage.contact, changes: stage.changes, confirmed: running };
    facts = running;
    confirmed = true;
  } else if (stage.at === 'confirmed') {
    facts = stage.confirmed;
    confirmed = true;
  } else if (!activated) {
    // Installed, nothing activated since: the installed system already answered a fresh connection.
    facts = stage.contact.facts;
  } else if (activation.kind === 'plain' && activation.check) {
    const check = activation.check;
    facts = await changing(stage, () => s.verbs.probe('verify', check.command));
  } else {
    return new Skip('nothing to verify');
  }
  const changes = at.at === 'locked' ? [] : at.changes;
  const seen: Contacted = { at: 'verified', contact: at.contact, changes, activated, running: facts };
  const liveSystem = at.contact.liveSystem;
  if (!isDeployed(mode, facts, s.build.toplevel, liveSystem)) {
    const found = mode === 'boot' ? facts.profile : facts.current;
    const expected = mode === 'boot' ? s.build.toplevel : (liveSystem ?? s.build.toplevel);
    throw new StageFailure(seen, new HostError(name, 'verify', `expected ${expected} as the ${mode === 'boot' ? 'boot default' : 'live system'}, found ${found || 'nothing'}`));
  }
  for (const check of step.healthChecks) {
    await changing(seen, () => s.verbs.healthCheck(check));
  }
  const checked = step.healthChecks.length > 0 ? `; health checks passed (${step.healthChecks.map((c) => c.check.name).join(', ')})` : '';
  if (mode === 'boot') return { stage: seen, detail: 'boot default is the built system' };
  const fresh = !activated || activation.kind === 'watched' || activation.check?.fresh;
  const reached = fresh ? 'reachable over a fresh connection, running' : 'running';
  return { stage: seen, detail: `${reached} the built system${confirmed ? '; watchdog confirmed' : ''}${checked}` };
}

/**
 * After activation: prove a brand-new connection works and confirm the watchdog (the facts it
 * reports); if no new connection succeeds before the deadline, wait for the target to roll itself
 * back and check, failing typed: rolled back, or unreachable after the deadline.
 */
export async function settle(s: HostScope, activation: WatchedActivation, armed: ArmedWatchdog, phase: VerbStep): Promise<ProbeFacts> {
  const settled = await s.verbs.settle(activation, armed, phase, (at, lastFailure) => {
    s.note('warn', `lost SSH after activation${lastFailure ? ` (${lastFailure})` : ''} — target rolls back at ${at}`);
  });
  const name = s.host.name;
  switch (settled.kind) {
    case 'confirmed':
      return parseProbe(settled.answer, name);
    case 'interrupted':
      throw new Interrupted(name, phase, settled.reason);
    case 'rolled-back':
      throw new WatchdogRolledBack(name, phase, settled.reason, armed.previous);
    case 'unreachable':
      throw new UnreachableAfterDeadline(name, phase, settled.reason);
    case 'failed':
      throw new HostError(name, phase, settled.reason);
  }
}
