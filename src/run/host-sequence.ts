// One host's sequence: connect (lock + probe) → diff/confirm → read secrets → push-keys → bootstrap
// → secrets (before activation) → deploy → verify → secrets (after activation), each behind its
// guard. Sequencing only: the steps (host-steps.ts, deploy-steps.ts) move the host's stage, the
// outcome's words come from outcome-text.ts, the history from history-records.ts.
import { BuildFailed, ConsentRefused, HostError, HostUnreachable, Interrupted, UnreachableAfterDeadline, WatchdogRolledBack } from '../errors.js';
import { HostVerbs, provenNotNixos, trustedOnFirstUse, type HistoryWrite, type HostBuild } from '../backends/index.js';
import type { DiffStep, HostPlan, StepKind } from '../plan/index.js';
import type { HostOutcome, OutcomeKind, Phase, StepRecord } from './events.js';
import { activatedOrInstalled, touched, type Contacted, type HostResult, type HostStage } from './host-stage.js';
import { bootstrap, confirm, connect, diff, pushKeys, readSecrets, requested, Skip, StageFailure, uploadSecrets, type HostRunContext, type HostScope, type Moved } from './host-steps.js';
import { deploy, verify } from './deploy-steps.js';
import { changedSystem, changedWithoutSystem, interruptedReason, successReason } from './outcome-text.js';
import { recordActivations } from './history-records.js';

export type { HostRunContext } from './host-steps.js';

/** A failure that ends the host skipped, not failed: nobody consented, or Ctrl-C came before anything changed. */
function skips(error: unknown, stage: HostStage): boolean {
  return error instanceof ConsentRefused || (error instanceof Interrupted && !touched(stage));
}

/** The outcome a typed failure gives the host, by its type and how far the host had got. */
function outcomeKindOf(error: HostError, stage: HostStage, aborted: boolean): OutcomeKind {
  if (skips(error, stage) || (aborted && !touched(stage))) return 'skipped';
  if (error instanceof WatchdogRolledBack) return 'rolled-back';
  // Unreachable at first contact, or again after the watchdog's deadline; elsewhere a failed step.
  if (error instanceof UnreachableAfterDeadline || (error instanceof HostUnreachable && (error.step === 'probe' || error.step === 'lock'))) return 'unreachable';
  return 'failed';
}

/** Runs one host's whole sequence; never throws. */
export function runHost(host: HostPlan, build: HostBuild, ctx: HostRunContext): Promise<HostResult> {
  return new HostSequence(host, build, ctx).execute();
}

class HostSequence {
  /** Where the host stands: the one value every step moves on. */
  private stage: HostStage = { at: 'untouched' };
  private readonly steps: StepRecord[] = [];
  private readonly notes: string[] = [];
  private readonly startedAt: number;
  private readonly scope: HostScope;

  constructor(
    private readonly host: HostPlan,
    private readonly build: HostBuild,
    private readonly ctx: HostRunContext,
  ) {
    this.startedAt = ctx.now();
    const verbs = new HostVerbs(host, build, {
      ...(ctx.earlyLock ? { digestKey: ctx.earlyLock.digestKey } : {}),
      exec: ctx.exec,
      signal: ctx.signal,
      now: ctx.now,
      sleep: ctx.sleep,
      onLine: (step, line) => ctx.emit({ type: 'step-line', host: host.name, step, line }),
      onQuietLine: (step, line) => ctx.emit({ type: 'step-line', host: host.name, step, line, quiet: true }),
      onProgress: (step, done, total) => ctx.emit({ type: 'step-progress', host: host.name, step, done, total, unit: 'paths' }),
    });
    this.scope = { host, build, ctx, verbs, note: (level, message) => this.note(level, message) };
  }

  private get name(): string {
    return this.host.name;
  }

  private note(level: 'info' | 'warn', message: string): void {
    this.notes.push(message);
    this.ctx.emit({ type: 'host-note', host: this.name, level, message });
  }

  private record(step: Phase, status: StepRecord['status'], detail: string, startedAt: number): void {
    this.steps.push({ step, status, detail, startedAt, finishedAt: this.ctx.now() });
  }

  /** Records a step that does not run, without starting it. */
  private skipStep(phase: Phase, reason: string): void {
    this.record(phase, 'skipped', reason, this.ctx.now());
    this.ctx.emit({ type: 'step-skip', host: this.name, step: phase, reason });
  }

  /**
   * Runs one step on the host's stage: events, timing, the step record. A step that moves the host
   * sets its new stage; a failure sets the stage the step had reached and is rethrown unwrapped.
   */
  private async step(phase: Phase, title: string, body: (stage: Contacted) => Promise<Moved | Skip>): Promise<void> {
    if (this.ctx.signal.aborted) {
      // Only a host on which nothing ran is "skipped"; one that was changed and not verified failed.
      throw new Interrupted(this.name, phase, touched(this.stage) ? interruptedReason(this.stage) : 'interrupted before this step');
    }
    const startedAt = this.ctx.now();
    if (phase !== 'probe' && !requested(this.scope, phase as StepKind)) return this.skipStep(phase, 'not requested');
    this.ctx.emit({ type: 'step-start', host: this.name, step: phase, title });
    try {
      const result = await body(this.stage as Contacted);
      if (result instanceof Skip) {
        this.record(phase, 'skipped', result.reason, startedAt);
        this.ctx.emit({ type: 'step-skip', host: this.name, step: phase, reason: result.reason });
        return;
      }
      this.stage = result.stage;
      this.record(phase, 'done', result.detail, startedAt);
      this.ctx.emit({ type: 'step-done', host: this.name, step: phase, detail: result.detail });
    } catch (thrown) {
      if (thrown instanceof StageFailure) this.stage = thrown.stage;
      const error = thrown instanceof StageFailure ? thrown.failure : thrown;
      const reason = error instanceof Error ? error.message : String(error);
      if (skips(error, this.stage)) {
        this.record(phase, 'skipped', reason, startedAt);
        this.ctx.emit({ type: 'step-skip', host: this.name, step: phase, reason });
      } else {
        this.record(phase, 'failed', reason, startedAt);
        this.ctx.emit({ type: 'step-failed', host: this.name, step: phase, reason });
      }
      throw error;
    }
  }

  /** The steps in order, each behind its guard. */
  private async sequence(): Promise<void> {
    const trustedBefore = trustedOnFirstUse(this.host);
    await this.step('probe', this.host.connect.kind === 'lock-and-probe' ? 'lock and probe' : 'probe', () => connect(this.scope, trustedBefore));
    const s = this.scope;
    const bootstrapping = 'install' in this.host.bootstrap && provenNotNixos((this.stage as Contacted).contact.facts);

    // Asked for (fleet diff, --diff, --confirm): before anything on the target changes.
    if (!('never' in this.host.diff)) {
      const diffStep: DiffStep = this.host.diff;
      await this.step('diff', 'diff', (stage) => diff(s, stage, diffStep));
      // After the diff step has ended, so that every view shows the diff while the question waits.
      if (diffStep.use === 'confirm') await confirm(s, this.stage as Contacted);
    }
    // fleet diff runs the diff alone: the other steps are not its business, not even as skips.
    if (this.ctx.plan.scope.steps.length === 1 && requested(s, 'diff')) return;

    // Secret sources are read before anything on the host changes: a failing one fails it here.
    const secrets = this.host.secrets;
    const uploads = !('never' in secrets) && requested(s, 'secrets');
    if (!('never' in secrets)) await this.step('secrets', 'read secrets', (stage) => readSecrets(s, stage));
    await this.step('push-keys', 'push keys', (stage) => pushKeys(s, stage, bootstrapping));
    await this.step('bootstrap', 'bootstrap (nixos-anywhere)', (stage) => bootstrap(s, stage, bootstrapping));
    if (uploads && secrets.beforeActivation) await this.step('secrets', 'upload secrets before activation', (stage) => uploadSecrets(s, stage, 'before'));
    await this.step('deploy', `deploy (${this.host.mode})`, (stage) => deploy(s, stage));
    // Nothing was activated or installed (already up to date): no fresh connection, nothing to prove.
    if (activatedOrInstalled(this.stage)) await this.step('verify', 'verify', (stage) => verify(s, stage));
    else this.skipStep('verify', requested(s, 'verify') ? 'nothing was activated' : 'not requested');
    if (uploads && secrets.afterActivation) await this.step('secrets', 'upload secrets after activation', (stage) => uploadSecrets(s, stage, 'after'));
  }

  async execute(): Promise<HostResult> {
    this.ctx.emit({ type: 'host-start', host: this.name });
    let kind: OutcomeKind = 'unchanged';
    let step: Phase = 'probe';
    let reason = '';
    let tail: string[] = [];
    let hint: string | undefined;
    let failure: HostError | undefined;
    const history: HistoryWrite[] = [];
    try {
      await this.sequence();
      const changed = changedSystem(this.host, this.stage);
      // A failed write is a warning on a good deploy.
      history.push(...(await recordActivations(this.scope, this.stage, undefined)));
      kind = changed ? 'changed' : 'unchanged';
      reason = successReason(this.host, this.stage, requested(this.scope, 'deploy'));
      if (this.notes.length > 0) reason += ` (${this.notes.join('; ')})`;
      const diffed = this.stage.at !== 'untouched' && this.stage.contact.diff;
      // fleet diff ends at its diff, whatever later steps it did not request.
      step = diffed && !requested(this.scope, 'deploy') ? 'diff' : (this.steps.at(-1)?.step ?? step);
    } catch (error) {
      step = error instanceof BuildFailed ? 'build' : (this.steps.at(-1)?.step ?? step);
      if (error instanceof HostError) {
        failure = error;
        kind = outcomeKindOf(error, this.stage, this.ctx.signal.aborted);
        reason = error.message;
        tail = error.tail.slice(-20);
        hint = error.hint;
        // The history is an audit log: what was activated is recorded, however it ended.
        history.push(...(await recordActivations(this.scope, this.stage, error)));
      } else {
        kind = 'failed';
        reason = error instanceof Error ? error.message : String(error);
      }
    } finally {
      // Together: `ssh -O stop` lets the master end with its last session, the lock session.
      const connection = this.stage.at === 'untouched' ? undefined : this.stage.contact.connection;
      await Promise.all([connection?.release(), this.scope.verbs.close()]);
    }
    const diff = this.stage.at === 'untouched' ? undefined : this.stage.contact.diff;
    const written = history.at(-1);
    const outcome: HostOutcome = {
      host: this.name,
      kind,
      mode: this.host.mode,
      step,
      reason,
      // A run that changed the host without deploying it (keys, secrets) is not "deployed <mode>".
      ...(kind === 'changed' && changedWithoutSystem(this.stage) ? { summary: reason } : {}),
      storePath: this.build.toplevel || undefined,
      tail,
      ...(hint ? { hint } : {}),
      startedAt: this.startedAt,
      finishedAt: this.ctx.now(),
      steps: this.steps,
      ...(diff ? { diff } : {}),
      ...(written ? { history: written } : {}),
      ...(this.scope.verbs.uploaded ? { uploaded: this.scope.verbs.uploaded } : {}),
    };
    this.ctx.emit({ type: 'host-done', outcome });
    return { outcome, stage: this.stage, ...(failure ? { failure } : {}), history };
  }
}
