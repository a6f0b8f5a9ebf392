// One host's sequence: connect (lock + probe) → read secrets → push-keys → bootstrap → secrets
// (before activation) → deploy → verify → secrets (after activation), each behind
// its guard. Sequencing and outcomes only: every command runs through the host's verbs.
import { readFileSync, rmSync } from 'node:fs';
import { BuildFailed, ConsentRefused, HealthCheckFailed, HostError, HostUnreachable, Interrupted, UnreachableAfterDeadline, WatchdogRolledBack } from '../errors.js';
import {
  addKnownHosts,
  appendHistoryOverLock,
  historyRecord,
  describeOutOfPlace,
  diffSummary,
  HostVerbs,
  SecretReader,
  isDeployed,
  keysToPush,
  knownHostsLines,
  parseProbe,
  provenNotNixos,
  resolveKeys,
  stageBootstrapFiles,
  type Activated,
  type ArmedWatchdog,
  type ClosureDiff,
  type Connection,
  type HeldLock,
  type HistoryWrite,
  type HostBuild,
  type ProbeFacts,
  type ResolvedKeys,
  type SecretState,
  type VerbStep,
} from '../backends/index.js';
import type { Exec } from '../exec/index.js';
import type { BootstrapStep, DeployStep, DiffStep, HostPlan, Plan, PushKeysStep, SecretsStep, StepKind, VerifyStep, WatchedActivation } from '../plan/index.js';
import { knownHostsName, knownKeysFor, sha256Fingerprint } from '../ssh/index.js';
import type { HostOutcome, OutcomeKind, Phase, RunEvent, StepRecord } from './events.js';

/** What a host run needs from the fleet-wide run. */
export interface HostRunContext {
  plan: Plan;
  exec: Exec;
  emit: (event: RunEvent) => void;
  /** Aborted on Ctrl-C: no new step starts; running processes get SIGINT. */
  signal: AbortSignal;
  /** Asks before wiping disks; undefined means only --yes gives consent. */
  confirmBootstrap?: (host: string, target: string) => Promise<boolean>;
  /**
   * The --confirm gate for this host: resolves once every host's diff is in and the one question
   * is answered (true: go on). Undefined with a plan that confirms: nobody can answer, so no.
   */
  confirmDiff?: (diff: ClosureDiff) => Promise<boolean>;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /**
   * Resolves once the host's outputs are built here (undefined) or could not be (the failure).
   * The host starts as soon as they are evaluated: only installing and copying wait for this.
   * Absent: built already.
   */
  realised?: () => Promise<{ reason: string; tail: string[] } | undefined>;
  /** Reads secret sources once per run for every host (a host run without one reads its own). */
  secrets?: SecretReader;
  /** The host's lock session, started when the run started (`lockEarly`, with `digestKey`). */
  earlyLock?: { lock: Promise<HeldLock>; digestKey: string };
}

/** A step that decided not to run. */
class Skip {
  constructor(readonly reason: string) {}
}

/** How far a host got: what the outcome of an interrupted or failed run must say. */
type Progress = 'untouched' | 'touched' | 'activated';

/** A failure that ends the host skipped, not failed: nobody consented, or Ctrl-C came before anything changed. */
function skips(error: unknown, progress: Progress): boolean {
  return error instanceof ConsentRefused || (error instanceof Interrupted && progress === 'untouched');
}

/** The outcome a typed failure gives the host, by its type and how far the host had got. */
function outcomeKindOf(error: HostError, progress: Progress, aborted: boolean): OutcomeKind {
  if (skips(error, progress) || (aborted && progress === 'untouched')) return 'skipped';
  if (error instanceof WatchdogRolledBack) return 'rolled-back';
  // Unreachable at first contact, or again after the watchdog's deadline; elsewhere a failed step.
  if (error instanceof UnreachableAfterDeadline || (error instanceof HostUnreachable && (error.step === 'probe' || error.step === 'lock'))) return 'unreachable';
  return 'failed';
}

export class HostRun {
  private readonly steps: StepRecord[] = [];
  private readonly startedAt: number;
  private readonly notes: string[] = [];
  private readonly verbs: HostVerbs;
  private facts?: ProbeFacts;
  private progress: Progress = 'untouched';
  private bootstrapped = false;
  /** The deploy step activated something (verify has work to do). */
  private activated = false;
  private resolvedKeys?: ResolvedKeys;
  private armed?: ArmedWatchdog;
  private watchdogConfirmed = false;
  /** The facts the confirming connection reported, for verify. */
  private confirmedFacts?: ProbeFacts;
  /** What verify saw running: the system and generation the history records. */
  private verifiedFacts?: ProbeFacts;
  /** Contents of the host's secrets (in memory only), in the order of its secrets step. */
  private secretContents?: Buffer[];
  /** How each secret stood on the target at the probe. */
  private secretStates?: SecretState[];
  private keysPushed = false;
  private secretsUploaded = false;
  /** What the deploy changes, when a diff was asked for. */
  private closureDiff?: ClosureDiff;
  /** The diff step copied the closure (or found it there): deploy need not. */
  private closureCopied = false;
  /** The first contact's session (the held lock). */
  private connection?: Connection;
  /** What the first probe found, before this run changed anything (a rollout's rollback goes back to it). */
  private before?: ProbeFacts;
  /** The typed failure that ended the host, if one did (a rollout names a failed health check). */
  private failure?: HostError;

  constructor(
    private readonly host: HostPlan,
    private readonly build: HostBuild,
    private readonly ctx: HostRunContext,
  ) {
    this.startedAt = ctx.now();
    this.verbs = new HostVerbs(host, build, {
      ...(ctx.earlyLock ? { digestKey: ctx.earlyLock.digestKey } : {}),
      exec: ctx.exec,
      signal: ctx.signal,
      now: ctx.now,
      sleep: ctx.sleep,
      onLine: (step, line) => ctx.emit({ type: 'step-line', host: host.name, step, line }),
      onQuietLine: (step, line) => ctx.emit({ type: 'step-line', host: host.name, step, line, quiet: true }),
      onProgress: (step, done, total) => ctx.emit({ type: 'step-progress', host: host.name, step, done, total, unit: 'paths' }),
    });
  }

  private get name(): string {
    return this.host.name;
  }

  private get scope(): Plan['scope'] {
    return this.ctx.plan.scope;
  }

  private requested(kind: StepKind): boolean {
    return this.scope.steps.includes(kind);
  }

  /** Wraps one step: events, timing, the step record; a thrown HostError fails it. */
  private async step<T>(phase: Phase, title: string, body: () => Promise<T | Skip>): Promise<T | undefined> {
    if (this.ctx.signal.aborted) {
      // Only a host on which nothing ran is "skipped"; one that was changed and not verified failed.
      if (this.progress === 'untouched') throw new Interrupted(this.name, phase, 'interrupted before this step');
      const watched = this.armed ? '; the watchdog rolls the host back unless it is confirmed' : '';
      throw new Interrupted(this.name, phase, this.progress === 'activated' ? `interrupted after activation, before it was verified${watched}` : 'interrupted after the host was changed');
    }
    const startedAt = this.ctx.now();
    if (phase !== 'probe' && !this.requested(phase as StepKind)) {
      this.skipStep(phase, 'not requested');
      return undefined;
    }
    this.ctx.emit({ type: 'step-start', host: this.name, step: phase, title });
    try {
      const result = await body();
      const finishedAt = this.ctx.now();
      if (result instanceof Skip) {
        this.steps.push({ step: phase, status: 'skipped', detail: result.reason, startedAt, finishedAt });
        this.ctx.emit({ type: 'step-skip', host: this.name, step: phase, reason: result.reason });
        return undefined;
      }
      const detail = typeof result === 'string' ? result : phase === 'probe' ? this.describeFacts() : 'done';
      this.steps.push({ step: phase, status: 'done', detail, startedAt, finishedAt });
      this.ctx.emit({ type: 'step-done', host: this.name, step: phase, detail });
      return result;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const finishedAt = this.ctx.now();
      if (skips(error, this.progress)) {
        this.steps.push({ step: phase, status: 'skipped', detail: reason, startedAt, finishedAt });
        this.ctx.emit({ type: 'step-skip', host: this.name, step: phase, reason });
      } else {
        this.steps.push({ step: phase, status: 'failed', detail: reason, startedAt, finishedAt });
        this.ctx.emit({ type: 'step-failed', host: this.name, step: phase, reason });
      }
      throw error;
    }
  }

  /** Records a step that does not run, without starting it. */
  private skipStep(phase: Phase, reason: string): void {
    const at = this.ctx.now();
    this.steps.push({ step: phase, status: 'skipped', detail: reason, startedAt: at, finishedAt: at });
    this.ctx.emit({ type: 'step-skip', host: this.name, step: phase, reason });
  }

  private note(level: 'info' | 'warn', message: string): void {
    this.notes.push(message);
    this.ctx.emit({ type: 'host-note', host: this.name, level, message });
  }

  /** Runs the whole sequence and returns the outcome; never throws. */
  async execute(): Promise<HostOutcome> {
    this.ctx.emit({ type: 'host-start', host: this.name });
    let kind: OutcomeKind = 'unchanged';
    let step: Phase = 'probe';
    let reason = '';
    let tail: string[] = [];
    let hint: string | undefined;
    let history: HistoryWrite | undefined;
    let connection: Connection | undefined;
    const trustedBefore = this.tofuKeys();
    try {
      const title = this.host.connect.kind === 'lock-and-probe' ? 'lock and probe' : 'probe';
      connection = await this.step('probe', title, async () => {
        const connected = await this.verbs.connect(this.ctx.earlyLock?.lock);
        // Set before the step records its detail, which describes these facts.
        this.facts = connected.facts;
        this.before = connected.facts;
        return connected;
      });
      this.connection = connection;
      if (trustedBefore && trustedBefore.length === 0) this.noteFirstUse();
      const facts = this.facts as ProbeFacts;
      const bootstrapping = 'install' in this.host.bootstrap && provenNotNixos(facts);

      // Asked for (fleet diff, --diff, --confirm): before anything on the target changes.
      if (!('never' in this.host.diff)) {
        const diffStep: DiffStep = this.host.diff;
        await this.step('diff', 'diff', () => this.diff(diffStep));
        // After the diff step has ended, so that every view shows the diff while the question waits.
        if (diffStep.use === 'confirm') await this.confirm();
      }
      // fleet diff runs the diff alone: the other steps are not its business, not even as skips.
      const diffOnly = this.scope.steps.length === 1 && this.requested('diff');
      if (!diffOnly) {
        // Secret sources are read before anything on the host changes: a failing one fails it here.
        const secrets = this.host.secrets;
        const uploads = !('never' in secrets) && this.requested('secrets');
        if (!('never' in secrets)) await this.step('secrets', 'read secrets', () => this.readSecrets());

        await this.step('push-keys', 'push keys', () => this.pushKeys(bootstrapping));
        await this.step('bootstrap', 'bootstrap (nixos-anywhere)', () => this.bootstrap(bootstrapping));
        if (uploads && secrets.beforeActivation) await this.step('secrets', 'upload secrets before activation', () => this.uploadSecrets('before'));
        await this.step('deploy', `deploy (${this.host.mode})`, () => this.deploy());
        // Nothing was activated or installed (already up to date): no fresh connection, nothing to prove.
        if (this.activated || this.bootstrapped) await this.step('verify', 'verify', () => this.verify());
        else this.skipStep('verify', this.requested('verify') ? 'nothing was activated' : 'not requested');
        if (uploads && secrets.afterActivation) await this.step('secrets', 'upload secrets after activation', () => this.uploadSecrets('after'));
      }

      const changed = this.progress !== 'untouched' && this.host.mode !== 'dry-activate';
      // Only a verified new system is recorded; a failed write is a warning on a good deploy.
      if (changed && (this.activated || this.bootstrapped)) history = await this.recordHistory();
      kind = changed ? 'changed' : 'unchanged';
      reason =
        this.closureDiff && !changed && !this.requested('deploy')
          ? `${diffSummary(this.closureDiff)}; nothing activated`
          : this.host.mode === 'dry-activate' && this.requested('deploy')
            ? 'dry-activate: nothing changed'
            : changed
              ? this.requested('deploy') && this.activated
                ? `${this.bootstrapped ? 'installed and ' : ''}deployed ${this.host.mode}`
                : this.bootstrapped
                  ? 'installed'
                  : [this.keysPushed ? 'keys pushed' : '', this.secretsUploaded ? 'secrets uploaded' : ''].filter(Boolean).join(', ') || 'changed'
              : 'already up to date';
      if (this.notes.length > 0) reason += ` (${this.notes.join('; ')})`;
      // fleet diff ends at its diff, whatever later steps it did not request.
      step = this.closureDiff && !this.requested('deploy') ? 'diff' : (this.steps.at(-1)?.step ?? step);
    } catch (error) {
      step = error instanceof BuildFailed ? 'build' : (this.steps.at(-1)?.step ?? step);
      if (error instanceof HostError) {
        this.failure = error;
        kind = outcomeKindOf(error, this.progress, this.ctx.signal.aborted);
        reason = error.message;
        tail = error.tail.slice(-20);
        hint = error.hint;
      } else {
        kind = 'failed';
        reason = error instanceof Error ? error.message : String(error);
      }
    } finally {
      // Together: `ssh -O stop` lets the master end with its last session, the lock session.
      await Promise.all([connection?.release(), this.verbs.close()]);
    }
    const outcome: HostOutcome = {
      host: this.name,
      kind,
      mode: this.host.mode,
      step,
      reason,
      // A run that changed the host without deploying it (keys, secrets) is not "deployed <mode>".
      ...(kind === 'changed' && !this.activated && !this.bootstrapped ? { summary: reason } : {}),
      storePath: this.build.toplevel || undefined,
      tail,
      ...(hint ? { hint } : {}),
      startedAt: this.startedAt,
      finishedAt: this.ctx.now(),
      steps: this.steps,
      ...(this.closureDiff ? { diff: this.closureDiff } : {}),
      ...(history ? { history } : {}),
    };
    this.ctx.emit({ type: 'host-done', outcome });
    return outcome;
  }

  /** Appends this deploy or install to the host's history; a failure becomes a warning note. */
  private async recordHistory(): Promise<HistoryWrite | undefined> {
    const planned: HostPlan['history'] = this.host.history;
    const mode = this.host.mode;
    if ('never' in planned || mode === 'dry-activate') return undefined;
    const facts = this.verifiedFacts ?? this.facts;
    const system = this.build.toplevel;
    const record = historyRecord(this.ctx.plan.provenance, {
      time: this.ctx.now(),
      host: this.name,
      action: this.bootstrapped ? 'install' : 'deploy',
      mode,
      system,
      // test mode makes no generation: the profile is then another system.
      generation: facts && facts.profile === system ? (facts.generation ?? null) : null,
    });
    // Over the held lock session, which is still open: no session of its own. Not after an install:
    // nixos-anywhere rebooted the host, and the session went with the installer.
    const overLock = planned.overLockSession && !this.bootstrapped ? this.connection?.appendHistory : undefined;
    const written = overLock ? await appendHistoryOverLock(overLock, planned.file, record) : await this.verbs.appendHistory(planned.append, record);
    if (!written.written) this.note('warn', `deploy history not written: ${written.reason}`);
    return written;
  }

  /** Whether this run changed the target (keys, an install, an activation): only such a host is rolled back. */
  get changedTarget(): boolean {
    return this.progress !== 'untouched' && this.host.mode !== 'dry-activate';
  }

  /** The name of the health check that failed this host, if one did. */
  get failedHealthCheck(): string | undefined {
    return this.failure instanceof HealthCheckFailed ? this.failure.check : undefined;
  }

  /**
   * After the host's rollout wave failed (onFailure: rollback): back to the generation it ran
   * before this run, as `fleet rollback` does. Only a host this run changed (it ended changed, or
   * failed after changing the target) is rolled back; `why` says why the wave failed. Emits the
   * rollback step; the caller emits the final outcome.
   */
  async rollBack(outcome: HostOutcome, why: string): Promise<HostOutcome> {
    if (!this.changedTarget || (outcome.kind !== 'changed' && outcome.kind !== 'failed')) return outcome;
    const generation = this.before?.generation;
    const startedAt = this.ctx.now();
    // The outcome's steps with the rollback step added.
    const record = (status: StepRecord['status'], detail: string): StepRecord[] => [...outcome.steps, { step: 'rollback', status, detail, startedAt, finishedAt: this.ctx.now() }];
    if (generation === undefined) {
      const detail = 'not rolled back: the host had no system generation before this run';
      this.ctx.emit({ type: 'step-skip', host: this.name, step: 'rollback', reason: detail });
      return { ...outcome, reason: `${outcome.reason}; ${detail}`, steps: record('skipped', detail), finishedAt: this.ctx.now() };
    }
    const action = this.host.mode === 'boot' ? 'boot' : 'switch';
    this.ctx.emit({ type: 'step-start', host: this.name, step: 'rollback', title: `roll back to generation ${generation} (${action})` });
    const result = await this.verbs.rollBack(generation, action);
    if (result.kind === 'changed') {
      // A rollback through fleet is a change of system: the host's history records it, as fleet rollback does.
      const planned: HostPlan['history'] = this.host.history;
      if (!('never' in planned) && result.storePath && result.generation !== undefined) {
        const entry = {
          ...historyRecord(this.ctx.plan.provenance, { time: this.ctx.now(), host: this.name, action: 'rollback', mode: action, system: result.storePath, generation: result.generation }),
          // Nothing was built for it: the revision is that of the generation gone back to, if recorded.
          revision: result.record?.revision ?? null,
        };
        const written = await this.verbs.appendHistory(planned.append, entry);
        if (!written.written) this.note('warn', `deploy history not written: ${written.reason}`);
      }
    }
    await this.verbs.close();
    const finishedAt = this.ctx.now();
    if (result.kind === 'unchanged') {
      // Failed before anything was activated: it still runs what it ran before.
      this.ctx.emit({ type: 'step-skip', host: this.name, step: 'rollback', reason: result.reason });
      return { ...outcome, steps: record('skipped', result.reason), finishedAt };
    }
    if (result.kind === 'changed') {
      this.ctx.emit({ type: 'step-done', host: this.name, step: 'rollback', detail: result.reason });
      const back = `rolled back to generation ${generation}`;
      // A failed health check said the new system stays live: it no longer is.
      const failure = this.failure;
      const reason =
        failure instanceof HealthCheckFailed
          ? `health check "${failure.check}" failed (${failure.detail}); ${back}`
          : outcome.kind === 'failed'
            ? `${outcome.reason}; ${back}`
            : `deployed, then ${back}: ${why}`;
      const { hint: _done, ...rest } = outcome;
      return { ...rest, kind: 'rolled-back', step: 'rollback', reason, steps: record('done', result.reason), finishedAt };
    }
    this.ctx.emit({ type: 'step-failed', host: this.name, step: 'rollback', reason: result.reason });
    return {
      ...outcome,
      kind: result.kind === 'unreachable' ? 'unreachable' : 'failed',
      step: 'rollback',
      reason: `${outcome.kind === 'failed' ? `${outcome.reason}; ` : ''}rolling back to generation ${generation} failed: ${result.reason}`,
      tail: result.tail.slice(-20),
      hint: `see fleet generations ${this.name}; fleet rollback ${this.name} --to ${generation}`,
      steps: record('failed', result.reason),
      finishedAt,
    };
  }

  /** With trustOnFirstUse: the keys fleet's TOFU known_hosts holds for this host now; else undefined. */
  private tofuKeys(): { type: string; key: string }[] | undefined {
    const ssh = this.host.ssh;
    if (!ssh?.trustOnFirstUse) return undefined;
    let text = '';
    try {
      text = readFileSync(ssh.knownHostsFiles[0] as string, 'utf8');
    } catch {
      // No file yet: nothing trusted yet.
    }
    return knownKeysFor(text, knownHostsName(ssh.endpoint));
  }

  /** ssh accepted a key this run (accept-new): say which, so the user can check it out of band. */
  private noteFirstUse(): void {
    for (const key of this.tofuKeys() ?? []) {
      this.note('info', `trusted on first use: ${key.type} ${sha256Fingerprint(key)}`);
    }
  }

  /**
   * Copies the closure (the copy deploy makes anyway) and compares the live system with the built
   * one on the target; shows the diff (--diff) or waits for the one question (--confirm).
   */
  private async diff(step: DiffStep): Promise<string | Skip> {
    const facts = this.facts as ProbeFacts;
    const toplevel = this.build.toplevel;
    let diff: ClosureDiff;
    if (provenNotNixos(facts)) diff = { kind: 'not-installed', to: toplevel };
    else if (facts.current === toplevel) diff = { kind: 'same', system: toplevel };
    else {
      // The built system is needed here to copy it, or to list it when this machine is the target.
      const present = await this.closurePresent();
      if (!present || !step.copy) await this.outputsBuilt();
      if (step.copy && !present) await this.verbs.copyClosure(step.copy, step.copyTimeoutSeconds, 'diff');
      else if (step.copy) this.ctx.emit({ type: 'step-line', host: this.name, step: 'diff', line: 'closure already on the target: nothing to copy' });
      this.closureCopied = true;
      diff = await this.verbs.diff(step.compare);
    }
    this.closureDiff = diff;
    if (step.use === 'show') this.ctx.emit({ type: 'host-diff', host: this.name, diff });
    return diffSummary(diff);
  }

  /** --confirm: waits for the one answer (given once every host's diff is in); no means skipped. */
  private async confirm(): Promise<void> {
    const diff = this.closureDiff as ClosureDiff;
    const yes = this.ctx.confirmDiff ? await this.ctx.confirmDiff(diff) : false;
    if (yes) return;
    const why = this.ctx.signal.aborted ? 'interrupted at the confirmation' : this.ctx.confirmDiff ? 'not confirmed at the prompt' : 'not confirmed (no one to ask)';
    throw new ConsentRefused(this.name, 'diff', `${why}; nothing was activated`);
  }

  private async pushKeys(bootstrapping: boolean): Promise<string | Skip> {
    const planned: HostPlan['pushKeys'] = this.host.pushKeys;
    if ('never' in planned) return new Skip(planned.never);
    const step: PushKeysStep = planned;
    if (!bootstrapping && step.keys.push === 'bootstrap' && !this.scope.forceKeyPush) {
      return new Skip('keys.push is bootstrap and the host is already installed');
    }
    const resolved = await resolveKeys(this.name, step.keys, this.ctx.exec, this.ctx.signal);
    this.resolvedKeys = resolved;
    if (resolved.generated) this.note('info', `generated host key ${resolved.hostKeyPath}`);
    if (resolved.hostPublicKey && step.pinPushedKey && this.host.target.kind === 'ssh') {
      // fleet pushes this key itself, so it is pinned for every later connection.
      addKnownHosts(this.ctx.plan.paths.knownHosts, knownHostsLines(this.host.target, [resolved.hostPublicKey]));
    }
    if (bootstrapping && 'install' in this.host.bootstrap) {
      const bootstrap: BootstrapStep = this.host.bootstrap;
      if (bootstrap.staging) stageBootstrapFiles(bootstrap.staging, step.keys.destination, resolved.files, bootstrap.options.extraFiles);
      return `staged ${resolved.files.length} key file(s) for nixos-anywhere --extra-files`;
    }
    const changed = keysToPush(resolved.files, this.facts?.keys ?? {});
    if (changed.length === 0) return new Skip('identical keys already on the target');
    this.progress = 'touched';
    await this.verbs.pushKeys(step.push, changed);
    this.keysPushed = true;
    return `pushed ${changed.map((f) => f.name).join(', ')} to ${step.keys.destination}`;
  }

  /** Reads every secret's source (once per run) and sees, by the probe's keyed digests, which are in place. */
  private async readSecrets(): Promise<string | Skip> {
    const planned: HostPlan['secrets'] = this.host.secrets;
    if ('never' in planned) return new Skip(planned.never);
    const step: SecretsStep = planned;
    const reader = this.ctx.secrets ?? new SecretReader(this.ctx.exec);
    try {
      this.secretContents = await reader.readAll(this.name, 'secrets', step.secrets, this.ctx.signal);
    } catch (error) {
      if (!(error instanceof HostError) || this.ctx.signal.aborted) throw error;
      throw new HostError(this.name, 'secrets', `${error.message}; nothing on the host was changed`, error.tail, error.hint);
    }
    this.secretStates = this.verbs.secretStates(step.secrets, this.facts?.secrets ?? {}, this.secretContents);
    const out = describeOutOfPlace(step.secrets, this.secretStates);
    const read = `read ${step.secrets.length} secret${step.secrets.length === 1 ? '' : 's'} here`;
    return out.length === 0 ? `${read}; all in place on the target` : `${read}; not in place: ${out.join(', ')}`;
  }

  /** Uploads the secrets of one upload that are not in place (all of them on a host just installed). */
  private async uploadSecrets(when: 'before' | 'after'): Promise<string | Skip> {
    const step = this.host.secrets as SecretsStep;
    const upload = when === 'before' ? step.beforeActivation : step.afterActivation;
    const contents = this.secretContents;
    const states = this.secretStates;
    if (!upload || !contents || !states) return new Skip('no secrets read');
    const files = upload.secrets.flatMap((secret, index) => {
      const at = step.secrets.indexOf(secret);
      // A host just installed runs a new system: nothing the probe saw on the installer counts.
      const inPlace = !this.bootstrapped && states[at]?.kind === 'in-place';
      return inPlace ? [] : [{ index, secret, content: contents[at] as Buffer }];
    });
    if (files.length === 0) return new Skip('identical secrets already on the target');
    const names = files.map((f) => `${f.secret.name} → ${f.secret.destination}`).join(', ');
    if (!step.uploads) return new Skip(`dry-activate uploads nothing; would upload ${names}`);
    // A host whose build then fails must end with nothing changed: its system is built first.
    if (when === 'before' && this.requested('deploy')) await this.outputsBuilt();
    this.progress = 'touched';
    await this.verbs.pushSecrets(upload, files, when === 'after');
    this.secretsUploaded = true;
    return `uploaded ${names}`;
  }

  private async bootstrap(bootstrapping: boolean): Promise<string | Skip> {
    const planned: HostPlan['bootstrap'] = this.host.bootstrap;
    if ('never' in planned) return new Skip(planned.never);
    const step: BootstrapStep = planned;
    if (!bootstrapping) return new Skip('already NixOS — not bootstrapping');
    const target = this.host.target;
    const where = target.kind === 'ssh' ? `${target.user}@${target.host}` : 'this machine';
    if (!this.ctx.plan.allowBootstrap) {
      const consent = this.ctx.confirmBootstrap ? await this.ctx.confirmBootstrap(this.name, where) : false;
      if (!consent) {
        throw new ConsentRefused(this.name, 'bootstrap', `bootstrap wipes the disks of ${where}: not confirmed (run with --yes to allow it)`);
      }
    }
    await this.outputsBuilt();
    this.progress = 'touched';
    try {
      await this.verbs.install(step.install);
    } finally {
      if (step.staging) rmSync(step.staging, { recursive: true, force: true });
    }
    this.bootstrapped = true;
    // The old system's master connection is gone with it.
    await this.verbs.close();
    this.facts = await this.waitForInstalled(step);
    return `installed ${this.build.toplevel}`;
  }

  /** Waits for the installed system to answer with the pushed host key and run the built system. */
  private async waitForInstalled(step: BootstrapStep): Promise<ProbeFacts> {
    const pinned = this.verbs.pinInstalledKey(step.waitForInstalled, this.resolvedKeys?.hostPublicKey, this.ctx.plan.paths.runtimeDir);
    const deadline = this.ctx.now() + step.waitSeconds * 1000;
    let last: HostError | undefined;
    for (;;) {
      if (this.ctx.signal.aborted) throw new HostError(this.name, 'bootstrap', 'interrupted while waiting for the installed system');
      try {
        const facts = await this.verbs.probe('bootstrap', pinned);
        if (facts.current !== this.build.toplevel) {
          throw new HostError(this.name, 'bootstrap', `the host came back running ${facts.current || 'no system'}, not ${this.build.toplevel}`);
        }
        return facts;
      } catch (error) {
        if (!(error instanceof HostError)) throw error;
        last = error;
        if (!(error instanceof HostUnreachable) || this.ctx.now() >= deadline) break;
        await this.ctx.sleep(1000);
      }
    }
    throw new HostError(
      this.name,
      'bootstrap',
      `the installed system did not answer as expected within ${step.waitSeconds}s: ${last?.message ?? 'no answer'}`,
      last?.tail ?? [],
    );
  }

  /**
   * Whether the built closure is already on the target: from the probe, or asked over the held
   * lock session when that started before the system was evaluated.
   */
  private async closurePresent(): Promise<boolean> {
    const known = (this.facts as ProbeFacts).closure;
    if (known !== undefined || !this.connection?.closure) return known === 'present';
    return (await this.connection.closure(this.build.toplevel)) === 'present';
  }

  /** Waits for this host's outputs to exist here; a failed build ends the host at `build`. */
  private async outputsBuilt(): Promise<void> {
    const failure = await this.ctx.realised?.();
    if (!failure) return;
    if (this.ctx.signal.aborted) throw new BuildFailed(this.name, 'interrupted during the build');
    throw new BuildFailed(this.name, `build failed: ${failure.reason}`, failure.tail);
  }

  private describeFacts(): string {
    const facts = this.facts;
    if (!facts) return 'done';
    const locked = this.host.connect.kind === 'lock-and-probe' ? 'locked; ' : '';
    if (!facts.nixos && !facts.current) return `${locked}not NixOS (bare)`;
    return `${locked}NixOS, running ${facts.current || 'nothing'}${facts.generation !== undefined ? `, generation ${facts.generation}` : ''}`;
  }

  private async deploy(): Promise<string | Skip> {
    const step: DeployStep = this.host.deploy;
    const facts = this.facts as ProbeFacts;
    const mode = this.host.mode;
    if (provenNotNixos(facts)) {
      throw new HostError(
        this.name,
        'deploy',
        'the target is not NixOS (no /etc/NIXOS, no /run/current-system) and has no bootstrap options: nothing to deploy onto',
        [],
        'add `bootstrap:` to the host to install NixOS with nixos-anywhere',
      );
    }
    if (!this.ctx.plan.force && isDeployed(mode, facts, this.build.toplevel)) {
      return new Skip(`already runs ${this.build.toplevel}`);
    }
    const activation = step.activation;
    // ssh -G for the confirming connection runs beside the copy, not after the activation.
    if (activation.kind === 'watched') this.verbs.prepareFreshConnection(activation);
    // The probe said whether the closure is there; a bootstrap has just put it there.
    const present = this.bootstrapped || this.closureCopied || (await this.closurePresent());
    // Activation needs the built system here only to copy it, or when this machine is the target.
    if (!present || !step.copy) await this.outputsBuilt();
    if (step.copy && !present) await this.verbs.copyClosure(step.copy, step.copyTimeoutSeconds);
    else if (step.copy) this.ctx.emit({ type: 'step-line', host: this.name, step: 'deploy', line: 'closure already on the target: nothing to copy' });

    // From arming on the target may change (the watchdog acts on its own): no longer "skipped".
    if (mode !== 'dry-activate') this.progress = 'touched';
    let activated: Activated;
    if (activation.kind === 'watched' && activation.arm === 'in-activate') {
      const armedActivation = await this.verbs.armAndActivate(activation.activate, activation.timeoutSeconds, step.activationTimeoutSeconds);
      this.armed = armedActivation.armed;
      activated = armedActivation;
    } else {
      if (activation.kind === 'watched') this.armed = await this.verbs.arm(activation.arm, activation.timeoutSeconds);
      activated = await this.verbs.activate(activation.activate, step.activationTimeoutSeconds);
    }
    const { verdict, tail, timedOut } = activated;
    if (mode !== 'dry-activate') {
      this.progress = 'activated';
      this.activated = true;
    }
    if (verdict.kind === 'failed') {
      if (this.ctx.signal.aborted) {
        throw new HostError(this.name, 'deploy', `interrupted during activation${this.armed ? '; the watchdog rolls the host back unless it is confirmed' : ''}`, tail);
      }
      // A failed activation left the host reachable (or not): settle the watchdog either way.
      if (activation.kind === 'watched') await this.settle(activation, 'deploy');
      const why = timedOut ? `took longer than ${step.activationTimeoutSeconds}s (activationTimeout), stopped` : `failed (exit ${verdict.exitCode ?? verdict.signal})`;
      throw new HostError(this.name, 'deploy', `${activation.activate.purpose} ${why}`, tail);
    }
    if (verdict.kind === 'units-failed') {
      if (!step.tolerateUnitFailures) {
        if (activation.kind === 'watched') await this.settle(activation, 'deploy');
        throw new HostError(this.name, 'deploy', 'activated, but some units failed (switch-to-configuration exit 4)', tail, 'set tolerateUnitFailures: true to accept this');
      }
      this.note('warn', 'some units failed (tolerated)');
    }
    if (verdict.kind === 'reboot-required') this.note('warn', 'reboot required to complete the activation');
    return `${mode} ${this.build.toplevel}`;
  }

  private async verify(): Promise<string | Skip> {
    const planned: HostPlan['verify'] = this.host.verify;
    if ('never' in planned) return new Skip(planned.never);
    const step: VerifyStep = planned;
    const mode = this.host.mode;
    const activation = this.host.deploy.activation;
    let facts: ProbeFacts;
    if (!this.activated) {
      // Installed, nothing activated since: the installed system already answered a fresh connection.
      facts = this.facts as ProbeFacts;
    } else if (activation.kind === 'watched') {
      if (this.armed) await this.settle(activation, 'verify');
      facts = this.confirmedFacts as ProbeFacts;
    } else if (activation.check) {
      facts = await this.verbs.probe('verify', activation.check.command);
    } else {
      return new Skip('nothing to verify');
    }
    this.verifiedFacts = facts;
    if (!isDeployed(mode, facts, this.build.toplevel)) {
      const seen = mode === 'boot' ? facts.profile : facts.current;
      throw new HostError(this.name, 'verify', `expected ${this.build.toplevel} as the ${mode === 'boot' ? 'boot default' : 'live system'}, found ${seen || 'nothing'}`);
    }
    for (const check of step.healthChecks) await this.verbs.healthCheck(check);
    const checked = step.healthChecks.length > 0 ? `; health checks passed (${step.healthChecks.map((c) => c.check.name).join(', ')})` : '';
    if (mode === 'boot') return 'boot default is the built system';
    const fresh = !this.activated || activation.kind === 'watched' || activation.check?.fresh;
    const reached = fresh ? 'reachable over a fresh connection, running' : 'running';
    return `${reached} the built system${this.watchdogConfirmed ? '; watchdog confirmed' : ''}${checked}`;
  }

  /**
   * After activation: prove a brand-new connection works and confirm the watchdog; if no new
   * connection succeeds before the deadline, wait for the target to roll itself back and check.
   */
  private async settle(activation: WatchedActivation, phase: VerbStep): Promise<void> {
    const armed = this.armed as ArmedWatchdog;
    this.armed = undefined;
    const settled = await this.verbs.settle(activation, armed, phase, (at, lastFailure) => {
      this.note('warn', `lost SSH after activation${lastFailure ? ` (${lastFailure})` : ''} — target rolls back at ${at}`);
    });
    if (settled.kind === 'confirmed') {
      this.watchdogConfirmed = true;
      this.confirmedFacts = parseProbe(settled.answer, this.name);
      return;
    }
    if (settled.kind === 'interrupted') throw new Interrupted(this.name, phase, settled.reason);
    if (settled.kind === 'rolled-back') throw new WatchdogRolledBack(this.name, phase, settled.reason);
    if (settled.kind === 'unreachable') throw new UnreachableAfterDeadline(this.name, phase, settled.reason);
    throw new HostError(this.name, phase, settled.reason);
  }
}
